"""Points use cases: rule versions, awards for drops, regrade corrections, balances, history,
manual adjustments and the ledger check.

The ledger is append-only. Every award locks the household accounts it touches (in id
order, so two batches never deadlock), stores the drops' facts (points_scored_drop; a drop
already there is a retry and is not scored again), recomputes what the facts deserve
around the changed days (`_recompute`, a few set-based reads for the whole batch), appends
the differences with INSERT … ON CONFLICT (source, kind) DO NOTHING and moves each balance
by the amounts of the rows actually inserted, in the same transaction. Points are thereby a
function of the facts, whatever order drops and regrades arrive in (DOMAIN.md "Late and
out-of-order data"), and a retried or concurrent award of the same drop credits once.

A penalty takes min(its nominal amount, the household's fact balance just before its
strike, in device-time order): the fact-derived outcomes of earlier facts plus the
non-fact entries (redemptions, refunds, adjustments, expiry) whose local day and `at` come
before the strike (`rules.floor_penalties` has the exact order and tie rules). A change on
day D therefore recomputes the amounts of all the household's penalties from D on. The one
exception, where spending history decides: a correction never takes the actual balance
below zero; the debit it cannot make is not taken later (see `_recompute`).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, cast

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, bindparam, func, or_, select, update
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
from community.points.models import LedgerEntry, PointsAccount, PointsRuleSet, ScoredDrop
from community.points.rules import DropFacts, RuleSet
from community.points.schemas import AdjustIn, RulesIn
from community.rows import any_of, dialect_insert, insert_rows, table_of
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
    insert_rows(session, table_of(PointsAccount),
                [{"community_id": community_id, "owner_type": owner, "household_id": None,
                  "steward_id": None, "balance": 0, key: i} for i in sorted(owner_ids)], on=[key])
    owner_id = col(PointsAccount.household_id if owner == "household"
                   else PointsAccount.steward_id)
    rows = session.execute(
        select(owner_id, col(PointsAccount.id), col(PointsAccount.balance))
        .where(any_of(session, owner_id, owner_ids))
        .order_by(col(PointsAccount.id)).with_for_update()
    ).all()
    return {o: (i, b) for o, i, b in rows}


_Reverser = aliased(LedgerEntry)


def not_reversed() -> ColumnElement[bool]:
    """Entries not reversed (a correlated NOT EXISTS on the unique reverses_id)."""
    return ~select(col(_Reverser.id)).where(col(_Reverser.reverses_id) == LedgerEntry.id).exists()


def _append(session: Session, rows: list[dict[str, Any]]) -> list[tuple[int, int, int, str, str]]:
    """Insert entries, skipping (source, kind) already present; new (id, account, amount,
    source, kind)."""
    if not rows:
        return []
    table = table_of(LedgerEntry)
    got = insert_rows(session, table, rows, on=["source", "kind"], returning=(
        table.c.id, table.c.account_id, table.c.amount, table.c.source, table.c.kind))
    return [(i, a, m, s, k) for i, a, m, s, k in got.all()]


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


STREAK_FIRST_LOOK = 14  # days read first; a streak touching the edge is followed further back


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
    why: str  # "late" (a new drop) or "regrade": how a correction explains itself

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


def _no_time(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def _read_facts(session: Session, households: Mapping[int, int], lo: date,
                strikes_lo: date) -> dict[int, list[DropFacts]]:
    """Accounts' facts from `lo` on (every later day: caps, runs and the fact balances of
    later penalties), and their incorrect drops from `strikes_lo` on (strike windows)."""
    out: dict[int, list[DropFacts]] = {a: [] for a in households}
    s = ScoredDrop
    rows = session.execute(
        select(col(s.account_id), col(s.drop_id), col(s.category), col(s.quality),
               col(s.in_window), col(s.local_date), col(s.happened_at))
        .where(any_of(session, col(s.account_id), households),
               # The outer bound lets the (account, day) index bound the read.
               col(s.local_date) >= strikes_lo,
               or_(col(s.local_date) >= lo, col(s.quality) == "incorrect")))
    for a, i, cat, q, w, d, at in rows:
        out[a].append(DropFacts(i, households[a], cat, q, bool(w), d, at))
    return out


def _read_correct_days(session: Session, households: Mapping[int, int], lo: date, hi: date,
                       rules_on: rules_mod.RulesOn, step: int) -> dict[int, set[date]]:
    """Each account's correct days between lo and hi, then further out (back and forward,
    `step` × 4 days at a time, at most STREAK_LOOKBACK_DAYS) for the accounts whose correct
    days reach an edge, so every run touching [lo, hi] is read whole.

    A run longer than STREAK_LOOKBACK_DAYS beyond the window is cut there (its blocks are
    then counted from the cut; such runs do not happen in practice).
    """
    s = ScoredDrop
    correct: dict[int, set[date]] = {a: set() for a in households}

    def read(ids: list[int], a: date, b: date) -> None:
        for acc, d, q, w in session.execute(
                select(col(s.account_id), col(s.local_date), col(s.quality), col(s.in_window))
                .where(any_of(session, col(s.account_id), ids), col(s.in_window).is_(True),
                       col(s.quality).in_(("correct", "ungraded")),
                       col(s.local_date) >= a, col(s.local_date) <= b)
                .group_by(col(s.account_id), col(s.local_date), col(s.quality),
                          col(s.in_window))):
            if rules_mod.earns(rules_on(d), DropFacts(0, households[acc], "", q, bool(w), d)):
                correct[acc].add(d)

    read(list(households), lo, hi)
    far = timedelta(days=STREAK_LOOKBACK_DAYS)
    back, low = [a for a in households if lo in correct[a]], lo
    while back and low > lo - far:
        new_low = max(lo - far, low - timedelta(days=step * 4))
        read(back, new_low, low - timedelta(days=1))
        back, low = [a for a in back if new_low in correct[a]], new_low
    fwd, high = [a for a in households if hi in correct[a]], hi
    while fwd and high < hi + far:
        new_high = min(hi + far, high + timedelta(days=step * 4))
        read(fwd, high + timedelta(days=1), new_high)
        fwd, high = [a for a in fwd if new_high in correct[a]], new_high
    return correct


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


def _recompute(session: Session, accounts: Mapping[int, tuple[int, int]],
               triggers: Mapping[int, Sequence[_Trigger]],
               versions: Sequence[tuple[date, RuleSet]], *, now: datetime,
               actor_id: int | None) -> tuple[list[dict[str, Any]], dict[tuple[str, str], str]]:
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

    Returns the rows to append (reversals first, then new entries, penalties last) and,
    per (source, kind) appended, the trigger source it is attributed to.
    """
    households = {a: h for h, (a, _b) in accounts.items() if a in triggers}
    if not households:
        return [], {}
    cache: dict[date, RuleSet] = {}

    def rules_on(d: date) -> RuleSet:
        if d not in cache:
            cache[d] = _pick(versions, d)
        return cache[d]

    rule_sets = [rs for _d, rs in versions] + [DEFAULT_RULES]
    window = timedelta(days=max(rs.strike_window_days for rs in rule_sets) - 1)
    look = max(STREAK_FIRST_LOOK, max(rs.streak_days for rs in rule_sets))
    days = {t.facts.local_date for ts in triggers.values() for t in ts}
    lo, hi = min(days), max(days)
    facts = _read_facts(session, households, lo, lo - window)
    correct = _read_correct_days(session, households, lo - timedelta(days=look),
                                 hi + timedelta(days=look), rules_on, look)
    e = LedgerEntry
    entries: dict[int, list[_Entry]] = {a: [] for a in households}
    for row in session.execute(
            select(col(e.id), col(e.account_id), col(e.kind), col(e.amount), col(e.local_date),
                   col(e.drop_id), col(e.rule_version), col(e.reason), col(e.at),
                   not_reversed())
            .where(any_of(session, col(e.account_id), households), col(e.local_date) >= lo)
            .order_by(col(e.id))).all():
        i, acc, kind, amount, day, drop, version, reason, at, live = row
        entries[acc].append(_Entry(i, acc, kind, amount, day, drop, version, reason, at,
                                   bool(live)))

    rows: list[dict[str, Any]] = []
    blame: dict[tuple[str, str], str] = {}
    for a in sorted(households):
        ts = sorted(triggers[a], key=lambda t: rules_mod.fact_order(t.facts))
        my_days = {t.facts.local_date for t in ts}
        my_drops = {t.facts.drop_id for t in ts}
        first = min(my_days)
        bounds = [_run_span(correct[a], d) for d in my_days]
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
        run_days = correct[a] | rules_mod.correct_days(rules_on, late)
        bonuses = {k: replace(v, drop_id=completing[v.local_date].drop_id)
                   for k, v in rules_mod.streak_bonuses(rules_on, run_days).items()
                   if v.local_date >= first}
        mine = [x for x in entries[a] if x.local_date >= first]
        balance = accounts[households[a]][1]
        others = [rules_mod.Other(x.local_date, x.at, x.amount, x.id) for x in mine
                  if x.kind not in DROP_KINDS and x.kind != "reversal"]
        due = rules_mod.floor_penalties(
            late, rules_mod.day_earns(rules_on, late) | rules_mod.strike_entries(rules_on,
                                                                                 facts[a])
            | bonuses, others=others, base=balance - sum(x.amount for x in mine), since=first)
        want = {k: v for k, v in due.items() if compared(k, v.local_date)}
        have: dict[rules_mod.Key, list[_Entry]] = {}
        for entry in mine:
            if not entry.live or entry.kind not in DROP_KINDS:
                continue
            if entry.drop_id is None and entry.kind != "bonus":
                continue  # not a drop's entry (never the case for a household's drop kinds)
            if compared(entry.key, entry.local_date):
                have.setdefault(entry.key, []).append(entry)
        owner = {k: next((t for t in ts if t.owns(k)), ts[0]) for k in set(want) | set(have)}
        undo: list[_Entry] = []
        new: list[tuple[rules_mod.Key, rules_mod.Deserved]] = []
        for key in sorted(set(want) | set(have), key=str):
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
            source = f"reversal:{x.id}"
            blame[(source, "reversal")] = t.source
            rows.append({"account_id": a, "amount": amounts[x.id], "kind": "reversal",
                         "source": source, "rule_version": x.rule_version,
                         "actor_id": actor_id, "reason": t.reason(x.key, t.source), "at": now,
                         "local_date": x.local_date, "reverses_id": x.id,
                         "drop_id": x.drop_id})
        for key, w in sorted(new, key=lambda kw: (kw[1].kind == "penalty",
                                                  kw[1].local_date, str(kw[0]))):
            t = owner[key]
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
    return rows, blame


def _fact_row(f: DropFacts, account_id: int, rule_version: int) -> dict[str, Any]:
    return {"drop_id": f.drop_id, "account_id": account_id, "local_date": f.local_date,
            "happened_at": f.happened_at or _no_time(f.local_date), "category": f.category,
            "quality": f.quality, "in_window": f.in_window, "rule_version": rule_version}


def _apply(session: Session, rows: list[dict[str, Any]],
           blame: Mapping[tuple[str, str], str]) -> dict[str, int]:
    """Append the rows and move the balances; points per trigger source."""
    deltas: dict[int, int] = {}
    out: dict[str, int] = {}
    for _i, a, m, s, k in _append(session, rows):
        deltas[a] = deltas.get(a, 0) + m
        out[blame[(s, k)]] = out.get(blame[(s, k)], 0) + m
    _move_balances(session, deltas)
    return out


def _award(session: Session, facts: Sequence[DropFacts], *, community_id: int,
           now: datetime, actor_id: int | None = None) -> dict[str, int]:
    """Store the new drops' facts and recompute their households; trigger source → points.

    A drop whose facts are stored already (a retry after a lost answer) is not scored again.
    """
    items = [f for f in facts if f.household_id is not None]
    if not items:
        return {}
    accounts = lock_accounts(session, community_id, {cast(int, f.household_id) for f in items})
    versions = _community_rules(session, community_id)
    table = table_of(ScoredDrop)
    fresh = {i for (i,) in insert_rows(session, table, [
        _fact_row(f, accounts[cast(int, f.household_id)][0], _pick(versions, f.local_date).version)
        for f in items], on=["drop_id"], returning=(table.c.drop_id,)).all()}
    triggers: dict[int, list[_Trigger]] = {}
    for f in items:
        if f.drop_id in fresh:
            account_id = accounts[cast(int, f.household_id)][0]
            triggers.setdefault(account_id, []).append(_Trigger(f"drop:{f.drop_id}", f, "late"))
    rows, blame = _recompute(session, accounts, triggers, versions, now=now, actor_id=actor_id)
    return _apply(session, rows, blame)


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
    """After a regrade: store the drop's new facts and recompute its household around its
    day ("regrade:<id>"); returns the net change of the balance.

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
    accounts = lock_accounts(session, community_id, {facts.household_id})
    account_id, _balance = accounts[facts.household_id]
    versions = _community_rules(session, community_id)
    row = _fact_row(facts, account_id, _pick(versions, facts.local_date).version)
    table = table_of(ScoredDrop)
    session.execute(dialect_insert(session, table).on_conflict_do_update(
        index_elements=["drop_id"],
        set_={k: row[k] for k in ("category", "quality", "in_window", "rule_version")}), [row])
    trigger = _Trigger(f"regrade:{regrade_id}", facts, "regrade")
    rows, blame = _recompute(session, accounts, {account_id: [trigger]}, versions, now=now,
                             actor_id=actor_id)
    return sum(_apply(session, rows, blame).values())


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
    elif kind == "refund":
        text = _("Redemption cancelled, points returned")
    else:
        text = kind
    return str(text)


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
