"""Hours arithmetic of stewards' service (工时): points for approved minutes, the limits a
manager's correction must respect, hours for people, report periods and masked names.

Pure: no DB, no Flask. The services and views feed plain numbers and dates.
"""
from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

MAX_MINUTES = 1440  # one shift can never be longer than a day (the table checks it too)
MAX_PERIOD_DAYS = 3660  # a certificate or report covers at most about ten years
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def points_for_minutes(minutes: int, rate: int) -> int:
    """Points for approved minutes at `rate` points per hour: floor(minutes × rate / 60).

    Rounded down so that splitting hours never earns more than the hours are worth.
    """
    if minutes < 0 or rate < 0:
        raise ValueError("minutes and rate must be >= 0")
    return minutes * rate // 60


def format_hours(minutes: int) -> str:
    """Minutes as hours for people, at most two decimals: 150 → '2.5', 100 → '1.67', 0 → '0'."""
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def month_bounds(day: date) -> tuple[date, date]:
    """The first and last day of the month of `day`."""
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


def year_bounds(day: date) -> tuple[date, date]:
    """The first and last day of the year of `day`."""
    return date(day.year, 1, 1), date(day.year, 12, 31)


def parse_month(text: str | None) -> tuple[date, date] | None:
    """'2026-10' → (2026-10-01, 2026-10-31); None when it is not a month."""
    m = _MONTH.match((text or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1:
        return None
    return month_bounds(date(int(m.group(1)), int(m.group(2)), 1))


def valid_period(day_from: date | None, day_to: date | None) -> bool:
    """A period people may ask for: both days, in order, at most MAX_PERIOD_DAYS long."""
    if day_from is None or day_to is None or day_from > day_to:
        return False
    return day_to - day_from <= timedelta(days=MAX_PERIOD_DAYS - 1)


def mask_name(name: str) -> str:
    """A name as a public page shows it: the first character and one star ('张三' → '张*').

    One star whatever the length, so the page does not reveal how long the name is.
    """
    name = (name or "").strip()
    return f"{name[0]}*" if name else "*"
