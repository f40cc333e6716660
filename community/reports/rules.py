"""Report rules, pure: deadlines, what each state allows, escalation, 按期处置率.

No Flask, no database: times are aware datetimes, kinds and states are codes.

按期处置率 (DOMAIN.md) = reports handled by their deadline / reports due in the period:
- a report is *due in a period* when its deadline (`due_at`, fixed when it was made) falls
  in the period [start, end) and either that deadline has passed (by `as_of`) or it has
  already been handled: a report not yet due and not yet handled is still undecided;
- it is *handled by its deadline* when the handling that stands (`handled_at`; a reopening
  clears it until it is handled again) is at or before the deadline: handled one second
  before or exactly at the deadline is on time, one second after is late;
- a reopened report therefore counts on time only if it is handled again by its original
  deadline;
- no report due: "not available" (None), never 0% or 100%.
"""
from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

KINDS = ("overflow", "dumping", "broken", "missed_pickup", "odour", "no_offhours_point",
         "mixed_collection", "other")
# Built-in deadlines in hours (DOMAIN.md: 满溢 4 h, 漏收 12 h, 设施损坏 72 h); a city
# publishes its own in a new version.
DEFAULT_HOURS: Mapping[str, int] = {
    "overflow": 4, "dumping": 24, "broken": 72, "missed_pickup": 12, "odour": 24,
    "no_offhours_point": 72, "mixed_collection": 24, "other": 48,
}
MIN_HOURS, MAX_HOURS = 1, 24 * 30
# Kinds that go to the street, not the community (the truck is the street's contract).
STREET_KINDS = frozenset({"mixed_collection"})
# Supervision-log incident → report kind (late drops are counted by the scans themselves).
INCIDENT_KINDS: Mapping[str, str] = {"full_bin": "overflow", "dumping": "dumping",
                                     "broken_station": "broken"}
OPEN = ("new", "assigned", "in_progress", "reopened")
NEXT_LEVEL: Mapping[str, str] = {"community": "street", "street": "district"}
REOPEN_LIMIT = 1


def hours_for(kind: str, hours: Mapping[str, int] | None = None) -> int:
    """The deadline of a kind in hours under a city's published hours (defaults fill gaps)."""
    given = (hours or {}).get(kind)
    return int(given) if isinstance(given, int) and not isinstance(given, bool) \
        else DEFAULT_HOURS[kind]


def deadline(made_at: datetime, hours: int) -> datetime:
    """When a report made at `made_at` with `hours` to handle it is due."""
    return made_at + timedelta(hours=hours)


def first_level(kind: str) -> str:
    """Where a new report of `kind` goes: the community, or the street (混收混运)."""
    return "street" if kind in STREET_KINDS else "community"


def is_open(status: str) -> bool:
    """Whether a report still waits for handling."""
    return status in OPEN


def overdue(status: str, level_due_at: datetime, now: datetime) -> bool:
    """An open report past the deadline of its current level."""
    return is_open(status) and now > level_due_at


def escalation(status: str, level: str, level_due_at: datetime, now: datetime
               ) -> str | None:
    """The level an overdue report moves to now (None: not overdue, or already at the
    top level, the district)."""
    if not overdue(status, level_due_at, now):
        return None
    return NEXT_LEVEL.get(level)


def refusal(action: str, *, status: str, reopen_count: int = 0,
            reason: str = "") -> str | None:
    """Why `action` cannot be done to a report in `status` (a code), or None when it can.

    start: an open report not yet in progress; handle: an open report (handled twice is
    refused); confirm: a handled report; reopen: a handled report, once, with a reason.
    """
    if action == "start":
        return None if status in ("new", "assigned", "reopened") else "not_open"
    if action == "handle":
        if status in ("handled", "confirmed"):
            return "already_handled"
        return None if is_open(status) else "not_open"
    if action in ("confirm", "reopen"):
        if status != "handled":
            return "not_handled"
        if action == "reopen":
            if reopen_count >= REOPEN_LIMIT:
                return "reopened_once"
            if not reason.strip():
                return "reason_required"
        return None
    raise ValueError(f"unknown action {action!r}")


@dataclass(frozen=True)
class RateFact:
    """What the rate needs of one report: its deadline and the handling that stands."""

    due_at: datetime
    handled_at: datetime | None


@dataclass(frozen=True)
class Rate:
    """按期处置率 of a period: on time / due (None when nothing was due)."""

    due: int
    on_time: int

    @property
    def value(self) -> float | None:
        """The rate as a fraction, or None (not available)."""
        return self.on_time / self.due if self.due else None

    @property
    def late(self) -> int:
        """Reports due in the period not handled by their deadline."""
        return self.due - self.on_time


def on_time(fact: RateFact) -> bool:
    """Handled at or before its deadline."""
    return fact.handled_at is not None and fact.handled_at <= fact.due_at


def rate(facts: Iterable[RateFact], start: datetime, end: datetime, as_of: datetime) -> Rate:
    """按期处置率 over reports whose deadline lies in [start, end), as known at `as_of`."""
    due = good = 0
    for f in facts:
        if not start <= f.due_at < end:
            continue
        if f.due_at >= as_of and (f.handled_at is None or f.handled_at > as_of):
            continue  # not yet due, not yet handled: undecided
        due += 1
        good += on_time(f)
    return Rate(due, good)


def month_bounds(month: date, tz: str) -> tuple[datetime, datetime]:
    """The local calendar month holding `month` as a UTC interval [start, end)."""
    zone = ZoneInfo(tz)
    first = month.replace(day=1)
    last = calendar.monthrange(first.year, first.month)[1]
    after = first + timedelta(days=last)
    return (datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC),
            datetime.combine(after, time(0), tzinfo=zone).astimezone(UTC))


def week_of(day: date) -> date:
    """The Monday of a day's week (the charts count reports by week)."""
    return day - timedelta(days=day.weekday())
