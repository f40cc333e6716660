"""Table models: conventions the database cannot check for us."""
from __future__ import annotations

from sqlalchemy import DateTime
from sqlmodel import SQLModel

import community.models  # noqa: F401  (registers every table)
from community.types import UTCDateTime


def test_every_datetime_column_stores_aware_utc() -> None:
    columns = [c for t in SQLModel.metadata.sorted_tables for c in t.columns]
    # A bare `datetime` field becomes a plain DateTime: same DDL, different SQLite storage.
    plain = [f"{c.table.name}.{c.name}" for c in columns if isinstance(c.type, DateTime)]
    assert plain == []
    assert sum(isinstance(c.type, UTCDateTime) for c in columns) > 20
