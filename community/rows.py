"""Typed access to what SQLModel leaves loosely typed.

SQLModel types a primary key `int | None` (it is None until the row is flushed) and does not
declare the `__table__` its metaclass sets. Code that handles stored rows reads them here.
"""
from __future__ import annotations

from typing import Protocol, cast

from sqlalchemy import Table
from sqlmodel import SQLModel


class _Row(Protocol):
    @property
    def id(self) -> int | None: ...


def pk(row: _Row) -> int:
    """The id of a stored (loaded or flushed) row."""
    return cast(int, row.id)  # a stored row always has its id; no check, so no extra cost


def table_of(model: type[SQLModel]) -> Table:
    """The Table a `table=True` model maps."""
    return model.__table__  # type: ignore[attr-defined]  # set by SQLModel, not declared
