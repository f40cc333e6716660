"""Rotas from station windows, and steward coverage (pure: no Flask, no database).

The sign-up cut-off and the assignment statuses that hold a place on a shift, and three
calculations the shift services build on:

- `plan_shifts`: a station's weekly windows and date exceptions, laid over a range of local
  dates, give the shifts that should exist (one per window occurrence). A window whose end is
  not after its start runs past midnight; an exception with no times closes its day, one with
  times replaces that day's windows (the same reading as `community.stations.windows`, so a
  shift and the drops' in-window verdict agree). Times are local to the community's zone and
  DST-aware: a window that falls wholly in a spring-forward gap does not happen that day.
- `reconcile`: the shifts that exist against the ones that should, for one station. Exact
  matches are kept; a shift nobody signed up for is moved to the changed window it overlaps,
  reopened, or cancelled; a shift someone holds is left alone ("held") for the manager.
- `shift_state` / `coverage_rate`: DOMAIN.md's steward coverage (督导到位率). A window is
  staffed when at least one steward was checked in during it: a presence [check-in,
  check-out) overlapping the window [start, end). A check-in exactly at the end, or a
  check-out exactly at the start, does not staff it; an open check-out counts as still
  present. Before a shift starts it shows signed-up against needed instead.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

DEFAULT_NEEDED = 1
MAX_NEEDED = 20          # the schema's ck_shift_needed
MAX_WEEKS = 12           # how far ahead a manager may generate in one go
# Stewards sign up or cancel until this long before a shift starts; managers are not bound.
SIGNUP_CUTOFF = timedelta(hours=2)
CUTOFF_HOURS = int(SIGNUP_CUTOFF.total_seconds() // 3600)
ACTIVE = ("signed_up", "done", "no_show")  # assignment statuses that hold a place


@dataclass(frozen=True)
class WindowSpec:
    """One weekly window of a station (weekday 0 = Monday), as stored."""

    id: int | None
    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class ExceptionSpec:
    """A date exception: no times closes the day, times give that day's special hours."""

    day: date
    start: time | None = None
    end: time | None = None


@dataclass(frozen=True)
class ShiftSpec:
    """A shift that should exist: from window `window_id` (None for special hours).

    `local_date` is the community-local date the window starts on; `starts_at`/`ends_at` are
    aware UTC instants (show them with `community.clock.local`).
    """

    window_id: int | None
    local_date: date
    starts_at: datetime
    ends_at: datetime
    needed: int = DEFAULT_NEEDED


def _ranges_by_day(exceptions: Iterable[ExceptionSpec]) -> dict[date, list[tuple[time, time]]]:
    """Exception days and their special ranges (an empty list: closed that day)."""
    out: dict[date, list[tuple[time, time]]] = {}
    for e in exceptions:
        ranges = out.setdefault(e.day, [])
        if e.start is not None and e.end is not None:
            ranges.append((e.start, e.end))
    return out


def occurrence(day: date, start: time, end: time, tz: str) -> tuple[datetime, datetime] | None:
    """Start and end (aware UTC) of a local range on local date `day`; None if it can't happen.

    An end not after the start runs past midnight. A wall time that does not exist (inside a
    spring-forward gap) is read with the offset before the jump, as zoneinfo and the drop
    classifier do; a range that then ends at or before its start (02:30–03:00 when clocks jump
    from 02:00 to 03:00) does not happen that day. The result is in UTC on purpose: Python
    subtracts and compares two datetimes of the SAME zone by wall time, which is wrong
    across a DST change.
    """
    zone = ZoneInfo(tz)
    end_day = day if end > start else day + timedelta(days=1)
    starts = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
    ends = datetime.combine(end_day, end, tzinfo=zone).astimezone(UTC)
    if ends <= starts:
        return None
    return starts, ends


def plan_shifts(windows: Sequence[WindowSpec], exceptions: Iterable[ExceptionSpec],
                first_day: date, last_day: date, tz: str,
                needed: int = DEFAULT_NEEDED) -> list[ShiftSpec]:
    """The shifts of one station for local dates first_day..last_day (inclusive), by start."""
    special = _ranges_by_day(exceptions)
    weekly: dict[int, list[WindowSpec]] = {}
    for w in windows:
        weekly.setdefault(w.weekday, []).append(w)
    out: list[ShiftSpec] = []
    day = first_day
    while day <= last_day:
        ranges: list[tuple[int | None, time, time]]
        if day in special:
            ranges = [(None, a, b) for a, b in special[day]]
        else:
            ranges = [(w.id, w.start, w.end) for w in weekly.get(day.weekday(), [])]
        for window_id, start, end in ranges:
            when = occurrence(day, start, end, tz)
            if when is not None:
                out.append(ShiftSpec(window_id, day, when[0], when[1], needed))
        day += timedelta(days=1)
    out.sort(key=lambda s: s.starts_at)
    return out


def local_range(today: date, weeks: int) -> tuple[date, date]:
    """The local dates `weeks` weeks from today on (today included)."""
    return today, today + timedelta(days=7 * weeks - 1)


# --- Reconciling existing shifts with the schedule ----------------------------------------

@dataclass(frozen=True)
class ExistingShift:
    """A stored future shift, with whether any steward holds it (an active assignment)."""

    id: int
    window_id: int | None
    local_date: date
    starts_at: datetime
    ends_at: datetime
    status: str
    filled: bool


@dataclass
class Plan:
    """What to do for one station so its future shifts follow the schedule."""

    create: list[ShiftSpec] = field(default_factory=list)
    update: list[tuple[int, ShiftSpec]] = field(default_factory=list)  # move or reopen
    cancel: list[int] = field(default_factory=list)
    relink: list[tuple[int, int | None]] = field(default_factory=list)  # window id only
    kept: int = 0   # already as scheduled
    held: int = 0   # off the schedule, but a steward holds it: left for the manager


def _overlap(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> float:
    """Seconds two intervals share (0 when they only touch or are apart)."""
    return max(0.0, (min(a_end, b_end) - max(a_start, b_start)).total_seconds())


def reconcile(existing: Sequence[ExistingShift], desired: Sequence[ShiftSpec]) -> Plan:
    """Compare one station's future shifts with its schedule; decide creates, moves, cancels.

    1. A shift starting exactly when a desired one starts is that shift: kept when it is open
       and ends as scheduled, else updated (new end, reopened) unless a steward holds it.
    2. Per local date, the rest are paired: same window first, then the largest overlap. A
       pair is a move (or, when a steward holds the shift, the shift is held and the desired
       one dropped, so no second overlapping shift appears). Shifts with no partner are
       cancelled (held when filled); desired shifts with no partner are created.
    """
    plan = Plan()
    by_start = {e.starts_at: e for e in existing}
    matched: set[int] = set()
    rest: list[ShiftSpec] = []
    for spec in desired:
        e = by_start.get(spec.starts_at)
        if e is None:
            rest.append(spec)
            continue
        matched.add(e.id)
        if e.ends_at == spec.ends_at and e.status == "open":
            plan.kept += 1
            if e.window_id != spec.window_id:
                plan.relink.append((e.id, spec.window_id))
        elif e.filled:
            plan.held += 1
        else:
            plan.update.append((e.id, spec))
    loose = [e for e in existing if e.id not in matched and e.status == "open"]
    days = sorted({e.local_date for e in loose} | {s.local_date for s in rest})
    for day in days:
        shifts = [e for e in loose if e.local_date == day]
        specs = [s for s in rest if s.local_date == day]
        candidates = []
        for e in shifts:
            for i, s in enumerate(specs):
                same = e.window_id is not None and e.window_id == s.window_id
                shared = _overlap(e.starts_at, e.ends_at, s.starts_at, s.ends_at)
                if same or shared > 0:
                    gap = abs((e.starts_at - s.starts_at).total_seconds())
                    candidates.append((0 if same else 1, -shared, gap, e.id, i, e, s))
        candidates.sort(key=lambda c: c[:5])
        used_shifts: set[int] = set()
        used_specs: set[int] = set()
        for *_, e, s in candidates:
            i = specs.index(s)
            if e.id in used_shifts or i in used_specs:
                continue
            used_shifts.add(e.id)
            used_specs.add(i)
            if e.filled:
                plan.held += 1
            else:
                plan.update.append((e.id, s))
        for e in shifts:
            if e.id not in used_shifts:
                if e.filled:
                    plan.held += 1
                else:
                    plan.cancel.append(e.id)
        plan.create.extend(s for i, s in enumerate(specs) if i not in used_specs)
    return plan


# --- Coverage ------------------------------------------------------------------------------

STATES = ("staffed", "unstaffed", "ongoing", "filled", "short", "empty")


@dataclass(frozen=True)
class Presence:
    """A steward's time at a shift: checked in, and checked out (None: not yet)."""

    checked_in_at: datetime
    checked_out_at: datetime | None = None


@dataclass(frozen=True)
class ShiftState:
    """A shift's coverage state and the counts shown with it.

    Past shifts are `staffed` or `unstaffed`; a running one is `staffed` as soon as someone
    is checked in, else `ongoing`; an upcoming one is `filled`, `short` or `empty` by its
    sign-ups against `needed`.
    """

    state: str
    signed_up: int
    needed: int
    present: int

    @property
    def decided(self) -> bool:
        """True once the shift is over: it counts in the coverage rate."""
        return self.state in ("staffed", "unstaffed")


def was_present(p: Presence, starts_at: datetime, ends_at: datetime) -> bool:
    """Whether a presence overlaps the window [starts_at, ends_at) (touching is not enough)."""
    if p.checked_in_at >= ends_at:
        return False
    return p.checked_out_at is None or p.checked_out_at > starts_at


def shift_state(starts_at: datetime, ends_at: datetime, needed: int, signed_up: int,
                presences: Iterable[Presence], now: datetime) -> ShiftState:
    """The coverage state of one (open) shift at `now`."""
    present = sum(1 for p in presences if p.checked_in_at <= now
                  and was_present(p, starts_at, ends_at))
    if now < starts_at:
        state = "filled" if signed_up >= needed else "short" if signed_up else "empty"
    elif present:
        state = "staffed"
    else:
        state = "unstaffed" if now >= ends_at else "ongoing"
    return ShiftState(state, signed_up, needed, present)


@dataclass(frozen=True)
class Rate:
    """A rate with its numerator and denominator; `value` is None when there is nothing to count."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """The share in 0..1, or None ("not available") for a zero denominator."""
        return self.numerator / self.denominator if self.denominator else None


def coverage_rate(states: Iterable[ShiftState]) -> Rate:
    """督导到位率: staffed windows / scheduled windows that are over."""
    decided = [s for s in states if s.decided]
    return Rate(sum(1 for s in decided if s.state == "staffed"), len(decided))


def needs_help(state: ShiftState) -> bool:
    """An upcoming shift with fewer sign-ups than needed (the at-risk list)."""
    return state.state in ("short", "empty")


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def fits_availability(availability: Iterable[Mapping[str, Any]], start: datetime,
                      end: datetime) -> bool:
    """Whether a shift (local start and end, one day) lies inside one of a steward's weekly
    availability slots ({"weekday": 0-6, "start": "HH:MM", "end": "HH:MM"})."""
    begins, ends = start.strftime("%H:%M"), end.strftime("%H:%M")
    return any(int(slot.get("weekday", -1)) == start.weekday()
               and str(slot.get("start", "99:99")) <= begins
               and ends <= str(slot.get("end", "00:00"))
               for slot in availability)
