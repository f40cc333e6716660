"""Points rules (积分规则): what a household's drops deserve, strikes, streak bonuses, expiry.
Pure, no DB.

The services score from `deserved` and its parts (`day_earns`, `strike_entries`,
`streak_bonuses`, `completing_drops`, `floor_penalties`): what a household's set of
`DropFacts` deserves, independent of the order the facts arrived in.

The zero floor (DOMAIN.md "A strike costs 5 points (never below a zero balance)"): a
penalty takes min(its nominal amount, the household's *fact balance* just before its
strike). The fact balance before a strike is, in device-time order, the sum of
- the outcomes the facts deserve (earns, bonuses, penalties) of the facts before it:
  earlier local days, and earlier device times on the strike's own day (ties: drop id);
  a streak bonus counts at the device time of the drop that completed its block (the first
  drop of the block's last day that earns as correct), right after that drop's earn;
- plus the household's non-fact entries (redemptions, refunds, adjustments, expiry: kinds
  other than earn/bonus/penalty/strike and their reversals) placed by their local day, then
  their `at`: one counts for a strike when it is on an earlier local day, or on the same
  day with `at` strictly before the strike's device time (at the same instant the drop
  comes first).
Processed in device-time order this is exactly the balance the household had at that
moment, so drops scored on time get the amounts they always got; a late drop or a regrade
changes the later penalties' amounts as if the facts had arrived in order.
Defaults follow DOMAIN.md; a community's manager changes them by publishing a new
`RuleSet` version.

Which drops are facts (issue 17, the scan page's safety nets, decided by `stations`):
- A repeat, the same household and category again within the duplicate window (10
  minutes, `stations.rules.DUPLICATE_WINDOW`) of another drop of theirs that is not voided,
  is stored and counted in the metrics but never scored: it earns 0 and strikes nothing
  (no second award). The steward confirms it ("record again?"); a repeat stays at 0 even
  when the drop it repeats is voided later.
- A voided drop (a steward's undo of their own scan within 5 minutes) is no fact: its facts
  are removed and the household recomputed (`services.void_drop`), so its earn and strike
  are reversed and the cap, penalties and streak bonuses around its day follow, as after a
  regrade.
"""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
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


def earns(rules: RuleSet, facts: DropFacts) -> bool:
    """Whether a drop counts as a correct, identified, in-window drop."""
    if facts.household_id is None or not facts.in_window:
        return False
    return facts.quality == "correct" or (facts.quality == "ungraded" and rules.ungraded_earns)


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

    From `strike_entries` a penalty's amount is its nominal amount; `floor_penalties` (and
    so `deserved`) floors it at the fact balance before its strike. A bonus's `drop_id` is
    the drop that completed its block (`completing_drops`), set by `deserved`.
    """

    kind: str
    amount: int
    local_date: date
    reason: str
    rule_version: int
    drop_id: int | None = None


def fact_order(f: DropFacts) -> tuple[date, datetime, int]:
    """The order of facts: local day, device time, drop id (a total order on a set).

    Device times are aware, and aware times compare by their instant whatever their zone:
    no conversion is needed to order them (this key is computed for every fact of every
    sort of a recomputation)."""
    return (f.local_date, f.happened_at or datetime.combine(f.local_date, _NO_TIME, tzinfo=UTC),
            f.drop_id)


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


def streak_bonuses(rules_on: RulesOn, days: Iterable[date], *,
                   resume: Mapping[date, tuple[date, date]] | None = None
                   ) -> dict[Key, Deserved]:
    """One bonus per completed block of consecutive correct days, on the block's last day.

    Each run is cut into blocks from its first day; a block ends when it has as many days as
    the streak rule in force on that day asks. Runs must be given whole (the caller reads
    until a day without a correct drop on both sides), or start at a day named in `resume`:
    day → (its run's first day, its block's first day), for a run whose earlier days are
    known by their bounds only (see `block_start`).
    """
    out: dict[Key, Deserved] = {}
    one = timedelta(days=1)
    run_start = block_start = prev = date.min
    for d in sorted(set(days)):
        if prev == date.min or d != prev + one:
            run_start, block_start = (resume or {}).get(d, (d, d))
        prev = d
        rs = rules_on(d)
        if (d - block_start).days + 1 >= rs.streak_days:
            if rs.streak_bonus > 0:
                out[("bonus", d)] = Deserved("bonus", rs.streak_bonus, d,
                                             f"streak:{(d - run_start).days + 1}", rs.version)
            block_start = d + one
    return out


def block_start(rules_on: RulesOn, run_start: date, day: date,
                changes: Sequence[date] = ()) -> date:
    """The first day of the streak block that `day` falls in, in the run of correct days
    from `run_start` through `day` (the day after `day` when a block ends on `day`).

    `changes`: the days a rule version takes effect. Where no change falls inside the run,
    the blocks are `streak_days` long and this is arithmetic, whatever the run's length;
    otherwise the run is walked day by day (as `streak_bonuses` does).
    """
    one = timedelta(days=1)
    if not any(run_start < c <= day for c in changes):
        k = rules_on(day).streak_days
        return run_start + timedelta(days=((day - run_start).days + 1) // k * k)
    start, d = run_start, run_start
    while d <= day:
        if (d - start).days + 1 >= rules_on(d).streak_days:
            start = d + one
        d += one
    return start


def completing_drops(rules_on: RulesOn, facts: Iterable[DropFacts]) -> dict[date, DropFacts]:
    """Per correct day, the drop that made it one: its first drop that earns as correct, in
    device-time order (a streak bonus ending that day is that drop's, and counts at its time)."""
    out: dict[date, DropFacts] = {}
    for f in sorted(facts, key=fact_order):
        if f.local_date not in out and earns(rules_on(f.local_date), f):
            out[f.local_date] = f
    return out


@dataclass(frozen=True)
class Other:
    """A non-fact entry of a household (redeem, refund, adjust, expire): where it stands in
    time (its local day, then `at`) and its signed amount."""

    local_date: date
    at: datetime
    amount: int
    id: int = 0


Position = tuple[date, datetime, int, int, int]
_SUB = {"earn": 0, "strike": 1, "penalty": 2, "bonus": 3}


def _utc(at: datetime | None, day: date) -> datetime:
    """A position's time: `at`, or midnight UTC of its day (aware times order by instant)."""
    return at or datetime.combine(day, _NO_TIME, tzinfo=UTC)


def floor_penalties(facts: Iterable[DropFacts], entries: Mapping[Key, Deserved], *,
                    others: Iterable[Other] = (), base: int = 0,
                    since: date = date.min) -> dict[Key, Deserved]:
    """`entries` with each penalty on or after `since` floored at the fact balance just
    before its strike (see the module docstring); the others unchanged.

    `base` is the balance of everything before `since` (entries of earlier local days);
    `facts` must hold every fact from `since` on, `entries` every fact outcome from `since`
    on (earns, strikes, nominal penalties, bonuses with their completing drop) and `others`
    the non-fact entries from `since` on. Outcomes before `since` are not counted here.
    """
    by_drop = {f.drop_id: f for f in facts if f.local_date >= since}
    timeline: list[tuple[Position, Key | None, int]] = []
    for key, d in entries.items():
        if d.local_date < since:
            continue
        f = by_drop.get(d.drop_id) if d.drop_id is not None else None
        at = _utc(f.happened_at if f else None, d.local_date)
        timeline.append(((d.local_date, at, 0, d.drop_id or 0, _SUB.get(d.kind, 4)), key,
                         d.amount))
    for o in others:
        if o.local_date >= since:
            timeline.append(((o.local_date, _utc(o.at, o.local_date), 1, o.id, 0), None,
                             o.amount))
    out = dict(entries)
    running = base
    for _pos, which, amount in sorted(timeline, key=lambda t: t[0]):
        if which is not None and which[0] == "penalty":
            take = min(-amount, max(0, running))
            out[which] = replace(out[which], amount=-take)
            running -= take
        else:
            running += amount
    return out


def deserved(rules_on: RulesOn, facts: Iterable[DropFacts], *, others: Iterable[Other] = (),
             ) -> dict[Key, Deserved]:
    """Every entry a household's complete set of facts deserves, by key (order-free):
    penalties floored at the fact balance, with `others` its non-fact entries."""
    facts = list(facts)
    first = completing_drops(rules_on, facts)
    bonuses = {k: replace(v, drop_id=first[v.local_date].drop_id) for k, v in
               streak_bonuses(rules_on, correct_days(rules_on, facts)).items()}
    return floor_penalties(facts, day_earns(rules_on, facts) | strike_entries(rules_on, facts)
                           | bonuses, others=others)


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
    lot_year: int | None = None  # None: the entry's own year (a debit: the oldest first)


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
        # A debit naming its lot (a carry's closing entry) takes from that lot first.
        years = sorted(lots, key=lambda y: (y != e.lot_year, y))
        for year in years:
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
