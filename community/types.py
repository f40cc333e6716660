"""Column types shared by the models.

`UTCDateTime` stores aware datetimes as UTC and always returns aware UTC: SQLite has
no time zone, so a plain UTCDateTime() would silently keep the wall time of
whatever offset was bound and hand back naive values.

Every datetime field of a table model names it: `Field(sa_type=UTCDateTime())`. Leaving it
out looks harmless (SQLModel maps a bare `datetime` to its own type with the same DDL, so
Alembic sees nothing) but stores SQLite values differently; tests/test_models.py checks.

`Coded` stores a closed set of text codes (a drop's category, quality, source) as SMALLINT
numbers while every Python caller keeps reading and comparing the strings.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import DateTime, SmallInteger, String, case, literal, null, type_coerce
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


class Coded(TypeDecorator):
    """A closed set of text codes stored as small integers (SMALLINT): Python, the models
    and Core expressions see and compare the strings (`Drop.quality == "correct"` binds 1);
    an unknown string is refused before it reaches the database.

    `codes` maps each string to its stored number, fixed forever (a new code takes a new
    number; a number is never reused). Raw SQL sees the numbers: `sql_case` gives the
    strings back where a statement must hand text on (a rollup's text column).
    """

    impl = SmallInteger
    cache_ok = True

    def __init__(self, codes: Mapping[str, int]) -> None:
        super().__init__()
        self.codes: tuple[tuple[str, int], ...] = tuple(codes.items())
        self._number = dict(self.codes)
        self._text = {n: c for c, n in self.codes}
        if len(self._text) != len(self.codes):
            raise ValueError("two codes share a number")

    @property
    def python_type(self) -> type:
        return str

    def process_bind_param(self, value: str | None, dialect: Any) -> int | None:
        if value is None:
            return None
        try:
            return self._number[value]
        except (KeyError, TypeError):
            raise ValueError(f"unknown code {value!r}; expected one of "
                             f"{', '.join(self._number)}") from None

    def process_literal_param(self, value: str | None, dialect: Any) -> str:
        return "NULL" if value is None else str(self.process_bind_param(value, dialect))

    def process_result_value(self, value: int | None, dialect: Any) -> str | None:
        if value is None:
            return None
        try:
            return self._text[value]
        except KeyError:
            raise ValueError(f"unknown stored code {value!r}") from None

    def number(self, code: str) -> int:
        """The stored number of `code` (for raw SQL and CHECK constraints)."""
        return cast(int, self.process_bind_param(code, None))

    def check(self, column: str) -> str:
        """A CHECK constraint's text: `column` holds one of the numbers."""
        return f"{column} IN ({', '.join(str(n) for _c, n in self.codes)})"

    def sql_case(self, column: Any) -> Any:
        """`column` (of this type) as its text code in SQL (a CASE on the number)."""
        return case({n: literal(c, String()) for c, n in self.codes},
                    value=type_coerce(column, SmallInteger()), else_=null()).label(None)
