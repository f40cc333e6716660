"""Typed access to what SQLModel leaves loosely typed, and the dialect's INSERT … ON CONFLICT.

SQLModel types a primary key `int | None` (it is None until the row is flushed) and does not
declare the `__table__` its metaclass sets. Code that handles stored rows reads them here.
The INSERT helpers live here, not in `community.db`, because services use them and must not
import Flask (`community.db` holds the per-request session; see the import-linter contracts).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


class _Row(Protocol):
    @property
    def id(self) -> int | None: ...


def pk(row: _Row) -> int:
    """The id of a stored (loaded or flushed) row."""
    return cast(int, row.id)  # a stored row always has its id; no check, so no extra cost


def table_of(model: type[SQLModel]) -> Table:
    """The Table a `table=True` model maps."""
    return model.__table__  # type: ignore[attr-defined]  # set by SQLModel, not declared


def dialect_insert(session: Session, table: Table) -> postgresql.Insert | sqlite.Insert:
    """The session's dialect's INSERT (PostgreSQL or SQLite): it knows `ON CONFLICT`.

    For an upsert: `.on_conflict_do_update(index_elements=[...], set_=...)`.
    """
    mod = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return mod.insert(table)


def insert_ignoring(session: Session, table: Table, *,
                    on: Sequence[str]) -> postgresql.Insert | sqlite.Insert:
    """`INSERT … ON CONFLICT (on) DO NOTHING` for the session's dialect (PostgreSQL, SQLite).

    Add `.returning(...)` to learn which rows went in; run it with a list of dicts to insert
    many rows in one executemany (one compiled statement, few round trips).
    """
    return dialect_insert(session, table).on_conflict_do_nothing(index_elements=list(on))
