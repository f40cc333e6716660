"""Typed access to what SQLModel leaves loosely typed, and the dialect's INSERT … ON CONFLICT.

SQLModel types a primary key `int | None` (it is None until the row is flushed) and does not
declare the `__table__` its metaclass sets. Code that handles stored rows reads them here.
The INSERT helpers live here, not in `community.db`, because services use them and must not
import Flask (`community.db` holds the per-request session; see the import-linter contracts).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, cast

from sqlalchemy import ColumnElement, CursorResult, Table, any_, bindparam, func, select
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


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def any_of(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL `column = ANY(:array)`, one parameter.

    The hot paths match batches of ids. `IN (...)` renders one placeholder per value, so every
    batch size is a new statement text, and psycopg parses a statement of more than 50
    parameters on each execution (its cache stops there): measured at a third of a 100-drop
    batch's CPU. One array parameter gives one short text that is parsed once.
    """
    values = list(values)
    if _postgresql(session):
        return cast(ColumnElement[bool], column == any_(
            bindparam(None, values, type_=postgresql.ARRAY(column.type))))
    return cast(ColumnElement[bool], column.in_(values))


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]], *,
                on: Sequence[str], returning: Sequence[Any] = ()
                ) -> CursorResult[*tuple[Any, ...]]:
    """`INSERT … ON CONFLICT (on) DO NOTHING [RETURNING …]` of many rows (all with the same
    keys) in one statement.

    On PostgreSQL the rows travel as one array per column (`SELECT unnest(:a), unnest(:b)…`):
    a short statement with one parameter per column whatever the number of rows, which the
    driver parses once (a multi-row VALUES list of a 100-drop batch has 1,700 parameters and
    is parsed anew on every execution). SQLite gets SQLAlchemy's multi-row insert.
    A row that conflicts, with a stored row or one earlier in `rows`, is skipped.
    """
    if _postgresql(session):
        names = [n for n in rows[0] if n in table.c]  # the rows may carry other keys
        arrays = [func.unnest(bindparam(f"u_{n}", [r[n] for r in rows],
                                        type_=postgresql.ARRAY(table.c[n].type)))
                  for n in names]
        stmt: Any = (postgresql.insert(table).from_select(names, select(*arrays))
                     .on_conflict_do_nothing(index_elements=list(on)))
        if returning:
            stmt = stmt.returning(*returning)
        return cast(CursorResult[*tuple[Any, ...]], session.execute(stmt))
    ins: Any = insert_ignoring(session, table, on=on)
    if returning:
        ins = ins.returning(*returning)
    return cast(CursorResult[*tuple[Any, ...]], session.execute(ins, list(rows)))
