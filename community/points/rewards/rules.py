"""Pure rules of the rewards: the local calendar period a per-household limit counts in."""
from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo


def period_bounds(day: date, period: str) -> tuple[date, date]:
    """The first day of `day`'s month, quarter or year and the first day after it."""
    if period == "month":
        start = day.replace(day=1)
        months = 1
    elif period == "quarter":
        start = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        months = 3
    elif period == "year":
        return date(day.year, 1, 1), date(day.year + 1, 1, 1)
    else:
        raise ValueError(f"unknown period {period!r}")
    month = start.month - 1 + months
    return start, date(start.year + month // 12, month % 12 + 1, 1)


def local_midnight(day: date, tz: str) -> datetime:
    """The aware UTC moment a local day starts in a time zone."""
    return datetime.combine(day, time(0), ZoneInfo(tz)).astimezone(UTC)
