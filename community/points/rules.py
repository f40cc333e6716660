"""Points rules (积分规则): what one drop earns, strikes, streak bonuses, expiry. Pure, no DB.

The services score from `deserved` and its parts (`day_earns`, `strike_entries`,
`streak_bonuses`): what a household's set of `DropFacts` deserves, independent of the order
the facts arrived in. `award` and `HouseholdDay` are the older one-drop-against-the-ledger
view, no longer used by the services (kept for their tests; remove with them).
Defaults follow DOMAIN.md; a community's manager changes them by publishing a new
`RuleSet` version.
"""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

DEFAULT_POINTS = {"kitchen": 2, "recyclable": 2, "hazardous": 3, "other": 1}
# The allowed values of each rule (inclusive): the one table `RuleSet.problems` and the
# input model of a new version (`points.schemas.RulesIn`) both read. "points": per category.
RANGES: Mapping[str, tuple[int, int]] = {
    "points": (0, 100),
    "daily_cap": (0, 1000),
    "strike_limit": (1, 100),
    "strike_window_days": (1, 366),
    "strike_penalty": (0, 1000),
    "streak_days": (2, 366),
    "streak_bonus": (0, 1000),
    "expiry_years": (0, 10),
    "steward_points_per_hour": (0, 1000),
}


@dataclass(frozen=True)
class RuleSet:
    """One version of a community's points rules."""

    version: int = 1
    points: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_POINTS))
    ungraded_earns: bool = True
    daily_cap: int = 6
    strike_limit: int = 3
    strike_window_days: int = 30
    strike_penalty: int = 5
    streak_days: int = 7
    streak_bonus: int = 5
    expiry_years: int = 1  # earned in year Y, expires at the end of year Y + expiry_years
    steward_points_per_hour: int = 10  # a steward's approved hours credit this many per hour

    def problems(self) -> list[str]:
        """Field names whose values are out of range (empty when the rule set is valid)."""
        low, high = RANGES["points"]
        bad = [f"points.{k}" for k, v in self.points.items() if not low <= v <= high]
        return bad + [name for name, (lo, hi) in RANGES.items()
                      if name != "points" and not lo <= getattr(self, name) <= hi]


@dataclass(frozen=True)
class DropFacts:
    """What the points module needs to know about a drop (it never imports stations)."""

    drop_id: int
    household_id: int | None
    category: str
    quality: str  # correct | incorrect | ungraded
    in_window: bool
    local_date: date
    # The device time (orders the drops of a day). None only from callers that do not know
    # it (old tests, the demo): such drops order by id within their day.
    happened_at: datetime | None = None


@dataclass(frozen=True)
class HouseholdDay:
    """The ledger's view of a household around the drop's day, before this drop."""

    balance: int = 0
    earned_today: int = 0                       # drop earnings already on local_date
    strike_dates: Sequence[date] = ()           # earlier strikes (any order)
    correct_dates: Iterable[date] = ()          # days with a correct (earning) drop
    bonus_dates: Iterable[date] = ()            # days a streak bonus was given


@dataclass(frozen=True)
class Entry:
    """One ledger entry to append: kind is earn | bonus | penalty; amount is signed."""

    kind: str
    amount: int
    reason: str


def earns(rules: RuleSet, facts: DropFacts) -> bool:
    """Whether a drop counts as a correct, identified, in-window drop."""
    if facts.household_id is None or not facts.in_window:
        return False
    return facts.quality == "correct" or (facts.quality == "ungraded" and rules.ungraded_earns)


def streak_length(correct_dates: Iterable[date], day: date) -> int:
    """Consecutive days with a correct drop ending on `day` (0 when `day` has none)."""
    days = set(correct_dates)
    n = 0
    while day - timedelta(days=n) in days:
        n += 1
    return n


def award(rules: RuleSet, facts: DropFacts, state: HouseholdDay) -> list[Entry]:
    """The entries one new drop adds to its household's ledger (possibly none)."""
    if facts.household_id is None:
        return []
    if facts.quality == "incorrect":
        return _strike(rules, facts, state)
    if not earns(rules, facts):
        return []  # out of window (过时投放): recorded and counted, but 0 points
    entries = []
    base = rules.points.get(facts.category, 0)
    room = max(0, rules.daily_cap - state.earned_today)
    if min(base, room) > 0:
        entries.append(Entry("earn", min(base, room), f"drop:{facts.category}"))
    entries += _streak(rules, facts, state)
    return entries


def _strike(rules: RuleSet, facts: DropFacts, state: HouseholdDay) -> list[Entry]:
    since = facts.local_date - timedelta(days=rules.strike_window_days - 1)
    count = 1 + sum(1 for d in state.strike_dates if since <= d <= facts.local_date)
    entries = [Entry("strike", 0, "drop:incorrect")]
    if count % rules.strike_limit == 0:
        # Never below zero: the penalty takes at most what the balance holds.
        take = min(rules.strike_penalty, max(0, state.balance))
        if take > 0:
            entries.append(Entry("penalty", -take, f"strikes:{count}"))
    return entries


def _streak(rules: RuleSet, facts: DropFacts, state: HouseholdDay) -> list[Entry]:
    correct = set(state.correct_dates)
    if facts.local_date in correct:
        return []  # the day already counted; a second drop the same day adds no streak
    length = streak_length(correct | {facts.local_date}, facts.local_date)
    if length < rules.streak_days or length % rules.streak_days:
        return []
    block_start = facts.local_date - timedelta(days=rules.streak_days - 1)
    if any(block_start <= d <= facts.local_date for d in state.bonus_dates):
        return []  # once per completed streak block
    return [Entry("bonus", rules.streak_bonus, f"streak:{length}")]


# --- Recomputation from the facts ---------------------------------------------------------
# What a household deserves is a function of the set of its drops' facts, never of the
# order they arrived in. The services compare it with the live ledger entries per key and
# append the differences (reversals and new entries); they never edit an entry.
#
# Keys: ("earn", drop), ("strike", drop), ("penalty", drop) (the drop whose strike is the
# 3rd, 6th, … in its window), ("bonus", day) (the last day of a completed streak block).
# A block is named by its last day, so the same block reached in any order has the same key;
# a run extended backwards moves its blocks (a reversal and a new bonus, both readable).

Key = tuple[str, int | date]
RulesOn = Callable[[date], RuleSet]
_NO_TIME = time(0, 0)


@dataclass(frozen=True)
class Deserved:
    """One entry the facts deserve: kind earn | strike | penalty | bonus; amount signed.

    A penalty's amount is its nominal amount: the services apply the zero floor when they
    append it (see `services._recompute`).
    """

    kind: str
    amount: int
    local_date: date
    reason: str
    rule_version: int
    drop_id: int | None = None


def fact_order(f: DropFacts) -> tuple[date, datetime, int]:
    """The order of facts: local day, device time, drop id (a total order on a set)."""
    at = f.happened_at or datetime.combine(f.local_date, _NO_TIME, tzinfo=UTC)
    return (f.local_date, at.astimezone(UTC), f.drop_id)


def day_earns(rules_on: RulesOn, facts: Iterable[DropFacts]) -> dict[Key, Deserved]:
    """Each earning drop's points, the daily cap filled in device-time order within its day."""
    out: dict[Key, Deserved] = {}
    earned: dict[date, int] = {}
    for f in sorted(facts, key=fact_order):
        rs = rules_on(f.local_date)
        if not earns(rs, f):
            continue
        got = earned.get(f.local_date, 0)
        amount = min(rs.points.get(f.category, 0), max(0, rs.daily_cap - got))
        if amount > 0:
            earned[f.local_date] = got + amount
            out[("earn", f.drop_id)] = Deserved("earn", amount, f.local_date,
                                                f"drop:{f.category}", rs.version, f.drop_id)
    return out


def strike_entries(rules_on: RulesOn, facts: Iterable[DropFacts]) -> dict[Key, Deserved]:
    """A strike per incorrect identified drop, and a penalty where its count in the window
    (the strike's day and the days before it, in device-time order) is a multiple of the
    limit. Counts are right for strikes whose window the given facts fully cover."""
    strikes = sorted((f for f in facts if f.household_id is not None
                      and f.quality == "incorrect"), key=fact_order)
    days = [f.local_date for f in strikes]
    out: dict[Key, Deserved] = {}
    for i, f in enumerate(strikes):
        rs = rules_on(f.local_date)
        since = f.local_date - timedelta(days=rs.strike_window_days - 1)
        count = i + 1 - bisect_left(days, since)
        out[("strike", f.drop_id)] = Deserved("strike", 0, f.local_date, "drop:incorrect",
                                              rs.version, f.drop_id)
        if count % rs.strike_limit == 0:
            out[("penalty", f.drop_id)] = Deserved("penalty", -rs.strike_penalty, f.local_date,
                                                   f"strikes:{count}", rs.version, f.drop_id)
    return out


def correct_days(rules_on: RulesOn, facts: Iterable[DropFacts]) -> set[date]:
    """Days with at least one drop that earns as correct (with the rules of that day)."""
    return {f.local_date for f in facts if earns(rules_on(f.local_date), f)}


def streak_bonuses(rules_on: RulesOn, days: Iterable[date]) -> dict[Key, Deserved]:
    """One bonus per completed block of consecutive correct days, on the block's last day.

    Each run is cut into blocks from its first day; a block ends when it has as many days as
    the streak rule in force on that day asks. Runs must be given whole (the caller reads
    until a day without a correct drop on both sides).
    """
    out: dict[Key, Deserved] = {}
    one = timedelta(days=1)
    run_start = block_start = prev = date.min
    for d in sorted(set(days)):
        if prev == date.min or d != prev + one:
            run_start = block_start = d
        prev = d
        rs = rules_on(d)
        if (d - block_start).days + 1 >= rs.streak_days:
            if rs.streak_bonus > 0:
                out[("bonus", d)] = Deserved("bonus", rs.streak_bonus, d,
                                             f"streak:{(d - run_start).days + 1}", rs.version)
            block_start = d + one
    return out


def deserved(rules_on: RulesOn, facts: Iterable[DropFacts]) -> dict[Key, Deserved]:
    """Every entry a household's complete set of facts deserves, by key (order-free)."""
    facts = list(facts)
    return (day_earns(rules_on, facts) | strike_entries(rules_on, facts)
            | streak_bonuses(rules_on, correct_days(rules_on, facts)))


# --- Expiry ---------------------------------------------------------------------------------
# Points earned in year Y form the lot of Y; it expires at the end of Y + expiry_years. The
# lots are never stored: they are folded from the ledger, so they can never disagree with it.

@dataclass(frozen=True)
class Lot:
    """Points earned in one calendar year that are still unspent."""

    year: int
    amount: int


@dataclass(frozen=True)
class LotEntry:
    """One ledger entry as the lots see it: a signed amount and the year a credit joins."""

    local_date: date
    amount: int
    lot_year: int | None = None  # None: the entry's own year


def expires_on(rules: RuleSet, year: int) -> date:
    """The last day points earned in `year` can be spent."""
    return date(year + rules.expiry_years, 12, 31)


def credit_year(rules: RuleSet, on: date, undone: date | None = None) -> int:
    """The lot a credit made on `on` joins: its own year, or for a refund or a reversal the
    year of the entry it undoes, but never a year already past its last day on `on`.

    Points given back must not land in a lot the expiry job has closed (that year's
    `expire` entry exists and is unique), or they would never expire.
    """
    if undone is None:
        return on.year
    return max(undone.year, on.year - rules.expiry_years)


def lots_from_entries(entries: Iterable[LotEntry]) -> list[Lot]:
    """Fold an account's entries (ledger order) into its unspent lots, oldest year first.

    A credit adds to the lot of its year; a debit (redeem, penalty, negative adjust or
    reversal, expire) takes from the oldest lots first. A debit larger than all lots empties
    them (the balance never goes below zero, so this only happens on a drifted ledger).
    """
    lots: dict[int, int] = {}
    for e in entries:
        if e.amount > 0:
            year = e.local_date.year if e.lot_year is None else e.lot_year
            lots[year] = lots.get(year, 0) + e.amount
            continue
        left = -e.amount
        for year in sorted(lots):
            if not left:
                break
            used = min(lots[year], left)
            left -= used
            lots[year] -= used
            if not lots[year]:
                del lots[year]
    return [Lot(y, a) for y, a in sorted(lots.items())]


def lots_after_spending(lots: Sequence[Lot], spend: int) -> list[Lot]:
    """Spend `spend` points oldest year first; raises ValueError when the lots don't cover it."""
    if spend < 0:
        raise ValueError("spend must be >= 0")
    out, left = [], spend
    for lot in sorted(lots, key=lambda x: x.year):
        used = min(lot.amount, left)
        left -= used
        if lot.amount - used:
            out.append(Lot(lot.year, lot.amount - used))
    if left:
        raise ValueError("not enough points")
    return out


def expiring(rules: RuleSet, lots: Sequence[Lot], today: date) -> list[tuple[date, int]]:
    """(date, amount) of unspent points still to expire, soonest first (for residents)."""
    by_day: dict[date, int] = {}
    for lot in lots:
        day = expires_on(rules, lot.year)
        if day >= today and lot.amount > 0:
            by_day[day] = by_day.get(day, 0) + lot.amount
    return sorted(by_day.items())


def due_lots(rules: RuleSet, lots: Sequence[Lot], today: date) -> list[Lot]:
    """The lots whose last day is before `today`, oldest first (the expiry job removes them)."""
    return sorted((lot for lot in lots if lot.amount > 0 and expires_on(rules, lot.year) < today),
                  key=lambda x: x.year)


def due_to_expire(rules: RuleSet, lots: Sequence[Lot], today: date) -> int:
    """Points whose last day is before `today` (the expiry job removes them)."""
    return sum(lot.amount for lot in due_lots(rules, lots, today))
