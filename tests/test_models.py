"""Table models: conventions the database cannot check for us."""
from __future__ import annotations

from sqlalchemy import Column, DateTime, MetaData, Table
from sqlmodel import SQLModel
from sqlmodel.sql import sqltypes

import community.models  # noqa: F401  (registers every table)
from community.types import UTCDateTime


def _not_ours(table: object) -> list[str]:
    """Datetime columns whose type is not community.types.UTCDateTime."""
    out = []
    for c in table.columns:  # type: ignore[attr-defined]
        impl = getattr(c.type, "impl", c.type)
        if isinstance(impl, DateTime) and not isinstance(c.type, UTCDateTime):
            out.append(f"{c.table.name}.{c.name}")
    return out


def test_every_datetime_column_stores_aware_utc() -> None:
    # A bare `datetime` field gets SQLModel's own type: same DDL, different SQLite storage.
    assert [n for t in SQLModel.metadata.sorted_tables for n in _not_ours(t)] == []
    assert sum(isinstance(c.type, UTCDateTime)
               for t in SQLModel.metadata.sorted_tables for c in t.columns) > 20


def test_the_check_sees_a_bare_datetime_field() -> None:
    # What SQLModel gives a bare `datetime` field (its own TypeDecorator in 0.0.50), and a
    # plain DateTime; a table, not a model class, so no class joins the shared registry.
    bare = getattr(sqltypes, "UTCDateTime", DateTime)
    probe = Table("probe", MetaData(), Column("at", bare()), Column("plain", DateTime()),
                  Column("ours", UTCDateTime()))
    assert _not_ours(probe) == ["probe.at", "probe.plain"]
