"""Points expiry on both backends: the job (oldest first, end of Y+1, idempotent, per-community
rules, batches), the CLI, `expiring_points`, and the resident pages' notices."""
from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlmodel import Session, col

from community import clock
from community.auth import services as auth_services
from community.db import get_engine
from community.points import jobs, services
from community.points.models import LedgerEntry, PointsAccount
from community.points.rules import DropFacts
from community.points.schemas import AdjustIn, RulesIn
from tests import builders
from tests.residents.helpers import link, to_english

SH = ZoneInfo("Asia/Shanghai")


def at(day: str, hour: int = 10) -> datetime:
    """A Shanghai moment on a day."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=SH).replace(
        hour=hour)


def give(session: Session, world: builders.World, hh, amount: int, day: str,
         manager=None) -> None:
    """A manager's adjustment on a day: positive earns in that year, negative spends."""
    manager = manager or auth_services.load_actor(session, world.manager_a.id)
    services.adjust(session, actor=manager, household_id=hh.id,
                    data=AdjustIn.parse(amount=amount, reason="test"), now=at(day))
    session.commit()


def expire(session: Session, now: datetime, **kwargs) -> jobs.ExpiryCounts:
    counts = jobs.expire_points(session, now=now, **kwargs)
    session.commit()
    return counts


def ledger(session: Session, hh) -> list[tuple[str, int, str, str]]:
    """(kind, amount, source, reason) of a household's entries in order."""
    session.expire_all()
    rows = session.execute(
        select(LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.source, LedgerEntry.reason)
        .join(PointsAccount, col(PointsAccount.id) == LedgerEntry.account_id)
        .where(col(PointsAccount.household_id) == hh.id).order_by(col(LedgerEntry.id))).all()
    session.commit()
    return [tuple(r) for r in rows]


def account_id(session: Session, hh) -> int:
    return session.execute(select(PointsAccount.id).where(
        col(PointsAccount.household_id) == hh.id)).scalar_one()


@pytest.fixture
def spent(session: Session, world: builders.World):
    """Household A0: 12 earned in 2024 (10 adjusted + 2 for a drop), 8 in 2025, then 5 spent."""
    hh = world.households_a[0]
    st = builders.station(session, world.a)
    drop = builders.drop(session, st, hh, happened_at=at("2024-06-01", 8), quality="correct")
    builders.award(session, [DropFacts(drop.id, hh.id, "kitchen", "correct", True,
                                                 drop.local_date)],
                             community_id=world.a.id, now=at("2024-06-01", 8))
    session.commit()
    give(session, world, hh, 10, "2024-05-01")
    give(session, world, hh, 8, "2025-03-01")
    give(session, world, hh, -5, "2025-04-01")  # takes 5 of the 12 from 2024, the oldest
    return world, hh


def test_spending_takes_the_oldest_points_first(session, spent) -> None:
    _world, hh = spent
    assert services.expiring_points(session, hh.id, date(2025, 6, 1)) == [
        (date(2025, 12, 31), 7), (date(2026, 12, 31), 8)]
    assert services.expiring_points(session, 10**9, date(2025, 6, 1)) == []  # no account


def test_earned_in_2024_expires_at_the_end_of_2025_once(session, spent) -> None:
    _world, hh = spent
    before = ledger(session, hh)
    assert expire(session, at("2025-12-31", 23)) == jobs.ExpiryCounts(accounts=1)
    assert ledger(session, hh) == before
    assert services.balance(session, hh.id) == 15

    # 00:30 in Shanghai on 1 January is still 31 December in UTC: the local date counts.
    new_year = at("2026-01-01", 0).replace(minute=30).astimezone(UTC)  # as clock.now() gives
    assert new_year.date() == date(2025, 12, 31)
    counts = expire(session, new_year)
    assert counts == jobs.ExpiryCounts(accounts=1, expired_accounts=1, entries=1, points=7)
    aid = account_id(session, hh)
    assert ledger(session, hh) == [*before, ("expire", -7, f"expire:{aid}:2024", "year:2024")]
    entry = session.execute(select(LedgerEntry).where(
        col(LedgerEntry.kind) == "expire")).scalar_one()
    assert (entry.local_date, entry.actor_id, entry.rule_version) == (date(2026, 1, 1), None, 0)
    assert services.balance(session, hh.id) == 8
    assert services.verify(session) == []

    # Idempotent: again, later the same day, or for an earlier moment changes nothing.
    for now in (new_year, at("2026-01-01", 18), at("2025-12-31"), at("2026-06-01")):
        assert expire(session, now) == jobs.ExpiryCounts(accounts=1)
    assert services.balance(session, hh.id) == 8
    assert len(ledger(session, hh)) == len(before) + 1
    assert services.expiring_points(session, hh.id, date(2026, 1, 2)) == [
        (date(2026, 12, 31), 8)]

    # A year later the 2025 points go too, and the account is empty.
    assert expire(session, at("2027-01-01")).points == 8
    assert services.balance(session, hh.id) == 0
    assert services.verify(session) == []


def test_each_community_uses_its_own_rules(session, spent) -> None:
    world, hh_a = spent
    hh_b = world.households_b[0]
    manager_b = auth_services.load_actor(session, world.manager_b.id)
    services.publish_rules(session, actor=manager_b, community_id=world.b.id,
                           data=RulesIn.parse(expiry_years=2, effective_from=date(2020, 1, 1)))
    session.commit()
    give(session, world, hh_b, 6, "2024-07-01", manager=manager_b)

    assert expire(session, at("2026-01-01")) == jobs.ExpiryCounts(
        accounts=2, expired_accounts=1, entries=1, points=7)   # only A's 2024 points
    assert services.balance(session, hh_b.id) == 6
    assert services.expiring_points(session, hh_b.id, date(2026, 1, 1)) == [
        (date(2026, 12, 31), 6)]
    assert expire(session, at("2027-01-01")) == jobs.ExpiryCounts(
        accounts=2, expired_accounts=2, entries=2, points=14)  # A's 2025, B's 2024
    b_entry = session.execute(select(LedgerEntry).where(
        col(LedgerEntry.kind) == "expire", col(LedgerEntry.account_id) == account_id(
            session, hh_b))).scalar_one()
    assert (b_entry.amount, b_entry.reason, b_entry.rule_version) == (-6, "year:2024", 1)
    assert services.balance(session, hh_a.id) == services.balance(session, hh_b.id) == 0
    assert services.verify(session) == []


def test_batches_cover_every_account_holding_points(session, world) -> None:
    households = world.households_a + world.households_b[:1]
    for n, hh in enumerate(households):
        manager = auth_services.load_actor(
            session, (world.manager_a if hh.community_id == world.a.id else world.manager_b).id)
        give(session, world, hh, n + 1, "2024-02-01", manager=manager)
        give(session, world, hh, 1, "2025-02-01", manager=manager)
    give(session, world, world.households_a[0], -1, "2025-03-01")  # empties A0's 2024 lot
    # An account with nothing left is never scanned.
    empty = world.households_b[1]
    give(session, world, empty, 3, "2024-01-01",
         manager=auth_services.load_actor(session, world.manager_b.id))
    give(session, world, empty, -3, "2024-02-01",
         manager=auth_services.load_actor(session, world.manager_b.id))

    batches = list(jobs.expire_batches(session, now=at("2026-01-01"), batch_size=2))
    session.commit()
    assert [b.accounts for b in batches] == [2, 2]  # A0 still holds its 2025 point
    total = sum(batches, jobs.ExpiryCounts())
    assert total == jobs.ExpiryCounts(accounts=4, expired_accounts=3, entries=3,
                                      points=2 + 3 + 4)
    assert [services.balance(session, hh.id) for hh in households] == [1, 1, 1, 1]
    assert expire(session, at("2026-01-01"), batch_size=1) == jobs.ExpiryCounts(accounts=4)
    assert services.verify(session) == []


def test_refunded_points_go_back_to_the_year_they_were_spent_from(session, world) -> None:
    def entry(hh, kind: str, amount: int, day: str, source: str,
              reverses: int | None = None) -> int:
        # The shape the rewards module writes for a redemption and its cancellation.
        ids = services.append_entries(session, [{
            "account_id": account_id(session, hh), "amount": amount, "kind": kind,
            "source": source, "rule_version": None, "actor_id": None, "reason": "",
            "at": at(day), "local_date": date.fromisoformat(day), "reverses_id": reverses}],
            community_id=hh.community_id)
        session.commit()
        return ids[0]

    hh, late = world.households_a[:2]
    for household in (hh, late):
        give(session, world, household, 10, "2024-06-01")
    redeem = entry(hh, "redeem", -10, "2024-12-20", "redemption:1")
    entry(hh, "refund", 10, "2025-01-03", "redemption:1", reverses=redeem)
    assert services.expiring_points(session, hh.id, date(2025, 2, 1)) == [
        (date(2025, 12, 31), 10)]  # back in the 2024 lot, not a new 2025 one

    # Cancelled only after 2024's points expired: they count in the oldest year still open
    # (2025), not in a closed year the job would never expire again.
    redeem = entry(late, "redeem", -10, "2024-12-20", "redemption:2")
    assert expire(session, at("2026-01-01")).points == 10  # hh's refunded 2024 points
    entry(late, "refund", 10, "2026-02-01", "redemption:2", reverses=redeem)
    assert services.expiring_points(session, late.id, date(2026, 2, 1)) == [
        (date(2026, 12, 31), 10)]
    assert expire(session, at("2026-02-02")).points == 0
    assert expire(session, at("2027-01-01")).points == 10
    assert services.balance(session, hh.id) == services.balance(session, late.id) == 0
    assert services.verify(session) == []


@pytest.mark.real_db
def test_the_job_waits_for_a_spend_in_flight(app, session, spent, db_url) -> None:
    """PostgreSQL: the job locks the account, so a spend not yet committed is seen, not raced."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serializes writers: nothing can be in flight")
    world, hh = spent  # 7 left from 2024, 8 from 2025
    engine = get_engine(app)
    got: dict[str, object] = {}

    def run_job() -> None:
        with Session(engine) as s:
            try:
                got["counts"] = jobs.expire_points(s, now=at("2026-01-01"))
                s.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                got["error"] = repr(exc)

    with Session(engine) as spender:
        services.adjust(spender, actor=auth_services.load_actor(spender, world.manager_a.id),
                        household_id=hh.id, data=AdjustIn.parse(amount=-5, reason="late spend"),
                        now=at("2025-12-31", 23))  # holds the account's row lock
        job = threading.Thread(target=run_job)
        job.start()
        for _ in range(400):  # until the job waits on a lock (bounded, never a timing check)
            waiting = session.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")).scalar_one()
            session.commit()
            if waiting:
                break
            time.sleep(0.05)
        assert waiting, "the job never waited for the spend's lock"
        spender.commit()
    job.join(timeout=60)
    assert "error" not in got, got
    assert got["counts"] == jobs.ExpiryCounts(accounts=1, expired_accounts=1, entries=1,
                                              points=2)  # the spend took 5 of the 7 first
    assert services.balance(session, hh.id) == 8
    assert services.verify(session) == []


def test_cli_expires_and_reports(app, session, spent) -> None:
    _world, hh = spent
    runner = app.test_cli_runner()
    out = runner.invoke(args=["points", "expire", "--date", "2026-01-01"])
    assert out.exit_code == 0, out.output
    assert "7 point(s) from 1 of 1 account(s)" in out.output
    again = runner.invoke(args=["points", "expire", "--date", "2026-01-01"])
    assert "0 point(s) from 0 of 1 account(s)" in again.output
    bad = runner.invoke(args=["points", "expire", "--date", "2026-13-01"])
    assert bad.exit_code == 2
    assert "--date" in bad.output
    assert services.balance(session, hh.id) == 8
    session.commit()  # end the read: the command writes in its own session
    with clock.freeze(at("2027-01-02")):
        assert runner.invoke(args=["points", "expire"]).exit_code == 0
    assert services.balance(session, hh.id) == 0


def test_resident_sees_what_expires_and_why(client, session, spent) -> None:
    world, hh = spent
    link(session, world.resident_a.id, builders.active_card(session, hh))
    builders.login(client, world.resident_a)
    with clock.freeze(at("2025-11-01")):
        home = client.get("/me/").get_data(as_text=True)
        page = client.get(f"/me/points?household_id={hh.id}").get_data(as_text=True)
    # Home: only what expires within 90 days; the points page: every upcoming expiry.
    assert home.count('data-testid="points-expiring"') == 1
    assert "7 积分将于 2025-12-31 过期" in home
    assert "7 积分将于 2025-12-31 过期" in page
    assert "8 积分将于 2026-12-31 过期" in page
    with clock.freeze(at("2025-06-01")):
        assert 'points-expiring' not in client.get("/me/").get_data(as_text=True)

    expire(session, at("2026-01-01"))
    with clock.freeze(at("2026-01-02")):
        page = client.get(f"/me/points?household_id={hh.id}").get_data(as_text=True)
        assert "2024年积分过期 -7" in page
        assert "8 积分将于 2026-12-31 过期" in page
        to_english(client, f"/me/points?household_id={hh.id}")
        page = client.get(f"/me/points?household_id={hh.id}").get_data(as_text=True)
        home = client.get("/me/").get_data(as_text=True)
    assert "Points earned in 2024 expired -7" in page
    assert "8 points expire on 2026-12-31" in page
    assert "points-expiring" not in home  # 2026-12-31 is more than 90 days away
    with clock.freeze(at("2026-11-01")):
        home = client.get("/me/").get_data(as_text=True)
    assert "8 points expire on 2026-12-31" in home
