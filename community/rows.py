"""Typed access to what SQLModel leaves loosely typed, and the dialect's INSERT … ON CONFLICT.

SQLModel types a primary key `int | None` (it is None until the row is flushed) and does not
declare the `__table__` its metaclass sets. Code that handles stored rows reads them here.
The INSERT helpers live here, not in `community.db`, because services use them and must not
import Flask (`community.db` holds the per-request session; see the import-linter contracts).
"""
from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Protocol
from typing import cast as typed
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

from community.types import Coded


class _Row(Protocol):
    @property
    def id(self) -> int | None: ...


def pk(row: _Row) -> int:
    """The id of a stored (loaded or flushed) row."""
    return typed(int, row.id)  # a stored row always has its id; no check, so no extra cost


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
    return dialect_insert(session, table).on_conflict_do_nothing(index_elements=list(on) or None)


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@functools.cache
def _array_of(column: Any) -> postgresql.ARRAY[Any]:
    """The PostgreSQL array type of a column (built once: constructing types is not free)."""
    return postgresql.ARRAY(column.type)


def any_of(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL `column = ANY(:array)`, one parameter.

    The hot paths match batches of ids. `IN (...)` renders one placeholder per value, so every
    batch size is a new statement text, and psycopg parses a statement of more than 50
    parameters on each execution (its cache stops there): measured at a third of a 100-drop
    batch's CPU. One array parameter gives one short text that is parsed once.
    """
    values = list(values)
    if _postgresql(session):
        return typed(ColumnElement[bool], column == any_(bindparam(None, values,
                                                                   type_=_array_of(column))))
    return typed(ColumnElement[bool], column.in_(values))


def dialect_of(session: Session) -> str:
    """The session's dialect name ("postgresql" or "sqlite"): the key of prebuilt statements."""
    return session.get_bind().dialect.name


def any_param(column: Any, name: str, dialect: str) -> ColumnElement[bool]:
    """`any_of` with a named parameter instead of values, for a statement built once per
    dialect (`column = ANY(:name)` on PostgreSQL, an expanding `IN` on SQLite): bind the
    values at execution (`{name: [...]}`)."""
    if dialect == "postgresql":
        return typed(ColumnElement[bool],
                     column == any_(bindparam(name, type_=_array_of(column))))
    return typed(ColumnElement[bool], column.in_(bindparam(name, expanding=True)))


def run_prebuilt(session: Session, statement: Any,
                 params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
                 ) -> CursorResult[*tuple[Any, ...]]:
    """Run a prebuilt Core statement with its values on the session's connection (in the
    session's transaction).

    The scan path's statements are built once (module-level caches) and run here: building
    a select (its columns, comparisons and arrays) and the ORM session's execution around it
    cost more CPU than the database's work for a single drop. A prebuilt statement also
    keeps its compiled-cache key, computed once, so each run looks its SQL up for free.
    Pending ORM changes are flushed first, as `session.execute` would (autoflush): a row
    added but not yet flushed is seen.
    """
    if session.autoflush:
        session.flush()  # nothing to do (and nearly free) when no object is pending
    return session.connection().execute(statement, params)


def _json_value(value: Any) -> str:
    """JSON for what json.dumps leaves out: times as ISO 8601, decimals and UUIDs as text
    (PostgreSQL reads them back)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


@functools.cache
def _coded_columns(table: Table) -> tuple[tuple[str, Coded], ...]:
    """The table's `Coded` columns: the JSON rows of `insert_rows` carry their numbers (the
    statement reads the table's row type, so no bind processor sees the values)."""
    return tuple((c.name, c.type) for c in table.c if isinstance(c.type, Coded))


@functools.cache
def _insert_from_json(table: Table, names: tuple[str, ...], on: tuple[str, ...],
                      returning: tuple[Any, ...]) -> Any:
    """The PostgreSQL statement of `insert_rows`, built once per shape: building it (17
    columns, a function, a row type) cost more CPU than running it."""
    # The table's name is a constant of our models, never input: a row type, not data.
    source = func.json_populate_recordset(
        literal_column(f"NULL::{table.name}"),
        cast(bindparam("rows_json", type_=Text()), postgresql.JSON)).table_valued(*names)
    stmt: Any = (postgresql.insert(table).from_select(names, select(*(source.c[n] for n in names)))
                 .on_conflict_do_nothing(index_elements=list(on) or None))
    return stmt.returning(*returning) if returning else stmt


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]], *,
                on: Sequence[str], returning: Sequence[Any] = ()
                ) -> CursorResult[*tuple[Any, ...]]:
    """`INSERT … ON CONFLICT (on) DO NOTHING [RETURNING …]` of many rows (all with the same
    keys) in one statement.

    On PostgreSQL the rows travel as ONE JSON parameter read back with the table's own row
    type (`SELECT … FROM json_populate_recordset(NULL::table, :rows)`), in a statement built
    once per shape: a short text that never changes, parsed once by the driver, and one
    `json.dumps` in C. (A multi-row VALUES list of a 100-drop batch has 1,700 parameters,
    parsed anew on every execution; one array per column is a fixed text too, but psycopg
    builds array literals in Python and the statement of 17 `unnest()` cost more to build
    than to run: together a third of a single drop's CPU.) SQLite gets SQLAlchemy's
    multi-row insert. A row that conflicts, with a stored row or one earlier in `rows`, is
    skipped.
    """
    if _postgresql(session):
        names = tuple(n for n in rows[0] if n in table.c)  # the rows may carry other keys
        coded = [(n, t) for n, t in _coded_columns(table) if n in names]
        plain = [{n: r[n] for n in names} for r in rows]
        for r in plain:
            for n, t in coded:
                r[n] = t.process_bind_param(r[n], None)
        payload = json.dumps(plain, default=_json_value, ensure_ascii=False)
        stmt = _insert_from_json(table, names, tuple(on), tuple(returning))
        return run_prebuilt(session, stmt, {"rows_json": payload})
    ins: Any = insert_ignoring(session, table, on=on)
    if returning:
        ins = ins.returning(*returning)
    if any(n not in table.c for n in rows[0]):
        rows = [{n: v for n, v in r.items() if n in table.c} for r in rows]
    return typed(CursorResult[*tuple[Any, ...]], session.execute(ins, list(rows)))
