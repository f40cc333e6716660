"""Column types shared by the models.

`UTCDateTime` stores aware datetimes as UTC and always returns aware UTC: SQLite has
no time zone, so a plain UTCDateTime() would silently keep the wall time of
whatever offset was bound and hand back naive values.

Every datetime field of a table model names it: `Field(sa_type=UTCDateTime())`. Leaving it
out looks harmless (SQLModel maps a bare `datetime` to its own type with the same DDL, so
Alembic sees nothing) but stores SQLite values differently; tests/test_models.py checks.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Aware UTC in, aware UTC out; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store aware UTC (use community.clock.now())")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
