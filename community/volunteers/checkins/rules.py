"""When a steward may check in and out, and the minutes a shift counts (pure: no Flask, no
database).

Check-in opens 30 minutes before a shift starts and closes at its end; check-out is accepted
until 15 minutes after the end (the linked drops of a shift without a check-out run to then).
"""
from __future__ import annotations

from datetime import datetime, timedelta

CHECK_IN_EARLY = timedelta(minutes=30)
CHECK_OUT_LATE = timedelta(minutes=15)


def minutes_between(start: datetime, end: datetime) -> int:
    """Whole minutes from `start` to `end` (never negative)."""
    return max(0, int((end - start).total_seconds() // 60))
