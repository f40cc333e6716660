"""Points jobs: expiry (积分过期), the nightly ledger check, forgetting old redemption request
ids, the yearly carry-forward.

Points earned in year Y expire at the end of year Y + expiry_years, judged with the rules in
force in the account's community on the job's local date; spending already took the oldest
points first, so what is left of an old year is exactly what expires. Each expired year of
an account becomes one `expire` entry with source "expire:<account id>:<year>".

Idempotent: the lots are folded from the ledger after the account is locked, so a second run
(or a run for an earlier `now`) finds nothing left to expire, and the key
"expire:<account id>:<year>" (`LedgerKey`, written with the entry) stops a duplicate on any
day (the ledger's unique key holds the entry's day, the day of the run). The scheduler
(and `flask points expire`) call these plain functions; nothing here imports APScheduler.

A closed year is carried forward (`carry_forward`, `flask points carry-forward`): its lots
move into the next year as pairs of `carry` entries, so its partitions can be archived.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.points import rules as rules_mod
from community.points import services
from community.points.models import LedgerEntry, LedgerKey, PointsAccount, Redemption
from community.points.rules import RuleSet
from community.rows import insert_rows, table_of

BATCH_SIZE = 1000  # accounts per batch: a city of millions is never loaded at once
# The scan path refuses drops older than this (`stations.services.MAX_AGE`; points never
# imports stations): a year is closed only after its last upload could have arrived.
UPLOAD_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class ExpiryCounts:
    """What an expiry run did."""

    accounts: int = 0          # accounts checked (those holding points)
    expired_accounts: int = 0  # accounts that lost points
    entries: int = 0           # `expire` entries written
    points: int = 0            # points expired (positive)

    def __add__(self, other: ExpiryCounts) -> ExpiryCounts:
        """The counts of two runs (or batches) together."""
        return ExpiryCounts(self.accounts + other.accounts,
                            self.expired_accounts + other.expired_accounts,
                            self.entries + other.entries, self.points + other.points)


def expire_batches(session: Session, *, now: datetime,
                   batch_size: int = BATCH_SIZE) -> Iterator[ExpiryCounts]:
    """Expire due points batch by batch of accounts; each batch is flushed before it is yielded.

    The caller may commit after each batch (every account of a batch is written whole, in
    the batch's transaction) or once at the end.
    """
    days: dict[int, tuple[date, RuleSet]] = {}
    last = 0
    while True:
        # An account without points has no lots: skipping it keeps the run proportional to
        # the accounts that could lose anything.
        batch = session.execute(
            select(col(PointsAccount.id), col(PointsAccount.community_id))
            .where(col(PointsAccount.id) > last, col(PointsAccount.balance) > 0)
            .order_by(col(PointsAccount.id)).limit(batch_size)).all()
        if not batch:
            return
        last = batch[-1][0]
        yield _expire_batch(session, dict(batch), days, now)


def expire_points(session: Session, *, now: datetime,
                  batch_size: int = BATCH_SIZE) -> ExpiryCounts:
    """Expire every account's points past their last day (flushes; the caller commits)."""
    total = ExpiryCounts()
    for counts in expire_batches(session, now=now, batch_size=batch_size):
        total += counts
    return total


def _community_days(session: Session, community_ids: set[int], now: datetime,
                    days: dict[int, tuple[date, RuleSet]]) -> None:
    """Fill `days` with each community's local date of `now` and its rules on that date."""
    missing = community_ids - set(days)
    if not missing:
        return
    zones = session.execute(
        select(col(Area.id), col(Area.timezone)).where(col(Area.id).in_(missing)))
    for community_id, tz in zones:
        today = clock.local_today(tz, now)
        days[community_id] = (today, services.current_rules(session, community_id, today))


def _expire_batch(session: Session, accounts: Mapping[int, int],
                  days: dict[int, tuple[date, RuleSet]], now: datetime) -> ExpiryCounts:
    """Lock one batch of accounts (id → community id), fold their lots, expire what is due."""
    _community_days(session, set(accounts.values()), now, days)
    # Lock by account id, in id order like every other balance writer (no deadlocks): a
    # concurrent redemption waits, then sees the expired balance. The ledger is read after
    # the lock, so it holds everything committed before us.
    balances = dict(session.execute(
        select(col(PointsAccount.id), col(PointsAccount.balance))
        .where(col(PointsAccount.id).in_(list(accounts)))
        .order_by(col(PointsAccount.id)).with_for_update()).all())
    lots = services.account_lots(session, {a: days[accounts[a]][1] for a in balances})
    rows: dict[int, list[dict[str, Any]]] = {}  # per community
    for account_id, balance in balances.items():
        today, rs = days[accounts[account_id]]
        left = balance  # never below zero, even if a ledger drifted from its balance
        for lot in rules_mod.due_lots(rs, lots[account_id], today):
            take = min(lot.amount, left)
            if take <= 0:
                break
            left -= take
            rows.setdefault(accounts[account_id], []).append({
                         "account_id": account_id, "amount": -take, "kind": "expire",
                         "source": f"expire:{account_id}:{lot.year}",
                         "rule_version": rs.version, "actor_id": None,
                         "reason": f"year:{lot.year}", "at": now, "local_date": today,
                         "reverses_id": None})
    # The key of each (account, lot year): an expiry runs once whatever day it runs on (the
    # entry is dated by the run's day, which the ledger's own unique key holds).
    for community_id, group in rows.items():
        new = _write_keys(session, community_id, [r["source"] for r in group], now)
        rows[community_id] = [r for r in group if r["source"] in new]
    ids = [i for community_id, group in sorted(rows.items())
           for i in services.append_entries(session, group, community_id=community_id)]
    session.flush()
    written = session.execute(select(col(LedgerEntry.account_id), col(LedgerEntry.amount)).where(
        col(LedgerEntry.id).in_(ids))).all() if ids else []
    return ExpiryCounts(accounts=len(balances),
                        expired_accounts=len({a for a, _m in written}),
                        entries=len(written), points=-sum(m for _a, m in written))


@dataclass(frozen=True)
class CarryCounts:
    """What a carry-forward run did."""

    accounts: int = 0   # accounts carried (their key written now)
    entries: int = 0    # `carry` entries written (a closing and an opening per lot)
    points: int = 0     # points carried into the next year

    def __add__(self, other: CarryCounts) -> CarryCounts:
        """The counts of two batches together."""
        return CarryCounts(self.accounts + other.accounts, self.entries + other.entries,
                           self.points + other.points)


class YearNotOver(ValueError):
    """A year is carried forward only once no upload, regrade window or expiry can need it."""


def carry_forward(session: Session, *, year: int, now: datetime,
                  batch_size: int = BATCH_SIZE) -> Iterator[CarryCounts]:
    """Close `year`'s books: per account, its lots at the end of the year become a pair of
    `carry` entries per lot (−lot on 31 December, +lot on 1 January, both "lot:<lot year>",
    source "carry:<year>:<lot year>"), batch by batch (flushed before each yield).

    The pair moves no balance, so `flask points verify` balances with or without the year;
    once every community's year is closed its monthly partitions can be detached,
    archived and dropped (`community.partitions.detach_before`), and the ledger still
    balances from the carry entries on, whose lots keep expiry right (`services.
    account_lots` starts there). Each account's key "carry:<account>:<year>" and each
    community's "closed:<year>" are written with the entries (`LedgerKey`): a second run
    writes nothing, and the regrade and void paths then refuse that year's drops
    (`services.refuse_closed_year`). Refused (YearNotOver) before the year ended more than
    the upload window ago (the last late upload of the year could still arrive).
    """
    if now.date() <= date(year + 1, 1, 1) + UPLOAD_WINDOW:
        raise YearNotOver(f"{year} can be closed after {date(year + 1, 1, 1) + UPLOAD_WINDOW}")
    # Every community's year closes first (committed with the first batch): from then on
    # no regrade or void adds an entry to it, while its accounts are being carried.
    for community_id in session.execute(
            select(col(Area.id)).where(col(Area.level) == "community")).scalars():
        _write_keys(session, community_id, [f"closed:{year}"], now)
    last = 0
    rules: dict[int, RuleSet] = {}
    while True:
        batch = session.execute(
            select(col(PointsAccount.id), col(PointsAccount.community_id))
            .where(col(PointsAccount.id) > last)
            .order_by(col(PointsAccount.id)).limit(batch_size)).all()
        if not batch:
            return
        last = batch[-1][0]
        yield _carry_batch(session, dict(batch), year, rules, now)


def _carry_batch(session: Session, accounts: Mapping[int, int], year: int,
                 rules: dict[int, RuleSet], now: datetime) -> CarryCounts:
    """Carry one batch of accounts (id → community id) whose key is new."""
    end, opens = date(year, 12, 31), date(year + 1, 1, 1)
    zones = dict(session.execute(select(col(Area.id), col(Area.timezone)).where(
        col(Area.id).in_(set(accounts.values())))).all())
    # The pair brackets midnight in the community's zone: the closing entry is the last
    # thing of 31 December, the opening the first of 1 January (a recomputation's penalty
    # floors order entries by local day and time: every strike of 1 January sees the lots).
    moments = {c: (datetime.combine(opens, time(0), ZoneInfo(tz)) - timedelta(microseconds=1),
                   datetime.combine(opens, time(0), ZoneInfo(tz))) for c, tz in zones.items()}
    for community_id in sorted(set(accounts.values())):
        if community_id not in rules:
            rules[community_id] = services.current_rules(session, community_id, end)
    # Locked in id order like every balance writer; then the keys: only new ones carry.
    session.execute(select(col(PointsAccount.id)).where(
        col(PointsAccount.id).in_(list(accounts))).order_by(col(PointsAccount.id))
        .with_for_update()).all()
    fresh = sorted(int(k.split(":")[1]) for community_id in sorted(set(accounts.values()))
                   for k in _write_keys(session, community_id,
                                        [f"carry:{a}:{year}" for a, c in accounts.items()
                                         if c == community_id], now))
    lots = services.account_lots(session, {a: rules[accounts[a]] for a in fresh}, through=end)
    rows: dict[int, list[dict[str, Any]]] = {}
    points = 0
    for account_id in fresh:
        for lot in lots[account_id]:
            points += lot.amount
            closing, opening = moments[accounts[account_id]]
            for amount, day, at in ((-lot.amount, end, closing), (lot.amount, opens, opening)):
                rows.setdefault(accounts[account_id], []).append({
                    "account_id": account_id, "amount": amount, "kind": "carry",
                    "source": f"carry:{year}:{lot.year}", "rule_version": None,
                    "actor_id": None, "reason": f"lot:{lot.year}", "at": at,
                    "local_date": day, "reverses_id": None})
    entries = sum(len(services.append_entries(session, group, community_id=community_id))
                  for community_id, group in sorted(rows.items()))
    session.flush()
    return CarryCounts(accounts=len(fresh), entries=entries, points=points)


def _write_keys(session: Session, community_id: int, keys: list[str],
                now: datetime) -> set[str]:
    """Insert the community's keys (`LedgerKey`); those that were new."""
    if not keys:
        return set()
    table = table_of(LedgerKey)
    got = insert_rows(session, table, [{"community_id": community_id, "key": k,
                                        "created_at": now} for k in keys],
                      on=["community_id", "key"], returning=(table.c.key,))
    return {k for (k,) in got.all()}


def verify_ledger(session: Session) -> list[services.Drift]:
    """The nightly check: accounts whose balance differs from the sum of their entries."""
    return services.verify(session)


REQUEST_ID_KEEP_DAYS = 7  # a phone retries a redemption within minutes, never after a week


def forget_request_ids(session: Session, *, now: datetime) -> dict[str, int]:
    """Clear the idempotency keys (client ids) of redemptions older than a week (flushes)."""
    done = session.exec(
        update(Redemption)
        .where(col(Redemption.client_id).is_not(None),
               col(Redemption.created_at) < now - timedelta(days=REQUEST_ID_KEEP_DAYS))
        .values(client_id=None).execution_options(synchronize_session=False))
    return {"request_ids": int(done.rowcount or 0)}
