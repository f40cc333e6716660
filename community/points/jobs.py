"""Points jobs: expiry (积分过期), the nightly ledger check, forgetting old redemption request ids.

Points earned in year Y expire at the end of year Y + expiry_years, judged with the rules in
force in the account's community on the job's local date; spending already took the oldest
points first, so what is left of an old year is exactly what expires. Each expired year of
an account becomes one `expire` entry with source "expire:<account id>:<year>".

Idempotent: the lots are folded from the ledger after the account is locked, so a second run
(or a run for an earlier `now`) finds nothing left to expire, and UNIQUE (source, kind) stops
a concurrent duplicate. The scheduler (and `flask points expire`) call these plain functions;
nothing here imports APScheduler.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.points import rules as rules_mod
from community.points import services
from community.points.models import LedgerEntry, PointsAccount, Redemption
from community.points.rules import RuleSet

BATCH_SIZE = 1000  # accounts per batch: a city of millions is never loaded at once


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
    ids = [i for community_id, group in sorted(rows.items())
           for i in services.append_entries(session, group, community_id=community_id)]
    session.flush()
    written = session.execute(select(col(LedgerEntry.account_id), col(LedgerEntry.amount)).where(
        col(LedgerEntry.id).in_(ids))).all() if ids else []
    return ExpiryCounts(accounts=len(balances),
                        expired_accounts=len({a for a, _m in written}),
                        entries=len(written), points=-sum(m for _a, m in written))


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
