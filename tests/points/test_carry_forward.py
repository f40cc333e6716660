"""The yearly carry-forward (issue 16, part 3), on both backends: a closed year's lots become
pairs of `carry` entries that move no balance; `points verify` balances and the lots stay the
same with the closed year's entries present and after they are archived (PostgreSQL: its
monthly partitions detached; SQLite: its rows deleted); expiry then works from the carried
lots, once; a second carry writes nothing; a year not over is refused; a regrade or void of
a closed year's drop is refused; the yearly job closes the year before last.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import delete, func, select
from sqlmodel import Session, col

from community import partitions
from community.auth import services as auth_services
from community.points import jobs, services
from community.points.models import LedgerEntry, PointsAccount
from community.points.rules import Lot
from community.points.schemas import AdjustIn
from community.scheduler.registry import JOBS
from community.scheduler.runner import make_period
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
CLOSE_AT = datetime(2031, 3, 1, 12, 0, tzinfo=SH)
# (local day, amount): lots at the end of 2030 are {2029: 3, 2030: 80} (the debit takes the
# oldest first), and 2031 adds its own 10.
HISTORY = [(date(2029, 6, 1), 5), (date(2030, 3, 1), 50), (date(2030, 11, 1), 30),
           (date(2030, 12, 1), -2), (date(2031, 1, 15), 10)]


def _lots(session: Session, account_id: int, community_id: int) -> list[Lot]:
    rules = services.current_rules(session, community_id, CLOSE_AT.date())
    return services.account_lots(session, {account_id: rules})[account_id]


def _carry(session: Session, year: int, now: datetime) -> jobs.CarryCounts:
    total = jobs.CarryCounts()
    for counts in jobs.carry_forward(session, year=year, now=now):
        total += counts
    return total


def _archive(session: Session, year: int) -> None:
    """What an operator does after the carry: the year's entries leave the database."""
    if partitions.is_partitioned(session, "ledger_entry"):
        assert partitions.detach_year(session, "ledger_entry", year)
        return
    session.execute(delete(LedgerEntry).where(col(LedgerEntry.local_date) <= date(year, 12, 31)))


def test_carry_forward_then_archive_keeps_balance_lots_and_expiry(
        app: Flask, session: Session, world: builders.World) -> None:
    # The months exist (as the scheduler's job would have made them), so each year's entries
    # live in their own partitions on PostgreSQL.
    partitions.ensure_months(session, date(2029, 1, 1), date(2031, 12, 31))
    hh = world.households_a[0]
    manager = auth_services.load_actor(session, world.manager_a.id)
    with app.test_request_context():
        for day, amount in HISTORY:
            services.adjust(session, actor=manager, household_id=hh.id,
                            data=AdjustIn.parse(amount=amount, reason="历史"),
                            now=datetime(day.year, day.month, day.day, 10, tzinfo=SH))
    account = session.execute(select(PointsAccount).where(
        col(PointsAccount.household_id) == hh.id)).scalar_one()
    before = _lots(session, account.id, world.a.id)
    assert before == [Lot(2029, 3), Lot(2030, 80), Lot(2031, 10)]

    done = _carry(session, 2030, CLOSE_AT)
    assert (done.entries, done.points) == (4, 83)
    assert _carry(session, 2030, CLOSE_AT) == jobs.CarryCounts()  # once
    carried = session.execute(
        select(col(LedgerEntry.local_date), col(LedgerEntry.amount), col(LedgerEntry.reason))
        .where(col(LedgerEntry.kind) == "carry").order_by(col(LedgerEntry.id))).all()
    assert sorted(carried) == sorted([
        (date(2030, 12, 31), -3, "lot:2029"), (date(2031, 1, 1), 3, "lot:2029"),
        (date(2030, 12, 31), -80, "lot:2030"), (date(2031, 1, 1), 80, "lot:2030")])
    assert services.verify(session) == []
    assert services.balance(session, hh.id) == 93
    assert _lots(session, account.id, world.a.id) == before

    _archive(session, 2030)
    _archive(session, 2029)
    left = session.execute(select(func.sum(LedgerEntry.amount)).where(
        col(LedgerEntry.account_id) == account.id)).scalar()
    assert left == 93  # the opening entries and 2031's: the balance, without the closed years
    assert services.verify(session) == []
    assert _lots(session, account.id, world.a.id) == before

    # Expiry works from the carried lots: 2029's points end with 2030 (one year), once.
    first = jobs.expire_points(session, now=CLOSE_AT)
    again = jobs.expire_points(session, now=CLOSE_AT)
    assert (first.points, again.points) == (3, 0)
    assert services.balance(session, hh.id) == 90
    assert services.verify(session) == []
    assert _lots(session, account.id, world.a.id) == [Lot(2030, 80), Lot(2031, 10)]


def test_a_closed_year_refuses_corrections_and_an_open_year_cannot_close(
        session: Session, world: builders.World) -> None:
    with pytest.raises(jobs.YearNotOver):
        _carry(session, 2030, datetime(2031, 1, 20, 12, tzinfo=SH))  # uploads may still come
    _carry(session, 2030, CLOSE_AT)
    with pytest.raises(services.YearClosed):
        services.refuse_closed_year(session, world.a.id, date(2030, 6, 1))
    services.refuse_closed_year(session, world.a.id, date(2031, 2, 1))  # open: no error


def test_the_yearly_job_closes_the_year_before_last(session: Session,
                                                    world: builders.World) -> None:
    job = JOBS["points.carry_forward"]
    period = make_period(job, datetime(2032, 1, 1), SH)  # noqa: DTZ001 - a naive local start
    assert job.fn(session, period) == {"accounts": 0, "entries": 0, "points": 0}
    with pytest.raises(services.YearClosed):
        services.refuse_closed_year(session, world.b.id, date(2031, 12, 31))
    services.refuse_closed_year(session, world.b.id, date(2032, 1, 1))  # last year: open
