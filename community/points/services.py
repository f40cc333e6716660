"""Points use cases: rule versions, awards for drops, regrade corrections, balances, history,
manual adjustments and the ledger check.

The ledger is append-only. Every award locks the household accounts it touches (in id
order, so two batches never deadlock), reads the ledger state it needs with a few grouped
queries, appends its entries with INSERT … ON CONFLICT (source, kind) DO NOTHING and moves
each balance by the amounts of the rows actually inserted, in the same transaction. A
retried or concurrent award of the same drop therefore credits once.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any, Literal, cast

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.audit import services as audit
from community.auth import policy
from community.errors import Conflict, DomainError, InvalidInput, NotFound
from community.households.models import Household
from community.points import rules as rules_mod
from community.points.models import LedgerEntry, PointsAccount, PointsRuleSet
from community.points.rules import DropFacts, HouseholdDay, RuleSet
from community.points.schemas import AdjustIn, RulesIn
from community.rows import insert_ignoring, table_of
from community.waste import CATEGORY_LABELS

DROP_KINDS = ("earn", "bonus", "penalty", "strike")
HISTORY_LIMIT = 50
STREAK_LOOKBACK_DAYS = 366  # streak lengths are counted back at most this far


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


def _community_rules(session: Session, community_id: int) -> list[tuple[date, RuleSet]]:
    rows = session.execute(
        select(PointsRuleSet).where(col(PointsRuleSet.community_id) == community_id)
        .order_by(col(PointsRuleSet.effective_from), col(PointsRuleSet.version))
    ).scalars()
    return [(r.effective_from, _rule_set(r)) for r in rows]


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
    if not owner_ids:
        return {}
    key = f"{owner}_id"  # household_id or steward_id: unique, so ON CONFLICT skips existing
    session.execute(insert_ignoring(session, table_of(PointsAccount), on=[key]),
                    [{"community_id": community_id, "owner_type": owner, "household_id": None,
                      "steward_id": None, "balance": 0, key: i} for i in sorted(owner_ids)])
    owner_id = col(PointsAccount.household_id if owner == "household"
                   else PointsAccount.steward_id)
    rows = session.execute(
        select(owner_id, col(PointsAccount.id), col(PointsAccount.balance))
        .where(owner_id.in_(owner_ids))
        .order_by(col(PointsAccount.id)).with_for_update()
    ).all()
    return {o: (i, b) for o, i, b in rows}


_Reverser = aliased(LedgerEntry)


def not_reversed() -> ColumnElement[bool]:
    """Entries not reversed (a correlated NOT EXISTS on the unique reverses_id)."""
    return ~select(col(_Reverser.id)).where(col(_Reverser.reverses_id) == LedgerEntry.id).exists()


@dataclass
class _State:
    balance: int
    earned: dict[date, int]
    strikes: list[date]
    correct: set[date]
    bonuses: set[date]

    def day(self, on: date) -> HouseholdDay:
        return HouseholdDay(balance=self.balance, earned_today=self.earned.get(on, 0),
                            strike_dates=tuple(self.strikes), correct_dates=set(self.correct),
                            bonus_dates=set(self.bonuses))

    def add(self, kind: str, amount: int, on: date) -> None:
        self.balance += amount
        if kind == "earn":
            self.earned[on] = self.earned.get(on, 0) + amount
            self.correct.add(on)
        elif kind == "bonus":
            self.bonuses.add(on)
            self.correct.add(on)
        elif kind == "strike":
            self.strikes.append(on)


STREAK_FIRST_LOOK = 14  # days read first; a streak touching the edge is followed further back


def _load_states(session: Session, accounts: dict[int, tuple[int, int]], days: set[date],
                 versions: Sequence[tuple[date, RuleSet]] = ()) -> dict[int, _State]:
    """Each account's ledger state around `days`, in a few grouped queries for all accounts.

    Streaks are read adaptively: a short window first, then further back only for the
    accounts whose correct days reach the window's edge (a long streak is rare), so the
    hot scan path reads days, not a year, per household.
    """
    states = {a: _State(b, {}, [], set(), set()) for _h, (a, b) in accounts.items()}
    if not states or not days:
        return states
    ids = list(states)
    lo, hi = min(days), max(days)
    rule_sets = [rs for _d, rs in versions] or [DEFAULT_RULES]
    earned = session.execute(
        select(col(LedgerEntry.account_id), col(LedgerEntry.local_date),
               func.sum(LedgerEntry.amount))
        .where(col(LedgerEntry.account_id).in_(ids), col(LedgerEntry.kind) == "earn",
               col(LedgerEntry.local_date).in_(days), not_reversed())
        .group_by(col(LedgerEntry.account_id), col(LedgerEntry.local_date)))
    for a, d, total in earned:
        states[a].earned[d] = int(total or 0)
    # Days with a correct drop (an earn or a bonus) and bonus days; the first window covers
    # at least one streak block, so "a bonus already in this block" is always seen.
    look = max(STREAK_FIRST_LOOK, max(rs.streak_days for rs in rule_sets))
    todo, newest, oldest = ids, hi, lo - timedelta(days=look)
    while todo:
        for a, d, kind in session.execute(
                select(col(LedgerEntry.account_id), col(LedgerEntry.local_date),
                       col(LedgerEntry.kind))
                .where(col(LedgerEntry.account_id).in_(todo),
                       col(LedgerEntry.kind).in_(("earn", "bonus")),
                       col(LedgerEntry.local_date) >= oldest,
                       col(LedgerEntry.local_date) <= newest, not_reversed())
                .group_by(col(LedgerEntry.account_id), col(LedgerEntry.local_date),
                          col(LedgerEntry.kind))):
            states[a].correct.add(d)
            if kind == "bonus":
                states[a].bonuses.add(d)
        if lo - oldest >= timedelta(days=STREAK_LOOKBACK_DAYS):
            break
        # Follow back only the accounts whose run of correct days reaches the edge.
        todo = [a for a in todo if oldest in states[a].correct]
        newest, oldest = oldest - timedelta(days=1), oldest - timedelta(days=look * 4)
        oldest = max(oldest, lo - timedelta(days=STREAK_LOOKBACK_DAYS))
    # Strikes within the longest strike window in force (several on one day count apart).
    window = max(rs.strike_window_days for rs in rule_sets)
    strikes = session.execute(
        select(col(LedgerEntry.account_id), col(LedgerEntry.local_date), func.count())
        .where(col(LedgerEntry.account_id).in_(ids), col(LedgerEntry.kind) == "strike",
               col(LedgerEntry.local_date) >= lo - timedelta(days=window),
               col(LedgerEntry.local_date) <= hi, not_reversed())
        .group_by(col(LedgerEntry.account_id), col(LedgerEntry.local_date)))
    for a, d, n in strikes:
        states[a].strikes += [d] * int(n)
    return states


def _append(session: Session, rows: list[dict[str, Any]]) -> list[tuple[int, int, int, str, str]]:
    """Insert entries, skipping (source, kind) already present; new (id, account, amount,
    source, kind)."""
    if not rows:
        return []
    table = table_of(LedgerEntry)
    ins = insert_ignoring(session, table, on=["source", "kind"]).returning(
        table.c.id, table.c.account_id, table.c.amount, table.c.source, table.c.kind)
    return [(i, a, m, s, k) for i, a, m, s, k in session.execute(ins, rows).all()]


def _move_balances(session: Session, deltas: Mapping[int, int]) -> None:
    """balance = balance + delta, one executemany UPDATE for all accounts that changed."""
    moved = [{"aid": a, "delta": d} for a, d in sorted(deltas.items()) if d]
    if not moved:
        return
    table = table_of(PointsAccount)
    session.execute(
        update(table).where(table.c.id == bindparam("aid"))
        .values(balance=table.c.balance + bindparam("delta")),
        moved, execution_options={"synchronize_session": False})


def append_entries(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Append entries of accounts the caller has locked and move their balances; new ids.

    An entry whose (source, kind) is already present is skipped (and moves nothing).
    """
    deltas: dict[int, int] = {}
    ids = []
    for i, a, m, _s, _k in _append(session, list(rows)):
        deltas[a] = deltas.get(a, 0) + m
        ids.append(i)
    _move_balances(session, deltas)
    return ids


def _sources_present(session: Session, sources: set[str]) -> set[str]:
    if not sources:
        return set()
    return set(session.execute(select(col(LedgerEntry.source)).where(
        col(LedgerEntry.source).in_(sources), col(LedgerEntry.kind).in_(DROP_KINDS))).scalars())


def _award(session: Session, items: Sequence[tuple[DropFacts, str]], *, community_id: int,
           now: datetime, actor_id: int | None = None,
           pre: Sequence[dict[str, Any]] = ()) -> dict[str, int]:
    """Apply the rules to (facts, source) in order; append `pre` entries first. source → points."""
    # Only drops of a household are scored, so their household_id is an int from here on.
    items = [(f, s) for f, s in items if f.household_id is not None]
    out: dict[str, int] = {s: 0 for _f, s in items}
    households = {cast(int, f.household_id) for f, _s in items} | {r["household_id"] for r in pre}
    accounts = lock_accounts(session, community_id, households)
    deltas: dict[int, int] = {}
    if pre:
        rows = [{k: v for k, v in r.items() if k != "household_id"} for r in pre]
        for _i, a, m, _s, _k in _append(session, rows):
            deltas[a] = deltas.get(a, 0) + m
        accounts = {h: (a, b + deltas.get(a, 0)) for h, (a, b) in accounts.items()}
    # A drop already in the ledger (a retry after a lost answer) is never scored again.
    done = _sources_present(session, {s for _f, s in items})
    items = [(f, s) for f, s in items if s not in done]
    if not items:
        _move_balances(session, deltas)
        return out
    versions = _community_rules(session, community_id)
    states = _load_states(session, accounts, {f.local_date for f, _s in items}, versions)
    rows = []
    for facts, source in items:
        account_id = accounts[cast(int, facts.household_id)][0]
        state = states[account_id]
        rs = _pick(versions, facts.local_date)
        for e in rules_mod.award(rs, facts, state.day(facts.local_date)):
            state.add(e.kind, e.amount, facts.local_date)
            rows.append({"account_id": account_id, "amount": e.amount, "kind": e.kind,
                         "source": source, "rule_version": rs.version, "actor_id": actor_id,
                         "reason": e.reason, "at": now, "local_date": facts.local_date,
                         "reverses_id": None})
    for _i, a, m, s, _k in _append(session, rows):
        deltas[a] = deltas.get(a, 0) + m
        out[s] = out.get(s, 0) + m
    _move_balances(session, deltas)
    return out


def award_for_drops(session: Session, facts: Sequence[DropFacts], *, community_id: int,
                    now: datetime | None = None) -> dict[int, int]:
    """Score new drops of one community (in the order given: happened order); drop id → points.

    A fixed number of statements whatever the batch size. Anonymous tallies and drops that
    earn nothing map to 0. Safe to retry: a drop already scored is not scored again.
    """
    now = now or clock.now()
    got = _award(session, [(f, f"drop:{f.drop_id}") for f in facts],
                 community_id=community_id, now=now)
    return {f.drop_id: got.get(f"drop:{f.drop_id}", 0) for f in facts}


def points_for_drops(session: Session, drop_ids: Sequence[int]) -> dict[int, int]:
    """What the first scoring of each drop credited (for a replayed scan's feedback)."""
    if not drop_ids:
        return {}
    sources = {f"drop:{i}": i for i in drop_ids}
    rows = session.execute(
        select(col(LedgerEntry.source), func.sum(LedgerEntry.amount))
        .where(col(LedgerEntry.source).in_(sources), col(LedgerEntry.kind).in_(DROP_KINDS))
        .group_by(LedgerEntry.source))
    got = {sources[s]: int(t or 0) for s, t in rows}
    return {i: got.get(i, 0) for i in drop_ids}


def reverse_and_reaward(session: Session, *, facts: DropFacts, community_id: int,
                        regrade_id: int, earlier_regrade_ids: Sequence[int] = (),
                        actor_id: int | None = None, now: datetime | None = None) -> int:
    """After a regrade: reverse the drop's live entries, then score it anew ("regrade:<id>").

    `facts` is the drop after the regrade; `earlier_regrade_ids` are its previous regrades
    (their awards are live entries too). Returns the net change of the balance. A reversal
    never takes the balance below zero: when points were spent meanwhile it takes what is
    left (the shortfall stays with the household).
    """
    now = now or clock.now()
    if facts.household_id is None:
        return 0
    sources = [f"drop:{facts.drop_id}"] + [f"regrade:{r}" for r in earlier_regrade_ids]
    accounts = lock_accounts(session, community_id, {facts.household_id})
    account_id, balance = accounts[facts.household_id]
    live = session.execute(
        select(LedgerEntry).where(col(LedgerEntry.account_id) == account_id,
                                  col(LedgerEntry.source).in_(sources),
                                  col(LedgerEntry.kind).in_(DROP_KINDS), not_reversed())
        .order_by(col(LedgerEntry.id))).scalars().all()
    pre, left = [], balance
    for e in sorted(live, key=lambda x: (x.amount < 0, x.id)):  # give back penalties last
        amount = -e.amount if e.amount <= 0 else -min(e.amount, max(0, left))
        left += amount
        pre.append({"household_id": facts.household_id, "account_id": account_id,
                    "amount": amount, "kind": "reversal", "source": f"reversal:{e.id}",
                    "rule_version": e.rule_version, "actor_id": actor_id,
                    "reason": f"regrade:{regrade_id}", "at": now, "local_date": e.local_date,
                    "reverses_id": e.id})
    before = balance
    _award(session, [(facts, f"regrade:{regrade_id}")], community_id=community_id, now=now,
           actor_id=actor_id, pre=pre)
    return balance_of_account(session, account_id) - before


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


def _signed(amount: int) -> str:
    return f"+{amount}" if amount > 0 else str(amount)


def _hours(minutes: str) -> str:
    """Minutes (as stored in a reason) as hours for people: '150' → '2.5', '100' → '1.67'."""
    if not minutes.isdigit():
        return minutes
    return f"{int(minutes) / 60:.2f}".rstrip("0").rstrip(".")


def describe(kind: str, amount: int, reason: str, reversed_kind: str | None = None,
             reversed_reason: str | None = None) -> str:
    """The plain-language reason of an entry, e.g. "厨余垃圾分类正确 +2" (pure; translated)."""
    head, _sep, tail = (reason or "").partition(":")
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
        was = describe(reversed_kind or "", 0, reversed_reason or "").rsplit(" ", 1)[0]
        text = _("Correction: %(what)s", what=was)
    elif kind == "adjust":
        text = _("Adjustment by the community: %(reason)s", reason=reason)
    elif kind == "expire":
        text = _("Points earned in %(year)s expired", year=tail)
    elif kind == "redeem":
        text = _("Redeemed: %(item)s", item=reason)
    elif kind == "refund":
        text = _("Redemption cancelled, points returned")
    else:
        text = kind
    return f"{text} {_signed(amount)}"


def history(session: Session, *, household_id: int, limit: int = HISTORY_LIMIT,
            before_id: int | None = None) -> list[HistoryRow]:
    """A household's entries, newest first, with their plain-language reasons (keyset paging)."""
    account = session.execute(select(col(PointsAccount.id)).where(
        col(PointsAccount.household_id) == household_id)).scalar_one_or_none()
    return _account_history(session, account, limit, before_id)


def _account_history(session: Session, account: int | None, limit: int,
                     before_id: int | None) -> list[HistoryRow]:
    """One account's entries, newest first, described (keyset paging on the entry id)."""
    if account is None:
        return []
    reversed_ = aliased(LedgerEntry)
    stmt = (select(LedgerEntry, col(reversed_.kind), col(reversed_.reason))
            .outerjoin(reversed_, col(reversed_.id) == LedgerEntry.reverses_id)
            .where(col(LedgerEntry.account_id) == account))
    if before_id is not None:
        stmt = stmt.where(col(LedgerEntry.id) < before_id)
    rows = session.execute(stmt.order_by(col(LedgerEntry.id).desc()).limit(limit)).all()
    return [HistoryRow(e.id, e.at, e.local_date, e.kind, e.amount,
                       describe(e.kind, e.amount, e.reason, rk, rr)) for e, rk, rr in rows]


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
    rows = _append(session, [{"account_id": account_id, "amount": amount, "kind": "adjust",
                              "source": f"adjust:{record.id}", "rule_version": None,
                              "actor_id": actor.account_id, "reason": reason, "at": now,
                              "local_date": local_day, "reverses_id": None}])
    _move_balances(session, {account_id: amount})
    return cast(LedgerEntry, session.get(LedgerEntry, rows[0][0]))  # just appended


@dataclass(frozen=True)
class Drift:
    """An account whose stored balance differs from the sum of its entries."""

    account_id: int
    household_id: int | None
    balance: int
    entries_sum: int


def verify(session: Session) -> list[Drift]:
    """Recompute every balance from its entries in SQL; the accounts that drifted (want none)."""
    sums = (select(col(LedgerEntry.account_id).label("aid"),
                   func.sum(LedgerEntry.amount).label("total"))
            .group_by(col(LedgerEntry.account_id)).subquery())
    total = func.coalesce(sums.c.total, 0)
    rows = session.execute(
        select(col(PointsAccount.id), col(PointsAccount.household_id), col(PointsAccount.balance),
               total)
        .outerjoin(sums, sums.c.aid == PointsAccount.id)
        .where(col(PointsAccount.balance) != total)
        .order_by(col(PointsAccount.id))).all()
    return [Drift(a, h, int(b), int(t)) for a, h, b, t in rows]


# --- Expiry (lots are folded from the ledger, never stored) ---------------------------------

LOTS_FETCH = 10_000  # ledger rows fetched at a time while folding lots (long histories stream)


def account_lots(session: Session,
                 rules_by_account: Mapping[int, RuleSet]) -> dict[int, list[rules_mod.Lot]]:
    """Each account's unspent lots (oldest year first), folded from its whole ledger.

    A refund or a reversal gives its points back to the year of the entry it undoes
    (`rules.credit_year`, judged on the local day the points came back, with that account's
    rules). One streamed query for all the accounts.
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
    undone = aliased(LedgerEntry)
    rows = session.execute(
        select(col(LedgerEntry.account_id), col(LedgerEntry.local_date), col(LedgerEntry.amount),
               col(LedgerEntry.at), col(undone.local_date))
        .outerjoin(undone, col(undone.id) == LedgerEntry.reverses_id)
        .where(col(LedgerEntry.account_id).in_(list(out)), col(LedgerEntry.amount) != 0)
        .order_by(col(LedgerEntry.account_id), col(LedgerEntry.id)),
        execution_options={"yield_per": LOTS_FETCH})
    for account_id, group in groupby(rows, key=lambda r: r[0]):
        rs, zone = rules_by_account[account_id], zones[account_id]
        out[account_id] = rules_mod.lots_from_entries(
            rules_mod.LotEntry(day, amount, rules_mod.credit_year(
                rs, at.astimezone(zone).date(), back) if amount > 0 and back else None)
            for _a, day, amount, at, back in group)
    return out


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

    UNIQUE (source, kind) makes a second credit of the same source impossible, even from a
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
    rows = _append(session, [{"account_id": account_id, "amount": amount, "kind": "earn",
                              "source": source, "rule_version": rule_version,
                              "actor_id": actor_id, "reason": reason, "at": now,
                              "local_date": local_day, "reverses_id": None}])
    credited = sum(m for _i, _a, m, _s, _k in rows)
    _move_balances(session, {account_id: credited})
    return credited


def steward_balance(session: Session, steward_id: int) -> int:
    """A steward's points balance (0 before the first credit)."""
    got = session.execute(select(col(PointsAccount.balance)).where(
        col(PointsAccount.steward_id) == steward_id)).scalar_one_or_none()
    return int(got or 0)


def steward_history(session: Session, *, steward_id: int, limit: int = HISTORY_LIMIT,
                    before_id: int | None = None) -> list[HistoryRow]:
    """A steward's entries, newest first, with their plain-language reasons (keyset paging)."""
    account = session.execute(select(col(PointsAccount.id)).where(
        col(PointsAccount.steward_id) == steward_id)).scalar_one_or_none()
    return _account_history(session, account, limit, before_id)


__all__ = ["DropFacts", "HistoryRow", "NotEnoughPoints", "account_lots", "adjust",
           "award_for_drops", "balance", "credit_steward", "current_rules", "describe",
           "expiring_points", "history", "lock_accounts", "lock_steward_accounts",
           "not_reversed", "publish_rules",
           "reverse_and_reaward", "steward_balance", "steward_history", "verify"]
