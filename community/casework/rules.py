"""Case rules (纠正案例规则): when a case opens, when it closes, what it refunds. Pure, no DB.

Every function here is a function of the household's verdicts as a set (never of the order
they arrived in): verdicts are walked in device-time order, (happened_at, drop_id), so a
drop uploaded late from an offline queue lands where it happened (DOMAIN.md "Late and
out-of-order data").

Exact readings:
- **Counted verdicts**: the household's identified drops, not void, graded correct or
  incorrect (ungraded neither counts toward a case nor breaks a run of correct drops).
- **Opening** (`trigger`): walking the incorrect verdicts after `after` (the moment the
  household's previous case closed, so one case's drops never open the next), the case
  opens at the first incorrect drop d whose window (d's local day and the window_days − 1
  days before it) holds at least `threshold` incorrect drops up to d, with the rules in
  force on d's local day. The window's first day is the case period's start.
- **Closing** (`closing`): the first moment after the trigger at which the household has
  made `close_after` correct verdicts in a row (an incorrect one starts the count again).
  The closing drop's device time is the case's end; the next case counts from after it.
- **Refund** (`refund_amount`): when the case's rules (the version in force at opening)
  say so, the live strike penalties whose local day lies in the case period, from the
  window's first day to the closing drop's day, both inclusive, are given back.
- **Due date**: the opening's local day + due_days; a task not done by the end of its due
  date is overdue and escalates to the manager's list.
- **Watchlist**: a household with at least watch_cases cases opened in the watch_days
  local days ending today (private: managers only, never shown to residents or boards).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

TASKS = ("bin_side", "home_visit", "building_talk")
STATUSES = ("open", "closed", "withdrawn")
RANGES: Mapping[str, tuple[int, int]] = {
    "threshold": (1, 100),
    "window_days": (1, 366),
    "close_after": (1, 100),
    "due_days": (1, 90),
    "watch_cases": (2, 20),
    "watch_days": (30, 1096),
}


@dataclass(frozen=True)
class CaseRules:
    """One version of a community's case rules (defaults: DOMAIN.md "The mis-drop loop")."""

    version: int = 0
    threshold: int = 3
    window_days: int = 30
    close_after: int = 5
    refund: bool = False
    due_days: int = 7
    task: str = "bin_side"
    watch_cases: int = 2
    watch_days: int = 365

    def problems(self) -> list[str]:
        """Field names whose values are out of range (empty when valid)."""
        bad = [n for n, (lo, hi) in RANGES.items() if not lo <= getattr(self, n) <= hi]
        return bad + (["task"] if self.task not in TASKS else [])


DEFAULT_RULES = CaseRules()

Key = tuple[datetime, int]  # device-time order: (happened_at, drop_id)


@dataclass(frozen=True)
class Verdict:
    """One counted verdict of a household: an identified, non-void drop's quality."""

    drop_id: int
    happened_at: datetime
    local_date: date
    quality: str  # correct | incorrect | ungraded

    @property
    def key(self) -> Key:
        """Its place in device-time order."""
        return (self.happened_at, self.drop_id)


@dataclass(frozen=True)
class Trigger:
    """Where a case opens: the drop that reached the threshold, and the window's drops."""

    drop_id: int
    happened_at: datetime
    local_date: date
    window_start: date
    drop_ids: tuple[int, ...]
    rules: CaseRules

    @property
    def key(self) -> Key:
        """The trigger's place in device-time order."""
        return (self.happened_at, self.drop_id)


def ordered(verdicts: Iterable[Verdict]) -> list[Verdict]:
    """Verdicts in device-time order (ties: drop id), whatever order they came in."""
    return sorted(verdicts, key=lambda v: v.key)


def trigger(verdicts: Iterable[Verdict], rules_on: Callable[[date], CaseRules],
            after: Key | None = None) -> Trigger | None:
    """The first incorrect drop after `after` that brings its window to the threshold."""
    incorrect = [v for v in ordered(verdicts)
                 if v.quality == "incorrect" and (after is None or v.key > after)]
    for i, v in enumerate(incorrect):
        rules = rules_on(v.local_date)
        start = v.local_date - timedelta(days=rules.window_days - 1)
        members = [w for w in incorrect[:i + 1] if w.local_date >= start]
        if len(members) >= rules.threshold:
            return Trigger(v.drop_id, v.happened_at, v.local_date, start,
                           tuple(w.drop_id for w in members), rules)
    return None


def closing(verdicts: Iterable[Verdict], since: Key, close_after: int) -> Verdict | None:
    """The verdict completing `close_after` correct ones in a row after `since`, if any."""
    run = 0
    for v in ordered(verdicts):
        if v.key <= since:
            continue
        if v.quality == "correct":
            run += 1
            if run >= close_after:
                return v
        elif v.quality == "incorrect":
            run = 0
    return None


def progress(verdicts: Iterable[Verdict], since: Key) -> int:
    """The current run of correct verdicts after `since` (shown as "3 of 5")."""
    run = 0
    for v in ordered(verdicts):
        if v.key <= since:
            continue
        if v.quality == "correct":
            run += 1
        elif v.quality == "incorrect":
            run = 0
    return run


def refund_amount(penalties: Iterable[tuple[date, int]], window_start: date,
                  close_day: date) -> int:
    """The points to give back: the live penalties (negative amounts) of the case period."""
    return -sum(a for d, a in penalties if window_start <= d <= close_day and a < 0)


def due_date(opened_on: date, rules: CaseRules) -> date:
    """The last local day to carry out the education task."""
    return opened_on + timedelta(days=rules.due_days)


def overdue(status: str, done: bool, due_on: date, today: date) -> bool:
    """An open case whose task is not done by the end of its due date."""
    return status == "open" and not done and today > due_on


def watchlisted(opened_days: Sequence[date], today: date, rules: CaseRules) -> bool:
    """Whether a household's cases (their opening days) put it on the watchlist today."""
    since = today - timedelta(days=rules.watch_days - 1)
    return sum(1 for d in opened_days if since <= d <= today) >= rules.watch_cases


def pick(versions: Sequence[tuple[date, CaseRules]], on: date) -> CaseRules:
    """The rules in force on a local day: the latest version effective by then."""
    best = DEFAULT_RULES
    for day, rules in sorted(versions, key=lambda dv: (dv[0], dv[1].version)):
        if day <= on:
            best = rules
    return best
