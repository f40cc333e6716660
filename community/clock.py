"""The only wall-clock read in the code base, and local-time helpers.

Tests freeze time with `clock.freeze(moment)`; everything else calls `clock.now()`.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# (moment, monotonic reading when frozen, ticking?) while frozen, else None.
_frozen: tuple[datetime, float, bool] | None = None
DEFAULT_TZ = "Asia/Shanghai"


def now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    if _frozen is None:
        return datetime.now(UTC)
    moment, since, tick = _frozen
    return moment + timedelta(seconds=time.monotonic() - since) if tick else moment


_now = now  # for functions whose `now=` argument shadows the module's clock


@contextmanager
def freeze(moment: datetime, *, tick: bool = False) -> Iterator[None]:
    """Make `now()` return `moment` (aware) inside the block; for tests and hand runs.

    With `tick`, the clock starts at `moment` and then runs at the real pace, so durations
    stay real while the date is fixed (the test suite's default clock).
    """
    global _frozen
    if moment.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    previous, _frozen = _frozen, (moment.astimezone(UTC), time.monotonic(), tick)
    try:
        yield
    finally:
        _frozen = previous


def local(moment: datetime, tz: str = DEFAULT_TZ) -> datetime:
    """Convert an aware datetime to the given zone."""
    return moment.astimezone(ZoneInfo(tz))


def local_today(tz: str = DEFAULT_TZ, now: datetime | None = None) -> date:
    """Today's date in a time zone (a community's `timezone`), at `now` or the clock's now."""
    return local(now or _now(), tz).date()
