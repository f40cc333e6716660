"""Lenient query-string readers for list pages: junk in a filter is treated as absent."""
from __future__ import annotations

from datetime import date

from flask import request


def int_arg(name: str) -> int | None:
    """An optional non-negative integer query argument."""
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def date_arg(name: str) -> date | None:
    """An optional YYYY-MM-DD query argument."""
    try:
        return date.fromisoformat(request.args.get(name, "")[:10])
    except ValueError:
        return None
