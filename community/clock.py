"""The only wall-clock read in the code base, and local-time helpers.

Tests freeze time with `clock.freeze(moment)`; everything else calls `clock.now()`.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

_frozen: datetime | None = None
DEFAULT_TZ = "Asia/Shanghai"


def now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return _frozen if _frozen is not None else datetime.now(UTC)


@contextmanager
def freeze(moment: datetime) -> Iterator[None]:
    """Make `now()` return `moment` (aware) inside the block; for tests and hand runs."""
    global _frozen
    if moment.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    previous, _frozen = _frozen, moment.astimezone(UTC)
    try:
        yield
    finally:
        _frozen = previous


def local(moment: datetime, tz: str = DEFAULT_TZ) -> datetime:
    """Convert an aware datetime to the given zone."""
    return moment.astimezone(ZoneInfo(tz))
