"""Points use cases: rule versions, awards for drops, regrade corrections, balances, history,
manual adjustments and the ledger check.

The ledger is append-only. The facts are the drop rows (`points.facts`: a drop with a
household, not a repeat, not voided), stored by the caller in the same transaction, and a
drop's own earn is its row's `points`, written once by its first scoring: the ledger holds
no row per drop. Every award locks the household accounts it touches (in id order, so two
batches never deadlock), recomputes what the facts deserve around the changed days
(`_recompute`, a few set-based reads for the whole batch), writes the new drops' own
points, appends the other differences with INSERT … ON CONFLICT (community_id, source,
kind) DO NOTHING and moves each balance by the amounts actually written, in the same
transaction. Points
are thereby a function of the facts, whatever order drops and regrades arrive in (DOMAIN.md
"Late and out-of-order data"), and a retried or concurrent award of the same drop credits
once.

What an award reads does not grow with the household's history: the facts and entries from
the first changed day on, the strikes of the 30 days before it (a partial index), and the
account's stored latest run of correct days (`points_account.run_first/run_last`, read
with the lock and written with the balance, in the same transaction), which says where a
streak through the day before started however long ago. `flask points verify` checks the
stored runs against the facts (`verify_runs`).

A penalty takes min(its nominal amount, the household's fact balance just before its
strike, in device-time order): the fact-derived outcomes of earlier facts plus the
non-fact entries (redemptions, refunds, adjustments, expiry) whose local day and `at` come
before the strike (`rules.floor_penalties` has the exact order and tie rules). A change on
day D therefore recomputes the amounts of all the household's penalties from D on. The one
exception, where spending history decides: a correction never takes the actual balance
below zero; the debit it cannot make is not taken later (see `_recompute`).
"""
from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from time import monotonic
from typing import Any, Literal, cast

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    func,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.audit import services as audit
from community.auth import policy
from community.errors import Conflict, DomainError, InvalidInput, NotFound
from community.households import services as households_services
from community.households.models import Household
from community.inbox import services as notifications
from community.points import facts as drop_rows
from community.points import rules as rules_mod
from community.points.facts import drops
from community.points.models import (
    LedgerEntry,
    LedgerKey,
    PointsAccount,
    PointsRuleSet,
)
from community.points.rules import DropFacts, RuleSet
from community.points.schemas import AdjustIn, RulesIn
from community.rows import (
    any_of,
    any_param,
    dialect_of,
    insert_rows,
    run_prebuilt,
    table_of,
)
from community.waste import CATEGORY_LABELS

DROP_KINDS = ("earn", "bonus", "penalty", "strike")
HISTORY_LIMIT = 50


class YearClosed(DomainError):
    """A correction of a day whose year's books are closed (carried forward, `jobs`)."""

    code, status, message = "year_closed", 409, _l(
        "The points of that year are closed (carried forward): its drops can no longer "
        "change them.")


def refuse_closed_year(session: Session, community_id: int, day: date) -> None:
    """Raise YearClosed when `day`'s year is closed in the community (`jobs.carry_forward`):
    its entries may be archived, so a recomputation could neither read nor correct them.
    One primary-key read, on the regrade and void paths only (a fresh upload is never more
    than 30 days old, and a year is closed only after its last upload could arrive)."""
    if session.get(LedgerKey, (community_id, f"closed:{day.year}")) is not None:
        raise YearClosed()


class NotEnoughPoints(DomainError):
    """An adjustment (or later a redemption) would take the balance below zero."""

    code, status, message = "not_enough_points", 409, _l(
        "The balance is too small: points can never go below zero.")


# --- Rules ---------------------------------------------------------------------------------

RULE_FIELDS = tuple(f.name for f in fields(RuleSet) if f.name != "version")


def _rule_set(row: PointsRuleSet) -> RuleSet:
    params = {k: v for k, v in (row.params or {}).items() if k in RULE_FIELDS}
    return RuleSet(version=row.version, **params)


DEFAULT_RULES = RuleSet(version=0)  # the defaults of DOMAIN.md, before any published version


# Per-process cache of each community's rule versions (the scan path reads them on every
# award). Publishing in this process forgets the community at once; other workers see a new
# version within RULES_CACHE_TTL (as the stations' cache; a version takes effect from a
# date, and managers publish them ahead).
RULES_CACHE_TTL = 30.0
_rules_cache: dict[int, tuple[float, list[tuple[date, RuleSet]]]] = {}


def forget_rules(community_id: int | None = None) -> None:
    """Drop a community's rule versions (or all) from the process cache."""
    if community_id is None:
        _rules_cache.clear()
    else:
        _rules_cache.pop(community_id, None)


def _community_rules(session: Session, community_id: int) -> list[tuple[date, RuleSet]]:
    now = monotonic()
    hit = _rules_cache.get(community_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    rows = session.execute(
        select(PointsRuleSet).where(col(PointsRuleSet.community_id) == community_id)
        .order_by(col(PointsRuleSet.effective_from), col(PointsRuleSet.version))
    ).scalars()
    versions = [(r.effective_from, _rule_set(r)) for r in rows]
    _rules_cache[community_id] = (now + RULES_CACHE_TTL, versions)
    return versions


def _pick(versions: Sequence[tuple[date, RuleSet]], on: date) -> RuleSet:
    best = DEFAULT_RULES
    for day, rs in versions:  # sorted by (effective_from, version): the last match wins
        if day <= on:
            best = rs
    return best


def current_rules(session: Session, community_id: int, on: date) -> RuleSet:
    """The rule set in force in a community on a (local) date; the defaults when none."""
    return _pick(_community_rules(session, community_id), on)


def publish_rules(session: Session, *, actor: policy.Actor, community_id: int,
                  data: RulesIn, ip: str | None = None) -> PointsRuleSet:
    """Publish a new version of a community's rules, effective from a date (rules:manage)."""
    area = session.get(Area, community_id)
    if area is None or area.level != "community":
        raise NotFound()
    policy.require(actor, "rules:manage", area)
    effective_from = data.effective_from
    latest = session.execute(select(func.max(PointsRuleSet.version)).where(
        col(PointsRuleSet.community_id) == community_id)).scalar_one()
    row = PointsRuleSet(community_id=community_id, version=(latest or 0) + 1,
                        effective_from=effective_from,
                        params=data.params(),
                        created_by=actor.account_id)
    try:
        with session.begin_nested():  # two managers publishing at once
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(field="version") from None
    forget_rules(community_id)
    audit.record(session, actor_id=actor.account_id, action="points.rules_published", area=area,
                 target_type="points_rule_set", target_id=row.id, ip=ip, version=row.version,
                 effective_from=effective_from.isoformat())
    return row


# --- Accounts and ledger state --------------------------------------------------------------

Owner = Literal["household", "steward"]


def lock_accounts(session: Session, community_id: int, owner_ids: set[int],
                  owner: Owner = "household") -> dict[int, tuple[int, int]]:
    """Lock (creating when missing) the points accounts of households (or, with
    owner="steward", of stewards): owner id → (account id, balance).

    Locks are taken in account-id order; every writer of balances goes through here first,
    so two transactions locking several accounts take them in the same order and never
    deadlock.
    """
    return {o: (i, b) for o, (i, b, _run) in _lock(session, community_id, owner_ids,
                                                   owner).items()}


Run = tuple[date, date] | None  # a run of correct days: (first day, last day), or none


def _lock(session: Session, community_id: int, owner_ids: set[int],
          owner: Owner = "household") -> dict[int, tuple[int, int, Run]]:
    """`lock_accounts` with each account's stored latest run of correct days.

    The accounts that exist are locked by one SELECT … FOR UPDATE (the steady state: one
    statement); only missing ones are inserted (ON CONFLICT: a concurrent insert wins) and
    then locked. Existing accounts are locked first, in id order, and a new one only after
    them, so two transactions never wait for each other in a cycle.
    """
    if not owner_ids:
        return {}
    stmt = _lock_stmt(dialect_of(session), owner)

    def lock(ids: set[int]) -> dict[int, tuple[int, int, Run]]:
        rows = run_prebuilt(session, stmt, {"c": community_id, "ids": list(ids)}).all()
        return {o: (i, b, (f, last) if f is not None and last is not None else None)
                for o, i, b, f, last in rows}

    got = lock(owner_ids)
    missing = owner_ids - got.keys()
    if missing:
        key = f"{owner}_id"  # unique with the community, so ON CONFLICT skips
        insert_rows(session, table_of(PointsAccount),
                    [{"community_id": community_id, "owner_type": owner, "household_id": None,
                      "steward_id": None, "balance": 0, key: i} for i in sorted(missing)],
                    on=["community_id", key])
        got |= lock(missing)
    return got


# --- The scan path's statements, built once -------------------------------------------------
# Built at first use per dialect and then only run with their values (`rows.run_prebuilt`):
# building them per award (columns, comparisons, arrays, a UNION) cost more CPU than PostgreSQL's
# work for a single drop (BENCHMARKS.md, "The repeat check and prebuilt statements").

@cache
def _lock_stmt(dialect: str, owner: Owner) -> Any:
    a = table_of(PointsAccount)
    owner_id = a.c.household_id if owner == "household" else a.c.steward_id
    return (select(owner_id, a.c.id, a.c.balance, a.c.run_first, a.c.run_last)
            .where(a.c.community_id == bindparam("c"), any_param(owner_id, "ids", dialect))
            .order_by(a.c.id).with_for_update())


@cache
def _facts_stmt(dialect: str) -> Any:
    d = drops.c
    # From `lo` on: every drop of the households that is not a repeat, voided ones too (a
    # voided drop is no fact, but its own points are an entry the recomputation reverses).
    # By the (household, device time) index: a local day starts at most 14 hours before
    # its UTC day, so device times from the UTC day before `lo` cover it.
    return select(d.household_id, d.id, d.category, d.quality, d.in_window,
                  d.local_date, d.happened_at, d.points, d.voided_at).where(
        d.community_id == bindparam("c"), any_param(d.household_id, "hh", dialect),
        d.happened_at >= bindparam("lo_at"), d.local_date >= bindparam("lo"),
        d.repeat_of.is_(None))


@cache
def _strikes_stmt(dialect: str) -> Any:
    d = drops.c
    # The strikes of the window before `lo`, from the partial index of incorrect drops
    # alone (index-only on PostgreSQL): they only count, so category and window are not read.
    return select(d.household_id, d.id, d.local_date, d.happened_at).where(
        d.community_id == bindparam("c"), any_param(d.household_id, "hh", dialect),
        d.quality == "incorrect", d.repeat_of.is_(None), d.voided_at.is_(None),
        d.local_date >= bindparam("slo"), d.local_date < bindparam("lo"))


@cache
def _own_points_stmt() -> Any:
    d = drops.c
    return (update(drops).where(d.community_id == bindparam("c"), d.id == bindparam("d"),
                                d.local_date == bindparam("day"))
            .values(points=bindparam("p")))


@cache
def _entries_stmt(dialect: str) -> Any:
    e = table_of(LedgerEntry)
    return (select(e.c.id, e.c.account_id, e.c.kind, e.c.amount, e.c.local_date, e.c.drop_id,
                   e.c.rule_version, e.c.reason, e.c.at, e.c.reverses_id)
            .where(e.c.community_id == bindparam("c"),
                   any_param(e.c.account_id, "accts", dialect),
                   e.c.local_date >= bindparam("lo"))
            .order_by(e.c.id))


@cache
def _balances_stmt() -> Any:
    table = table_of(PointsAccount)
    return (update(table).where(table.c.community_id == bindparam("c"),
                                table.c.id == bindparam("aid"))
            .values(balance=table.c.balance + bindparam("delta"), run_first=bindparam("rf"),
                    run_last=bindparam("rl")))


_Reverser = aliased(LedgerEntry)


def not_reversed() -> ColumnElement[bool]:
    """Entries not reversed (a correlated NOT EXISTS on the unique reverses_id).

    The probe names the whole key of uq_ledger_entry_reverses (community, reverses_id, day):
    a reversal is in its entry's community and dated on its entry's day or later
    (`misdated_reversals` wants none), so each probe is one index lookup (on PostgreSQL in
    the partitions from the entry's month on). Probed on reverses_id alone, SQLite read the
    whole index for every entry (a board of the demo: 15-34 s).
    """
    return ~select(col(_Reverser.id)).where(
        col(_Reverser.community_id) == LedgerEntry.community_id,
        col(_Reverser.reverses_id) == LedgerEntry.id,
        col(_Reverser.local_date) >= LedgerEntry.local_date).exists()


def drop_entry_not_reversed() -> ColumnElement[bool]:
    """A drop's entries (DROP_KINDS) not reversed: `not_reversed` for entries whose reversal
    `_recompute` dates on their own day, so the probe is one equality on the whole key (on
    PostgreSQL one partition, pruned per entry, instead of every month from the entry's on).
    """
    return ~select(col(_Reverser.id)).where(
        col(_Reverser.community_id) == LedgerEntry.community_id,
        col(_Reverser.reverses_id) == LedgerEntry.id,
        col(_Reverser.local_date) == LedgerEntry.local_date).exists()


def _append(session: Session, community_id: int,
            rows: list[dict[str, Any]]) -> list[tuple[int, int, int, str, str]]:
    """Insert entries of a community's accounts, skipping (source, kind, local_date) already
    present there; new (id, account, amount, source, kind)."""
    if not rows:
        return []
    table = table_of(LedgerEntry)
    rows = [{**r, "community_id": community_id} for r in rows]
    got = insert_rows(session, table, rows, on=["community_id", "source", "kind", "local_date"],
                      returning=(table.c.id, table.c.account_id, table.c.amount,
                                 table.c.source, table.c.kind))
    new = [(i, a, m, s, k) for i, a, m, s, k in got.all()]
    if any(k == "bonus" and m > 0 for _i, _a, m, _s, k in new):
        _tell_bonuses(session, community_id, rows, new)
    return new


def _tell_bonuses(session: Session, community_id: int, rows: list[dict[str, Any]],
                  new: list[tuple[int, int, int, str, str]]) -> None:
    """Good news: the household's members are told of a new streak bonus (once per account
    and day, even when a recomputation moves the bonus to a new entry)."""
    given = {(r["source"], r["kind"]): r for r in rows}
    bonuses = [(a, m, given[(s, k)]) for _i, a, m, s, k in new if k == "bonus" and m > 0]
    households = dict(session.execute(
        select(col(PointsAccount.id), col(PointsAccount.household_id))
        .where(col(PointsAccount.community_id) == community_id,
               col(PointsAccount.id).in_(sorted({a for a, _m, _r in bonuses})))).all())
    members = households_services.member_accounts(
        session, community_id, {h for h in households.values() if h is not None})
    for account_id, amount, row in bonuses:
        hid = households.get(account_id)
        if hid is None:  # a steward's account: no household to tell
            continue
        days = str(row.get("reason", "")).partition("|")[0].partition(":")[2]
        notifications.notify_many(
            session, account_ids=members.get(hid, []), kind="streak_bonus",
            params={"days": days, "points": amount}, link=f"/me/points?household_id={hid}",
            dedupe_key=f"bonus:{account_id}:{row['local_date']}")


def _move_balances(session: Session, community_id: int, deltas: Mapping[int, int]) -> None:
    """balance = balance + delta, one executemany UPDATE for all accounts that changed."""
    moved = [{"aid": a, "delta": d} for a, d in sorted(deltas.items()) if d]
    if not moved:
        return
    table = table_of(PointsAccount)
    session.execute(
        update(table).where(table.c.community_id == community_id, table.c.id == bindparam("aid"))
        .values(balance=table.c.balance + bindparam("delta")),
        moved, execution_options={"synchronize_session": False})


def append_entries(session: Session, rows: Sequence[dict[str, Any]], *,
                   community_id: int) -> list[int]:
    """Append entries of a community's accounts the caller has locked and move their
    balances; new ids.

    An entry whose (source, kind) is already present is skipped (and moves nothing).
    """
    deltas: dict[int, int] = {}
    ids = []
    for i, a, m, _s, _k in _append(session, community_id, list(rows)):
        deltas[a] = deltas.get(a, 0) + m
        ids.append(i)
    _move_balances(session, community_id, deltas)
    return ids




@dataclass(frozen=True)
class _Trigger:
    """A change that asks for a recomputation: a newly scored drop or a regraded one.

    `source` ("drop:<id>" or "regrade:<id>") names the entries it appends: the trigger
    drop's own keys (its earn, strike, penalty, the bonus of a block ending on its day) get
    `source` itself, as before this recomputation existed; the other keys it corrects get
    "<source>/<key>" (e.g. "drop:812/b20261124", "regrade:5/p733"). A drop is scored once and
    a regrade happens once, so these sources never repeat across requests, and a retried
    request finds the ledger already right (and UNIQUE (source, kind) would refuse a
    double anyway).
    """

    source: str
    facts: DropFacts
    why: str  # "late" (a new drop), "regrade" or "void": how a correction explains itself

    def owns(self, key: rules_mod.Key) -> bool:
        kind, what = key
        if kind == "bonus":
            return what == self.facts.local_date
        return what == self.facts.drop_id

    def source_of(self, key: rules_mod.Key) -> str:
        if self.owns(key):
            return self.source
        kind, what = key
        code = f"b{what:%Y%m%d}" if kind == "bonus" else f"{kind[0]}{what}"
        return f"{self.source}/{code}"

    def reason(self, key: rules_mod.Key, base: str) -> str:
        """`base`, plus "|late:<day>" or "|regrade:<day>" on a correction of another key."""
        if self.owns(key):
            return base
        return f"{base}|{self.why}:{self.facts.local_date.isoformat()}"


@lru_cache(maxsize=1024)
def _no_time(day: date) -> datetime:
    """Midnight UTC of `day` (an entry's time where only its day is known). Cached: the
    recomputation asks it for every drop's own earn it reads, nearly always for today."""
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


@dataclass(frozen=True)
class _Own:
    """A drop's own points (`drop_record.points`) from its first scoring: an entry."""

    drop_id: int
    amount: int
    local_date: date


def _read_facts(session: Session, community_id: int, households: Mapping[int, int], lo: date,
                strikes_lo: date, unstored: Sequence[DropFacts] = ()
                ) -> tuple[dict[int, list[DropFacts]], dict[int, list[_Own]]]:
    """Accounts' facts from `lo` on (every later day: caps, runs and the fact balances of
    later penalties), with `unstored` (new drops, not stored yet) among them, and the own
    points of their drops from `lo` on (voided drops' too: see `facts`); and the incorrect
    drops from `strikes_lo` to `lo` of the accounts that have an incorrect fact from `lo` on.

    Those earlier strikes only count the strikes from `lo` on (their penalties): an account
    without one needs none of them. Read in a second statement, for those accounts only,
    from the partial index of incorrect drops: with a year of history every account has
    strikes in its window, and reading them for every account of a batch cost the
    recomputation more than its day's facts (BENCHMARKS.md, "Phases of their own").
    Both by the (household, device time) index; one statement when no account needs the
    second.
    """
    out: dict[int, list[DropFacts]] = {a: [] for a in households}
    own: dict[int, list[_Own]] = {a: [] for a in households}
    account = {h: a for a, h in households.items()}
    striking: set[int] = set()
    dialect = dialect_of(session)
    for h, i, cat, q, w, d, at, pts, void in run_prebuilt(session, _facts_stmt(dialect), {
            "c": community_id, "hh": list(account), "lo": lo,
            "lo_at": _no_time(lo - timedelta(days=1))}).all():
        a = account[h]
        if pts:
            own[a].append(_Own(i, pts, d))
        if void is None:
            out[a].append(DropFacts(i, h, cat or "", q, bool(w), d, at))
            if q == "incorrect":
                striking.add(h)
    for f in unstored:  # dated on or after lo
        out[account[cast(int, f.household_id)]].append(f)
        if f.quality == "incorrect":
            striking.add(cast(int, f.household_id))
    if striking and strikes_lo < lo:
        for h, i, d, at in run_prebuilt(session, _strikes_stmt(dialect), {
                "c": community_id, "hh": sorted(striking), "lo": lo,
                "slo": strikes_lo}).all():
            out[account[h]].append(DropFacts(i, h, "", "incorrect", False, d, at))
    return out, own


def _latest_runs_before(session: Session, community_id: int, households: Mapping[int, int],
                        before: date, rules_on: rules_mod.RulesOn) -> dict[int, Run]:
    """Each account's latest run of correct days ending before `before`, read from its
    facts: the fallback when the stored run does not say (a late drop joining an older run,
    a regrade that empties the latest run). Windows of 56, 112, 224, … days back, down to
    the account's first fact; one statement each, for the accounts still open. On the
    drop rows by the (household, device time) index: a local day lies within the UTC day
    before and after it."""
    d = drops.c
    one = timedelta(days=1)
    account = {h: a for a, h in households.items()}
    out: dict[int, Run] = dict.fromkeys(households)
    # The first drop's UTC day less one: never after its local day (an index endpoint).
    earliest: dict[int, date] = {account[h]: first.date() - one for h, first in session.execute(
        select(d.household_id, func.min(d.happened_at))
        .where(d.community_id == community_id, any_of(session, d.household_id, account),
               *drop_rows.scored(), d.happened_at < _no_time(before + one))
        .group_by(d.household_id)).all()}
    days: dict[int, set[date]] = {a: set() for a in earliest}
    pending, high, width = sorted(earliest), before - one, 56
    while pending:
        low = high - timedelta(days=width - 1)
        for h, day, q, w in session.execute(
                select(d.household_id, d.local_date, d.quality, d.in_window)
                .where(d.community_id == community_id,
                       any_of(session, d.household_id, [households[a] for a in pending]),
                       *drop_rows.scored(), d.in_window.is_(True),
                       d.quality.in_(("correct", "ungraded")),
                       d.happened_at >= _no_time(low - one),
                       d.happened_at < _no_time(high + one + one),
                       d.local_date >= low, d.local_date <= high)
                .group_by(d.household_id, d.local_date, d.quality, d.in_window)):
            if rules_mod.earns(rules_on(day), DropFacts(0, h, "", q, bool(w), day)):
                days[account[h]].add(day)
        still = []
        for acc in pending:
            got = days[acc]
            if got:
                last = first = max(got)
                while first - one in got:
                    first -= one
                if first > low or low <= earliest[acc]:
                    out[acc] = (first, last)
                    continue
            elif low <= earliest[acc]:
                continue
            still.append(acc)
        pending, high, width = still, low - one, width * 2
    return out


def _run_span(correct: set[date], day: date) -> tuple[date, date]:
    """The days of the runs touching `day` (the run through it, or those ending the day
    before and starting the day after): bounded by days without a correct drop."""
    one = timedelta(days=1)
    start = end = day
    while start - one in correct:
        start -= one
    while end + one in correct:
        end += one
    return start, end


SHORT = "short"  # a penalty's reason note: the points the actual balance could not give


def _short(reason: str) -> int:
    """The points a penalty could not take from the actual balance ("…|short:<n>"), else 0."""
    for note in reason.split("|")[1:]:
        head, _sep, n = note.partition(":")
        if head == SHORT and n.isdigit():
            return int(n)
    return 0


@dataclass(frozen=True)
class _Entry:
    """One ledger entry of an account from the first changed day on (any kind)."""

    id: int
    account_id: int
    kind: str
    amount: int
    local_date: date
    drop_id: int | None
    rule_version: int | None
    reason: str
    at: datetime
    live: bool  # not reversed

    @property
    def key(self) -> rules_mod.Key:
        return ("bonus", self.local_date) if self.kind == "bonus" else (self.kind,
                                                                         cast(int, self.drop_id))

    @property
    def fact_amount(self) -> int:
        """The amount the facts gave it: a penalty's amount plus what it could not take."""
        return self.amount - _short(self.reason) if self.kind == "penalty" else self.amount


@dataclass(frozen=True)
class _First:
    """A new drop's own earn, written on its row (`drop_record.points`)."""

    account_id: int
    drop_id: int
    local_date: date
    amount: int
    source: str  # the trigger's


_Plan = tuple[list[dict[str, Any]], dict[tuple[str, str], str], dict[int, Run], list[_First]]


def _recompute(session: Session, community_id: int, accounts: Mapping[int, tuple[int, int]],
               triggers: Mapping[int, Sequence[_Trigger]],
               versions: Sequence[tuple[date, RuleSet]], *, now: datetime,
               actor_id: int | None, runs_of: Mapping[int, Run],
               unstored: Sequence[DropFacts] = ()) -> _Plan:
    """The entries that bring the triggers' households' ledgers to what their facts deserve.

    `accounts`: household → (account id, balance); `triggers`: account id → its changes.
    Compared, per account, with the live (not reversed) entries, from the first changed day
    D on: the earns of the changed days (the cap is filled in device-time order), the
    strikes of the changed drops, every penalty from D on (which exist: a strike counts the
    window ending on its own day; their amounts: the fact balance before each moves with
    any earlier change, see `rules.floor_penalties`), and the bonuses from D on of the runs
    touching the changed days (walked out to a day without a correct drop on both sides;
    a bonus also moves when the drop that completed its block changes). A key whose live
    entries differ from what it deserves is reversed and, when still deserved, appended
    anew (a penalty whose amount changes: a reversal and a new penalty, with a readable
    reason); nothing is ever edited. Nothing before D can change (a block is cut from its
    run's start, an earn only depends on its own day, a penalty on earlier facts).

    Fact balances, set-based and bounded from D: one read of the account's entries from
    the smallest changed day on (with whether each is reversed) and one of its facts from
    there on; the balance before D is the locked balance minus the entries from D on. On
    the scan's common case (a drop of today) these are today's rows only.

    Never negative: the corrections are applied credits first, then debits. A debit is
    limited to what the actual balance holds; this only bites when points were spent on
    rewards meanwhile (otherwise the balance is the sum of fact balances, never below zero).
    That shortfall is not taken later: a reversal's points are gone with the reversed entry,
    and a penalty keeps "|short:<n>" in its reason (its fact amount is amount − n, compared
    as such). It is the one case where the history of spending, not the facts, decides.

    Streak runs, bounded whatever the history: the correct days from D on come from the
    facts read; the run through D − 1 from the account's stored latest run (`runs_of`:
    account id → run, read with the lock), by its bounds (its block start is arithmetic, see
    `rules.block_start`); only when the stored run does not say (a late drop joining an
    older run) are the facts before D read (`_latest_runs_before`).

    A drop's own points (`facts`) are its earn entry: a new drop's earn is written on its
    row (`_First`), a reversal of one names the drop, and strikes are not stored.
    `unstored`: new drops whose rows are not stored yet (`score_new`), facts all the same.

    Returns the rows to append (reversals first, then new entries, penalties last), per
    (source, kind) appended the trigger source it is attributed to, the accounts whose
    latest run changed (account id → new run), to be stored with the balances, and the new
    drops' own earns.
    """
    households = {a: h for h, (a, _b) in accounts.items() if a in triggers}
    if not households:
        return [], {}, {}, []
    cache: dict[date, RuleSet] = {}

    def rules_on(d: date) -> RuleSet:
        if d not in cache:
            cache[d] = _pick(versions, d)
        return cache[d]

    rule_sets = [rs for _d, rs in versions] + [DEFAULT_RULES]
    window = timedelta(days=max(rs.strike_window_days for rs in rule_sets) - 1)
    changes = [d for d, _rs in versions]
    one = timedelta(days=1)
    lo = min(t.facts.local_date for ts in triggers.values() for t in ts)
    facts, own = _read_facts(session, community_id, households, lo, lo - window, unstored)
    # Correct days: from lo on, exactly, from the facts just read; before lo, the stored
    # latest run (see `_runs`), read further back only when it does not say.
    after = {a: rules_mod.correct_days(rules_on, [f for f in facts[a] if f.local_date >= lo])
             for a in households}
    runs = {a: runs_of[a] for a in households}
    prefix, latest, unknown = _runs(after, runs, triggers, lo)
    if unknown:
        for a, run in _latest_runs_before(session, community_id,
                                          {a: households[a] for a in unknown}, lo,
                                          rules_on).items():
            latest[a] = run
            prefix[a] = run if run is not None and run[1] == lo - one else None
    entries: dict[int, list[_Entry]] = {a: [] for a in households}
    # Live = not reversed. A reversal is dated on its entry's day or later (a refund: the
    # day of the refund), so the reversals of the entries read are among the rows read:
    # one range scan of (account, day), no probe per row.
    read = run_prebuilt(session, _entries_stmt(dialect_of(session)),
               {"c": community_id, "accts": list(households), "lo": lo}).all()
    undone = {r[9] for r in read if r[9] is not None}
    # A drop's own points are its earn entry (`facts`); the reversal of one names the drop
    # (reverses_id NULL) and is dated on its day, so it is among the rows read too.
    undone |= {drop_rows.earn_id(r[5]) for r in read
               if r[2] == "reversal" and r[9] is None and r[5] is not None}
    for i, acc, kind, amount, day, drop, version, reason, at, _rev in read:
        entries[acc].append(_Entry(i, acc, kind, amount, day, drop, version, reason, at,
                                   i not in undone))
    for acc, mine_own in own.items():
        for o in mine_own:
            i = drop_rows.earn_id(o.drop_id)
            entries[acc].append(_Entry(i, acc, "earn", o.amount, o.local_date, o.drop_id,
                                       None, "", _no_time(o.local_date), i not in undone))

    rows: list[dict[str, Any]] = []
    blame: dict[tuple[str, str], str] = {}
    new_runs: dict[int, Run] = {}
    firsts: list[_First] = []
    for a in sorted(households):
        new_runs[a] = _new_latest(after[a], prefix[a], latest[a])
        ts = sorted(triggers[a], key=lambda t: rules_mod.fact_order(t.facts))
        my_days = {t.facts.local_date for t in ts}
        my_drops = {t.facts.drop_id for t in ts}
        first = min(my_days)
        run_days, resume = set(after[a]), {}
        if (p := prefix[a]) is not None:  # the run through lo - 1, known by its bounds
            block = rules_mod.block_start(rules_on, p[0], p[1], changes)
            run_days |= {block + timedelta(days=n) for n in range((p[1] - block).days + 1)}
            resume = {block: (p[0], block)}
        bounds = [_run_span(run_days, d) for d in my_days]
        span_hi = max(x for _s, x in bounds)

        def compared(key: rules_mod.Key, on: date, my_days: set[date] = my_days,
                     my_drops: set[int] = my_drops, first: date = first,
                     span_hi: date = span_hi) -> bool:
            kind = key[0]
            if on < first:
                return False
            if kind == "earn":
                return on in my_days
            if kind == "strike":
                return key[1] in my_drops
            if kind == "penalty":
                return True
            return on <= span_hi

        late = [f for f in facts[a] if f.local_date >= first]
        completing = rules_mod.completing_drops(rules_on, late)
        bonuses = {k: replace(v, drop_id=completing[v.local_date].drop_id)
                   for k, v in rules_mod.streak_bonuses(rules_on, run_days,
                                                        resume=resume).items()
                   if v.local_date >= first}
        mine = [x for x in entries[a] if x.local_date >= first]
        balance = accounts[households[a]][1]
        others = [rules_mod.Other(x.local_date, x.at, x.amount, x.id) for x in mine
                  if x.kind not in DROP_KINDS and x.kind != "reversal"]
        due = rules_mod.floor_penalties(
            late, rules_mod.day_earns(rules_on, late) | rules_mod.strike_entries(rules_on,
                                                                                 facts[a])
            | bonuses, others=others, base=balance - sum(x.amount for x in mine), since=first)
        # Strikes are no entries (`facts`): a strike is its drop's quality.
        want = {k: v for k, v in due.items() if k[0] != "strike" and compared(k, v.local_date)}
        have: dict[rules_mod.Key, list[_Entry]] = {}
        for entry in mine:
            if not entry.live or entry.kind not in DROP_KINDS or entry.kind == "strike":
                continue
            if entry.drop_id is None and entry.kind != "bonus":
                continue  # not a drop's entry (never the case for a household's drop kinds)
            if compared(entry.key, entry.local_date):
                have.setdefault(entry.key, []).append(entry)
        # Each key's trigger: the first that owns it (`_Trigger.owns`), else the first.
        owned: dict[rules_mod.Key, _Trigger] = {}
        for t in ts:
            owned.setdefault(("bonus", t.facts.local_date), t)
            for kind in DROP_KINDS:
                if kind != "bonus":
                    owned.setdefault((kind, t.facts.drop_id), t)
        owner = {k: owned.get(k, ts[0]) for k in set(want) | set(have)}
        earned = {x.drop_id for x in mine if x.kind == "earn"}
        undo: list[_Entry] = []
        new: list[tuple[rules_mod.Key, rules_mod.Deserved]] = []
        # In any order: `undo` and `new` are put in a total order below.
        for key in want.keys() | have.keys():
            w, h = want.get(key), have.get(key, [])
            ok = (w is None and not h) or (
                w is not None and len(h) == 1 and h[0].fact_amount == w.amount
                and (key[0] != "bonus" or h[0].drop_id == w.drop_id))
            if ok:
                continue
            undo += h
            if w is not None:
                new.append((key, w))
        # Amounts under the actual balance's zero floor: credits first, then debits.
        avail = balance
        amounts: dict[int, int] = {}
        for x in undo:
            if x.amount < 0:
                amounts[x.id] = -x.amount
                avail -= x.amount
        avail += sum(w.amount for _k, w in new if w.kind != "penalty")
        for x in sorted(undo, key=lambda x: x.id):
            if x.amount >= 0:
                amounts[x.id] = -min(x.amount, max(0, avail))
                avail += amounts[x.id]
        taken: dict[rules_mod.Key, int] = {}
        for key, w in sorted(new, key=lambda kw: (kw[1].local_date, str(kw[0]))):
            if w.kind == "penalty":
                taken[key] = -min(-w.amount, max(0, avail))
                avail += taken[key]
        by_key = {x.id: x.key for x in undo}
        for x in sorted(undo, key=lambda x: (x.amount >= 0, x.id)):
            t = owner[by_key[x.id]]
            # A drop's own points (a negative id) are reversed by drop, once (`facts`).
            own_row = x.id < 0
            source = (drop_rows.drop_reversal_source(cast(int, x.drop_id)) if own_row
                      else f"reversal:{x.id}")
            blame[(source, "reversal")] = t.source
            rows.append({"account_id": a, "amount": amounts[x.id], "kind": "reversal",
                         "source": source, "rule_version": x.rule_version,
                         "actor_id": actor_id, "reason": t.reason(x.key, t.source), "at": now,
                         "local_date": x.local_date,
                         "reverses_id": None if own_row else x.id, "drop_id": x.drop_id})
        for key, w in sorted(new, key=lambda kw: (kw[1].kind == "penalty",
                                                  kw[1].local_date, str(kw[0]))):
            t = owner[key]
            if w.kind == "earn" and t.why == "late" and t.owns(key) and key[1] not in earned:
                # A new drop's own earn is its row's points, not a ledger row (`facts`).
                firsts.append(_First(a, cast(int, key[1]), w.local_date, w.amount, t.source))
                continue
            source = t.source_of(key)
            blame[(source, w.kind)] = t.source
            amount = taken.get(key, w.amount)
            reason = t.reason(key, w.reason)
            if amount != w.amount:
                reason = f"{reason}|{SHORT}:{amount - w.amount}"
            rows.append({"account_id": a, "amount": amount, "kind": w.kind,
                         "source": source, "rule_version": w.rule_version,
                         "actor_id": actor_id, "reason": reason, "at": now,
                         "local_date": w.local_date, "reverses_id": None,
                         "drop_id": w.drop_id if w.drop_id is not None else t.facts.drop_id})
    return rows, blame, {a: r for a, r in new_runs.items() if r != runs[a]}, firsts


def _runs(after: Mapping[int, set[date]], runs: Mapping[int, Run],
          triggers: Mapping[int, Sequence[_Trigger]], lo: date
          ) -> tuple[dict[int, Run], dict[int, Run], set[int]]:
    """What the stored runs say about the days before `lo` (unchanged by this award):
    per account, the run through lo − 1 when it matters (it reaches a changed day or the
    latest correct day), the latest run before lo when there is no correct day from lo on,
    and the accounts for which the stored run does not say (read by `_latest_runs_before`).

    A stored run (f, l) is the latest: every day after l is not correct, f − 1 is not, the
    days of [f, l] are; days before f − 1 are unknown.
    """
    one = timedelta(days=1)
    prefix: dict[int, Run] = {}
    latest: dict[int, Run] = {}
    unknown: set[int] = set()
    for a, days in after.items():
        run = runs[a]
        # The latest run before lo, as far as the stored run tells (False: unknown).
        before: Run | bool
        if run is None:
            before = None
        elif run[1] < lo:
            before = run
        elif run[0] < lo:
            before = (run[0], lo - one)
        else:  # the latest run starts on or after lo: the one before it is older
            before = False
        through = before if isinstance(before, tuple) and before[1] == lo - one else None
        lo_one_known = not (before is False and (run is None or run[0] != lo))
        prefix[a] = through
        latest[a] = before if isinstance(before, tuple) else None
        if days and lo in days:
            end = lo
            while end + one in days:
                end += one
            first = min(t.facts.local_date for t in triggers[a])
            needed = end >= first or end == max(days)
        else:
            needed = False
        if (needed and not lo_one_known) or (not days and before is False):
            unknown.add(a)
    return prefix, latest, unknown


def _new_latest(after: set[date], prefix: Run, latest: Run) -> Run:
    """An account's latest run of correct days after the change: the latest from lo on
    (joined to the run through lo − 1), else the latest run before lo."""
    if not after:
        return latest
    one = timedelta(days=1)
    last = first = max(after)
    while first - one in after:
        first -= one
    if prefix is not None and prefix[1] == first - one:
        first = prefix[0]
    return (first, last)


def _apply(session: Session, community_id: int, plan: _Plan, stored: Mapping[int, Run], *,
           on_rows: bool = False, credited: Mapping[int, int] | None = None
           ) -> dict[str, int]:
    """Write the new drops' own points on their rows (unless `on_rows`: their INSERT
    carried them) and append the rows, then move the balances (by the plan's amounts and
    `credited`, account → points already on rows) and store the changed runs (the plan's;
    the others keep `stored`) in one executemany UPDATE; points per trigger source."""
    rows, blame, runs, firsts = plan
    deltas: dict[int, int] = dict(credited or {})
    out: dict[str, int] = {}
    if firsts and not on_rows:
        run_prebuilt(session, _own_points_stmt(), [
            {"c": community_id, "d": f.drop_id, "day": f.local_date, "p": f.amount}
            for f in firsts])
    for f in firsts:
        deltas[f.account_id] = deltas.get(f.account_id, 0) + f.amount
        out[f.source] = out.get(f.source, 0) + f.amount
    for _i, a, m, s, k in _append(session, community_id, rows):
        deltas[a] = deltas.get(a, 0) + m
        out[blame[(s, k)]] = out.get(blame[(s, k)], 0) + m
    changed = sorted(a for a in set(runs) | {a for a, d in deltas.items() if d})
    if not changed:
        return out
    params = []
    for a in changed:
        span = runs[a] if a in runs else stored[a]
        params.append({"c": community_id, "aid": a, "delta": deltas.get(a, 0),
                       "rf": span[0] if span else None, "rl": span[1] if span else None})
    run_prebuilt(session, _balances_stmt(), params)
    return out


def _lock_split(session: Session, community_id: int, households: set[int]
                ) -> tuple[dict[int, tuple[int, int]], dict[int, Run]]:
    """Lock the households' accounts (`_lock`): household → (account id, balance), and
    account id → its stored latest run, as the recomputation takes them."""
    locked = _lock(session, community_id, households)
    return ({h: (i, b) for h, (i, b, _r) in locked.items()},
            {i: r for i, _b, r in locked.values()})


def _award(session: Session, facts: Sequence[DropFacts], *, community_id: int,
           now: datetime, actor_id: int | None = None) -> dict[str, int]:
    """Recompute the households of drops just stored (their rows are the facts, `facts`);
    trigger source → points.

    Only a drop stored in this transaction may be given: its row's points are still 0. A
    drop scored before (a retry the caller did not recognise) changes nothing: its own
    points are a live entry the recomputation finds as deserved.
    """
    scoring = _score(session, facts, community_id=community_id, now=now, actor_id=actor_id,
                     stored_rows=True)
    return _apply(session, community_id, scoring.plan, scoring.stored)


@dataclass(frozen=True)
class Scoring:
    """New drops of one community scored before their rows are stored (`score_new`):
    `points` are their own earns, for the caller to store on each row in its INSERT (one
    row version per drop: an UPDATE after the insert doubled the row and, in a batch, every
    index entry; BENCHMARKS.md "Bytes per drop"); then `finish` with the ids stored."""

    community_id: int
    new: tuple[DropFacts, ...]
    accounts: Mapping[int, tuple[int, int]]  # household → (account id, balance), locked
    stored: Mapping[int, Run]
    plan: _Plan
    now: datetime

    @property
    def points(self) -> dict[int, int]:
        """Drop id → the points to store on its row (0: none)."""
        return {f.drop_id: f.amount for f in self.plan[3]}


def score_new(session: Session, facts: Sequence[DropFacts], *, community_id: int,
              now: datetime | None = None) -> Scoring:
    """Score drops of one community whose rows are about to be stored (ids reserved, rows
    not inserted yet): lock their households' accounts and recompute them with these facts
    added to the stored ones. Anonymous tallies score nothing. The caller inserts the rows
    with `Scoring.points` and then calls `finish` in the same transaction."""
    return _score(session, facts, community_id=community_id, now=now or clock.now(),
                  actor_id=None, stored_rows=False)


def _new_drops(accounts: Mapping[int, tuple[int, int]],
               facts: Sequence[DropFacts]) -> dict[int, list[_Trigger]]:
    """New drops as triggers ("drop:<id>", a late fact), per account (household → account)."""
    triggers: dict[int, list[_Trigger]] = {}
    for f in facts:
        account_id = accounts[cast(int, f.household_id)][0]
        triggers.setdefault(account_id, []).append(_Trigger(f"drop:{f.drop_id}", f, "late"))
    return triggers


def _score(session: Session, facts: Sequence[DropFacts], *, community_id: int,
           now: datetime, actor_id: int | None, stored_rows: bool) -> Scoring:
    """Lock the households of new drops and recompute them (`stored_rows`: their rows are
    stored already, else their facts are added to the stored ones)."""
    items = tuple(f for f in facts if f.household_id is not None)
    if not items:
        return Scoring(community_id, (), {}, {}, ([], {}, {}, []), now)
    accounts, stored = _lock_split(session, community_id,
                                   {cast(int, f.household_id) for f in items})
    plan = _recompute(session, community_id, accounts, _new_drops(accounts, items),
                      _community_rules(session, community_id), now=now, actor_id=actor_id,
                      runs_of=stored, unstored=() if stored_rows else items)
    return Scoring(community_id, items, accounts, stored, plan, now)


def finish(session: Session, scoring: Scoring, inserted: Collection[int]) -> dict[int, int]:
    """Complete `score_new` once the rows are inserted (`inserted`: the ids stored): append
    the entries, move the balances; drop id → points, as `award_for_drops`.

    A row the INSERT skipped (a concurrent request stored the same client id first: a
    replay) was counted by the plan; its households' part of the plan is dropped, the
    points their stored rows carry are credited, and those households are recomputed from
    the stored facts, which appends whatever the rows' points got wrong as corrections.
    """
    c, plan = scoring.community_id, scoring.plan
    missing = {f.drop_id for f in scoring.new} - set(inserted)
    if not missing:
        got = _apply(session, c, plan, scoring.stored, on_rows=True)
        return {f.drop_id: got.get(f"drop:{f.drop_id}", 0) for f in scoring.new}
    account = {h: a for h, (a, _b) in scoring.accounts.items()}
    redo = {account[cast(int, f.household_id)] for f in scoring.new if f.drop_id in missing}
    rows, blame, runs, firsts = plan
    clean: _Plan = ([r for r in rows if r["account_id"] not in redo], blame,
                    {a: r for a, r in runs.items() if a not in redo},
                    [f for f in firsts if f.account_id not in redo])
    kept = [x for x in firsts if x.account_id in redo and x.drop_id not in missing]
    credited: dict[int, int] = {}
    for x in kept:
        credited[x.account_id] = credited.get(x.account_id, 0) + x.amount
    got = _apply(session, c, clean, scoring.stored, on_rows=True, credited=credited)
    accounts = {h: (a, b + credited.get(a, 0)) for h, (a, b) in scoring.accounts.items()}
    triggers = _new_drops(accounts, [f for f in scoring.new if f.drop_id not in missing
                                     and account[cast(int, f.household_id)] in redo])
    again = _recompute(session, c, accounts, triggers, _community_rules(session, c),
                       now=scoring.now, actor_id=None, runs_of=scoring.stored)
    for source, points in _apply(session, c, again, scoring.stored).items():
        got[source] = got.get(source, 0) + points
    for x in kept:
        got[x.source] = got.get(x.source, 0) + x.amount
    return {f.drop_id: 0 if f.drop_id in missing else got.get(f"drop:{f.drop_id}", 0)
            for f in scoring.new}


def award_for_drops(session: Session, facts: Sequence[DropFacts], *, community_id: int,
                    now: datetime | None = None) -> dict[int, int]:
    """Score new drops of one community; drop id → points (its own entries and the
    corrections it triggered, e.g. a late drop completing a streak).

    The result does not depend on the order of `facts` nor on the order of requests: each
    household is recomputed once from its facts (see `_recompute`). A fixed number of
    statements whatever the batch size (more only to follow a long streak back). Anonymous
    tallies and drops that earn nothing map to 0. Safe to retry: a drop already scored is
    not scored again.
    """
    now = now or clock.now()
    got = _award(session, facts, community_id=community_id, now=now)
    return {f.drop_id: got.get(f"drop:{f.drop_id}", 0) for f in facts}


def points_for_drops(session: Session, community_id: int, drop_ids: Sequence[int], *,
                     days: Collection[date] = ()) -> dict[int, int]:
    """What the first scoring of each drop of a community credited (for a replayed scan's
    feedback).

    `days`, the drops' local days when the caller has them: every entry of source
    "drop:<id>" is dated by its drop's day, so the read then visits only those days'
    monthly partitions (PostgreSQL) instead of every month of the ledger.
    """
    if not drop_ids:
        return {}
    sources = {f"drop:{i}": i for i in drop_ids}
    on_days = [any_of(session, col(LedgerEntry.local_date), sorted(set(days)))] if days else []
    d = drops.c
    own = select(d.id, d.points).where(d.community_id == community_id,
                                       any_of(session, d.id, drop_ids),
                                       *([any_of(session, d.local_date, sorted(set(days)))]
                                         if days else []))
    got = {i: int(p) for i, p in session.execute(own)}
    rows = session.execute(
        select(col(LedgerEntry.source), func.sum(LedgerEntry.amount))
        .where(col(LedgerEntry.community_id) == community_id,
               col(LedgerEntry.source).in_(sources), col(LedgerEntry.kind).in_(DROP_KINDS),
               *on_days)
        .group_by(LedgerEntry.source))
    for s, t in rows:
        got[sources[s]] = got.get(sources[s], 0) + int(t or 0)
    return {i: got.get(i, 0) for i in drop_ids}


def reverse_and_reaward(session: Session, *, facts: DropFacts, community_id: int,
                        regrade_id: int, earlier_regrade_ids: Sequence[int] = (),
                        actor_id: int | None = None, now: datetime | None = None) -> int:
    """After a regrade (the caller has updated the drop row, the facts): recompute its
    household around its day ("regrade:<id>"); returns the net change of the balance.

    `facts` is the drop after the regrade. Only what the facts no longer deserve is
    reversed, and only what they newly deserve is added: the drop's own earn and strike,
    the penalties its strike moves (from its day to the end of the strike window), the
    amounts of all later penalties (their fact balances move with its earn), the cap of its
    day, and the bonuses of the runs touching its day. A bonus the unbroken run still
    deserves stays. A reversal never takes the balance below zero: when points were spent
    meanwhile it takes what is left (the shortfall stays with the household).
    `earlier_regrade_ids` is kept for callers; entries are matched by drop, not by source.
    """
    del earlier_regrade_ids
    now = now or clock.now()
    if facts.household_id is None:
        return 0
    refuse_closed_year(session, community_id, facts.local_date)
    accounts, stored = _lock_split(session, community_id, {facts.household_id})
    account_id, _balance = accounts[facts.household_id]
    versions = _community_rules(session, community_id)
    trigger = _Trigger(f"regrade:{regrade_id}", facts, "regrade")
    plan = _recompute(session, community_id, accounts, {account_id: [trigger]}, versions,
                      now=now, actor_id=actor_id, runs_of=stored)
    return sum(_apply(session, community_id, plan, stored).values())


def void_drop(session: Session, *, facts: DropFacts, community_id: int,
              actor_id: int | None = None, now: datetime | None = None) -> int:
    """After a steward voided a drop (the caller has marked its row void, so it is no
    fact any more): recompute its household around its day ("void:<drop id>"); returns the
    net change of the balance (0 when the drop was never scored, e.g. a repeat; the
    recomputation is idempotent, so a second call moves nothing).

    A voided drop is a fact that no longer counts: its earn and strike are reversed, the
    cap of its day, the penalties from its day on and the bonuses of the runs touching it
    are recomputed exactly as for a regrade, and the stored latest run follows.
    """
    now = now or clock.now()
    if facts.household_id is None:
        return 0
    refuse_closed_year(session, community_id, facts.local_date)
    accounts, stored = _lock_split(session, community_id, {facts.household_id})
    account_id, _balance = accounts[facts.household_id]
    versions = _community_rules(session, community_id)
    trigger = _Trigger(f"void:{facts.drop_id}", facts, "void")
    plan = _recompute(session, community_id, accounts, {account_id: [trigger]}, versions,
                      now=now, actor_id=actor_id, runs_of=stored)
    return sum(_apply(session, community_id, plan, stored).values())


# --- Reading --------------------------------------------------------------------------------

def balance_of_account(session: Session, account_id: int) -> int:
    """The stored balance of one points account."""
    return int(session.execute(select(col(PointsAccount.balance)).where(
        col(PointsAccount.id) == account_id)).scalar_one())


def balance(session: Session, household_id: int) -> int:
    """A household's balance (0 before its first entry); all its members share it."""
    got = session.execute(select(col(PointsAccount.balance)).where(
        col(PointsAccount.household_id) == household_id)).scalar_one_or_none()
    return int(got or 0)


@dataclass(frozen=True)
class HistoryRow:
    """One ledger entry as a resident reads it."""

    id: int
    at: datetime
    local_date: date
    kind: str
    amount: int
    text: str
    drop_id: int | None = None  # the drop an earn, strike or penalty is about
    undone: bool = False  # taken back by a later reversal (`facts.taken_back`)


def _signed(amount: int) -> str:
    return f"+{amount}" if amount > 0 else str(amount)


def _hours(minutes: str) -> str:
    """Minutes (as stored in a reason) as hours for people: '150' → '2.5', '100' → '1.67'."""
    if not minutes.isdigit():
        return minutes
    return f"{int(minutes) / 60:.2f}".rstrip("0").rstrip(".")


def describe(kind: str, amount: int, reason: str, reversed_kind: str | None = None,
             reversed_reason: str | None = None) -> str:
    """The plain-language reason of an entry, e.g. "厨余垃圾分类正确 +2" (pure; translated).

    A correction made by a recomputation carries "|late:<day>" or "|regrade:<day>" after
    its reason: the text then says why, e.g. "Bonus for 7 days of correct sorting in a row
    (recalculated after a late drop for 11-24) +5".
    """
    reason, *notes = (reason or "").split("|")
    text = _describe(kind, reason, reversed_kind, reversed_reason)
    # Notes: "late:<day>" or "regrade:<day>" (why), "short:<n>" (see `_recompute`; not shown).
    cause, _sep, day = next((n for n in notes if n.partition(":")[0] != SHORT), "").partition(":")
    try:
        shown = date.fromisoformat(day).strftime("%m-%d")
    except ValueError:
        shown = ""
    if shown and cause == "late":
        text = _("%(what)s (%(why)s)", what=text,
                 why=_("recalculated after a late drop for %(day)s", day=shown))
    elif shown and cause == "regrade":
        text = _("%(what)s (%(why)s)", what=text,
                 why=_("recalculated after a regrade of a drop on %(day)s", day=shown))
    elif cause == "void" or reason.startswith("void:"):
        text = _("%(what)s (%(why)s)", what=text, why=_("a scan undone by the steward"))
    return f"{text} {_signed(amount)}"


def _describe(kind: str, reason: str, reversed_kind: str | None,
              reversed_reason: str | None) -> str:
    head, _sep, tail = reason.partition(":")
    if kind == "earn" and head == "hours":
        text = _("Volunteer service %(hours)s hours", hours=_hours(tail))
    elif kind == "earn":
        name = CATEGORY_LABELS.get(tail, tail)
        text = _("%(category)s sorted correctly", category=name)
    elif kind == "bonus":
        text = _("Bonus for %(days)s days of correct sorting in a row", days=tail)
    elif kind == "penalty":
        text = _("Penalty for incorrect sort number %(n)s", n=tail)
    elif kind == "strike":
        text = _("Incorrect sorting (a strike)")
    elif kind == "reversal":
        was = _describe(reversed_kind or "", (reversed_reason or "").partition("|")[0], None,
                        None)
        text = _("Correction: %(what)s", what=was)
    elif kind == "adjust":
        text = _("Adjustment by the community: %(reason)s", reason=reason)
    elif kind == "expire":
        text = _("Points earned in %(year)s expired", year=tail)
    elif kind == "redeem":
        text = _("Redeemed: %(item)s", item=reason)
    elif kind == "refund" and head == "case":  # casework: a closed case's penalties
        text = _("Penalties refunded: the education case closed after a run of correct drops")
    elif kind == "refund":
        text = _("Redemption cancelled, points returned")
    elif kind == "carry":
        text = _("Points earned in %(year)s carried into the next year", year=tail)
    else:
        text = kind
    return str(text)


def history(session: Session, *, household_id: int, limit: int = HISTORY_LIMIT,
            before: str | None = None) -> list[HistoryRow]:
    """A household's entries (`facts.entries`: the ledger's and its drops' own), newest
    written first, with their plain-language reasons. Keyset paging: `before` is the
    cursor of the previous page's last row (`facts.encode_cursor(row.at, row.id)`)."""
    account = session.execute(select(col(PointsAccount.id)).where(
        col(PointsAccount.household_id) == household_id)).scalar_one_or_none()
    return _account_history(session, account, limit, before)


def _account_history(session: Session, account: int | None, limit: int,
                     before: str | None) -> list[HistoryRow]:
    """One account's entries, newest written first (`facts.written_order`), described; a
    malformed cursor is the first page."""
    if account is None:
        return []
    e = drop_rows.entries()
    joined, rk, rr = drop_rows.undone(e, e)
    stmt = (select(e.c.id, e.c.at, e.c.local_date, e.c.kind, e.c.amount, e.c.reason,
                   e.c.drop_id, rk, rr, drop_rows.taken_back(e))
            .select_from(joined).where(e.c.account_id == account))
    cursor = drop_rows.decode_cursor(before)
    if cursor is not None:
        stmt = stmt.where(drop_rows.written_before(e, *cursor))
    rows = session.execute(stmt.order_by(*(c.desc() for c in drop_rows.written_order(e)))
                           .limit(limit)).all()
    return [HistoryRow(i, at, day, kind, amount, describe(kind, amount, reason, rk_, rr_),
                       drop_id, bool(gone))
            for i, at, day, kind, amount, reason, drop_id, rk_, rr_, gone in rows]


# --- Manual adjustments and the ledger check ------------------------------------------------

def adjust(session: Session, *, actor: policy.Actor, household_id: int, data: AdjustIn,
           now: datetime | None = None, ip: str | None = None) -> LedgerEntry:
    """A manager's manual change of a household's points (points:adjust); never below zero."""
    now = now or clock.now()
    hh = session.get(Household, household_id)
    if hh is None:
        raise NotFound()
    area = cast(Area, session.get(Area, hh.community_id))  # a foreign key: the area exists
    policy.require(actor, "points:adjust", area)
    amount, reason = data.amount, data.reason
    accounts = lock_accounts(session, hh.community_id, {household_id})
    account_id, current = accounts[household_id]
    if current + amount < 0:
        raise NotEnoughPoints(field="amount", balance=current)
    record = audit.record(session, actor_id=actor.account_id, action="points.adjusted",
                          area=area, target_type="household", target_id=household_id, ip=ip,
                          amount=amount, reason=reason)
    local_day = clock.local_today(area.timezone, now)
    rows = _append(session, hh.community_id, [{
                              "account_id": account_id, "amount": amount, "kind": "adjust",
                              "source": f"adjust:{record.id}", "rule_version": None,
                              "actor_id": actor.account_id, "reason": reason, "at": now,
                              "local_date": local_day, "reverses_id": None}])
    _move_balances(session, hh.community_id, {account_id: amount})
    return cast(LedgerEntry, session.get(LedgerEntry, rows[0][0]))  # just appended


@dataclass(frozen=True)
class Drift:
    """An account whose stored balance differs from the sum of its entries."""

    account_id: int
    household_id: int | None
    balance: int
    entries_sum: int


def verify(session: Session) -> list[Drift]:
    """Recompute every balance from its entries in SQL (the ledger's and the drops' own
    points, `facts.entries`); the accounts that drifted (want none)."""
    every = drop_rows.entries()
    sums = (select(every.c.account_id.label("aid"), func.sum(every.c.amount).label("total"))
            .group_by(every.c.account_id).subquery())
    total = func.coalesce(sums.c.total, 0)
    rows = session.execute(
        select(col(PointsAccount.id), col(PointsAccount.household_id), col(PointsAccount.balance),
               total)
        .outerjoin(sums, sums.c.aid == PointsAccount.id)
        .where(col(PointsAccount.balance) != total)
        .order_by(col(PointsAccount.id))).all()
    return [Drift(a, h, int(b), int(t)) for a, h, b, t in rows]


@dataclass(frozen=True)
class RunDrift:
    """An account whose stored latest run of correct days differs from its facts'."""

    account_id: int
    household_id: int | None
    stored: Run
    facts: Run


def misdated_reversals(session: Session) -> list[int]:
    """Reversals and refunds dated before the entry they undo (want none): the ledger read
    of `_recompute` finds an entry's reversal among the rows from the entry's day on (a
    drop row's earn: its reversal by drop, `facts`, from the drop's day on)."""
    undone = aliased(LedgerEntry)
    entries = select(col(LedgerEntry.id)).join(
        undone, col(undone.id) == LedgerEntry.reverses_id).where(
        col(LedgerEntry.local_date) < col(undone.local_date))
    d = drops.c
    own = select(col(LedgerEntry.id)).join(drops, and_(
        d.community_id == LedgerEntry.community_id, d.id == LedgerEntry.drop_id)).where(
        col(LedgerEntry.kind) == "reversal", col(LedgerEntry.reverses_id).is_(None),
        col(LedgerEntry.local_date) < d.local_date)
    return sorted(session.execute(union_all(entries, own)).scalars())


def latest_run(days: set[date]) -> Run:
    """The latest run of consecutive days in `days` (first, last), or None when empty."""
    if not days:
        return None
    one = timedelta(days=1)
    last = first = max(days)
    while first - one in days:
        first -= one
    return (first, last)


def verify_runs(session: Session) -> list[RunDrift]:
    """Recompute every account's latest run of correct days from its scored facts (with the
    rules in force each day); the accounts whose stored run differs (want none). Streams the
    facts grouped by account and day, one account at a time."""
    from itertools import groupby

    a, d = PointsAccount, drops.c
    accounts = {i: (c, h, (f, last) if f is not None and last is not None else None)
                for i, c, h, f, last in session.execute(
                    select(col(a.id), col(a.community_id), col(a.household_id),
                           col(a.run_first), col(a.run_last)))}
    versions: dict[int, list[tuple[date, RuleSet]]] = {}
    found: dict[int, Run] = {}
    rows = session.execute(
        select(col(a.id), d.local_date, d.quality).select_from(drops)
        .join(a, and_(col(a.community_id) == d.community_id,
                      col(a.household_id) == d.household_id))
        .where(*drop_rows.scored(), d.in_window.is_(True),
               d.quality.in_(("correct", "ungraded")))
        .group_by(col(a.id), d.local_date, d.quality)
        .order_by(col(a.id)), execution_options={"yield_per": LOTS_FETCH})
    for account_id, group in groupby(rows, key=lambda r: r[0]):
        community_id, household_id, _run = accounts[account_id]
        if community_id not in versions:
            versions[community_id] = _community_rules(session, community_id)
        days = {d for _a, d, q in group if rules_mod.earns(
            _pick(versions[community_id], d), DropFacts(0, household_id, "", q, True, d))}
        found[account_id] = latest_run(days)
    return [RunDrift(i, h, run, found.get(i)) for i, (_c, h, run) in sorted(accounts.items())
            if run != found.get(i)]


# --- Expiry (lots are folded from the ledger, never stored) ---------------------------------

LOTS_FETCH = 10_000  # ledger rows fetched at a time while folding lots (long histories stream)


def account_lots(session: Session, rules_by_account: Mapping[int, RuleSet], *,
                 through: date | None = None) -> dict[int, list[rules_mod.Lot]]:
    """Each account's unspent lots (oldest year first), folded from its ledger (up to
    `through`, when given: the lots at the end of that day).

    A refund or a reversal gives its points back to the year of the entry it undoes
    (`rules.credit_year`, judged on the local day the points came back, with that account's
    rules). After a year was carried forward (`jobs.carry_forward`) the fold starts at the
    carry's opening entries (one per lot, "lot:<year>", dated 1 January of the next year),
    folded first, and reads nothing older: the closed year's partitions may be archived.
    Two reads: the accounts' latest carries, then one streamed query.
    """
    from itertools import groupby
    from zoneinfo import ZoneInfo

    out: dict[int, list[rules_mod.Lot]] = {a: [] for a in rules_by_account}
    if not out:
        return out
    zones = {a: ZoneInfo(tz) for a, tz in session.execute(
        select(col(PointsAccount.id), col(Area.timezone))
        .join(Area, col(Area.id) == PointsAccount.community_id)
        .where(col(PointsAccount.id).in_(list(out))))}
    until = [col(LedgerEntry.local_date) <= through] if through else []
    every = drop_rows.entries()
    upto = [every.c.local_date <= through] if through else []
    start = dict(session.execute(
        select(col(LedgerEntry.account_id), func.max(LedgerEntry.local_date))
        .where(col(LedgerEntry.account_id).in_(list(out)), col(LedgerEntry.kind) == "carry",
               col(LedgerEntry.amount) > 0, *until)
        .group_by(col(LedgerEntry.account_id))).all())
    # The drops' own points (`facts.entries`, negative ids) come before the ledger's rows:
    # they are credits of their own day's year, and a debit takes the oldest years first,
    # so a credit folded early never changes which lots a debit takes from.
    undone = aliased(LedgerEntry)
    opening = case((every.c.kind == "carry", 0), else_=1)
    rows = session.execute(
        select(every.c.account_id, every.c.local_date, every.c.amount, every.c.at,
               col(undone.local_date), every.c.kind, every.c.reason)
        .outerjoin(undone, col(undone.id) == every.c.reverses_id)
        .where(every.c.account_id.in_(list(out)), every.c.amount != 0, *upto)
        .order_by(every.c.account_id, opening, every.c.id),
        execution_options={"yield_per": LOTS_FETCH})
    for account_id, group in groupby(rows, key=lambda r: r[0]):
        rs, zone = rules_by_account[account_id], zones[account_id]
        first = start.get(account_id, date.min)
        out[account_id] = rules_mod.lots_from_entries(
            rules_mod.LotEntry(day, amount, _lot_year(rs, kind, reason, at, amount, back, zone))
            for _a, day, amount, at, back, kind, reason in group if day >= first)
    return out


def _lot_year(rs: RuleSet, kind: str, reason: str, at: datetime, amount: int,
              back: date | None, zone: Any) -> int | None:
    """The lot an entry joins (a credit) or takes from (a carry's debit); None: its own
    year for a credit, the oldest lots first for a debit."""
    if kind == "carry":
        return int(reason.partition(":")[2])
    if amount > 0 and back:
        return rules_mod.credit_year(rs, at.astimezone(zone).date(), back)
    return None


def expiring_points(session: Session, household_id: int, today: date) -> list[tuple[date, int]]:
    """A household's points still to expire, soonest first: (last day, points), from its lots.

    `today` is the community's local date; its rules in force that day decide the last days.
    """
    row = session.execute(select(col(PointsAccount.id), col(PointsAccount.community_id)).where(
        col(PointsAccount.household_id) == household_id)).one_or_none()
    if row is None:
        return []
    account_id, community_id = row
    rs = current_rules(session, community_id, today)
    return rules_mod.expiring(rs, account_lots(session, {account_id: rs})[account_id], today)


# --- Stewards' points (积分银行) ----------------------------------------------------------
# A steward's approved hours credit the steward's own account in the same ledger. The
# account is the household account's twin: owner_type 'steward', steward_id set.

def lock_steward_accounts(session: Session, community_id: int,
                          steward_ids: set[int]) -> dict[int, tuple[int, int]]:
    """Lock (creating when missing) stewards' points accounts: id → (account id, balance).

    A caller crediting several stewards in one transaction locks them all here first, so
    two such transactions take the locks in the same (account id) order and never deadlock.
    """
    return lock_accounts(session, community_id, steward_ids, owner="steward")


def credit_steward(session: Session, *, steward_id: int, community_id: int, amount: int,
                   source: str, reason: str, actor_id: int | None, now: datetime,
                   rule_version: int | None = None) -> int:
    """Credit a steward's account once per `source` (one "earn" entry); the points credited.

    UNIQUE (community_id, source, kind) makes a second credit of the same source impossible,
        even from a
    concurrent transaction: it returns 0 and moves nothing. A zero amount appends nothing.
    """
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise InvalidInput(field="amount")
    accounts = lock_steward_accounts(session, community_id, {steward_id})
    account_id, _balance = accounts[steward_id]
    if amount == 0:
        return 0
    area = cast(Area, session.get(Area, community_id))  # the steward's community exists
    local_day = clock.local_today(area.timezone, now)
    rows = _append(session, community_id, [{
                              "account_id": account_id, "amount": amount, "kind": "earn",
                              "source": source, "rule_version": rule_version,
                              "actor_id": actor_id, "reason": reason, "at": now,
                              "local_date": local_day, "reverses_id": None}])
    credited = sum(m for _i, _a, m, _s, _k in rows)
    _move_balances(session, community_id, {account_id: credited})
    return credited


def steward_balance(session: Session, steward_id: int) -> int:
    """A steward's points balance (0 before the first credit)."""
    got = session.execute(select(col(PointsAccount.balance)).where(
        col(PointsAccount.steward_id) == steward_id)).scalar_one_or_none()
    return int(got or 0)


def steward_history(session: Session, *, steward_id: int, limit: int = HISTORY_LIMIT,
                    before: str | None = None) -> list[HistoryRow]:
    """A steward's entries, newest first, with their plain-language reasons (keyset paging
    as `history`)."""
    account = session.execute(select(col(PointsAccount.id)).where(
        col(PointsAccount.steward_id) == steward_id)).scalar_one_or_none()
    return _account_history(session, account, limit, before)


__all__ = ["DropFacts", "HistoryRow", "NotEnoughPoints", "account_lots", "adjust",
           "award_for_drops", "balance", "credit_steward", "current_rules", "describe",
           "expiring_points", "history", "lock_accounts", "lock_steward_accounts",
           "drop_entry_not_reversed", "not_reversed", "publish_rules",
           "misdated_reversals", "reverse_and_reaward", "steward_balance", "void_drop",
           "steward_history", "verify", "verify_runs"]
