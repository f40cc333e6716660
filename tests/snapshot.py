"""Every table's rows at one moment, for tests that prove a refused request changed nothing
(tests/test_scope.py, tests/fuzz/test_hostile.py)."""
from __future__ import annotations

from collections.abc import Collection
from functools import cache

from sqlalchemy import (
    Select,
    String,
    Table,
    TextClause,
    exists,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.engine import Dialect
from sqlmodel import Session, SQLModel


@cache
def _probe(dialect: Dialect, names: tuple[str, ...]) -> TextClause:
    """One query naming the tables of `names` that hold rows (compiled once per dialect)."""
    tables = [SQLModel.metadata.tables[n] for n in names]
    stmt = union_all(*(
        select(literal(t.name, String())).where(exists(select(literal(1)).select_from(t)))
        for t in tables))
    return text(str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True})))


@cache
def _rows(table: Table) -> Select:
    return select(table).order_by(*table.primary_key.columns)


def every_table(session: Session, *, skip: Collection[str] = ()) -> dict[str, list[tuple]]:
    """The rows of every table but `skip`, each in primary-key order, read in a fresh
    transaction that is ended after. One query finds the tables that hold rows (a handful of
    the ~65 in a test) and only those are read; the others are empty lists."""
    session.expire_all()
    session.commit()  # a fresh read (SQLite keeps a reader's snapshot)
    tables = [t for t in SQLModel.metadata.sorted_tables if t.name not in skip]
    conn = session.connection()
    held = set(conn.execute(_probe(conn.dialect, tuple(t.name for t in tables))).scalars())
    out = {t.name: [tuple(r) for r in conn.execute(_rows(t))] if t.name in held else []
           for t in tables}
    session.commit()  # end the read transaction before the app's requests run
    return out
