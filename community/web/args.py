"""Lenient query-string readers for list pages: junk in a filter is treated as absent."""
from __future__ import annotations

from datetime import date

from flask import request

from community.schemas import EARLIEST_YEAR, INT_MAX, LATEST_YEAR


def int_arg(name: str) -> int | None:
    """An optional non-negative integer query argument, at most PostgreSQL `integer`."""
    value = request.args.get(name, "")
    # ASCII digits only (isdigit() accepts "²"), and short before int() reads it.
    if not (value.isascii() and value.isdigit()) or len(value) > len(str(INT_MAX)):
        return None
    number = int(value)
    return number if number <= INT_MAX else None


def date_arg(name: str) -> date | None:
    """An optional YYYY-MM-DD query argument within the sane years."""
    try:
        day = date.fromisoformat(request.args.get(name, "")[:10])
    except ValueError:
        return None
    return day if EARLIEST_YEAR <= day.year <= LATEST_YEAR else None


def month_arg(name: str) -> date | None:
    """An optional YYYY-MM (or YYYY-MM-DD) query argument as its month's first day, within the
    sane years (so the month after it and the one before it exist)."""
    raw = request.args.get(name, "")[:10]
    try:
        day = date.fromisoformat(raw[:7] + "-01")
    except ValueError:
        return None
    return day if EARLIEST_YEAR <= day.year <= LATEST_YEAR else None
