"""PostgreSQL only: 32 concurrent awards of the same drop credit it exactly once."""
from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlmodel import Session, col

from community.db import get_engine
from community.points import services
from community.points.models import LedgerEntry
from community.points.rewards.schemas import RedeemIn, RewardIn
from community.points.rules import DropFacts
from community.points.schemas import AdjustIn
from tests import builders

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
THREADS = 32

pytestmark = [pytest.mark.postgres_only, pytest.mark.real_db]


@pytest.fixture(autouse=True)
def _postgres_only(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrency is tested on PostgreSQL (SQLite serializes writers)")


def test_same_drop_awarded_by_32_threads_is_credited_once(app: Flask, session: Session,
                                                          world: builders.World) -> None:
    st = builders.station(session, world.a)
    hh = world.households_a[0]
    d = builders.drop(session, st, hh, happened_at=NOW, quality="correct")
    other = builders.drop(session, st, hh, happened_at=NOW, quality="correct",
                          category="hazardous")
    session.commit()
    facts = [DropFacts(x.id, hh.id, x.category, x.quality, True, x.local_date)
             for x in (d, other)]
    engine = get_engine(app)
    barrier = threading.Barrier(THREADS)
    errors: list[str] = []
    got: list[dict[int, int]] = []

    def worker(i: int) -> None:
        try:
            with Session(engine) as s:
                barrier.wait()
                got.append(services.award_for_drops(s, facts if i % 2 else facts[::-1],
                                                    community_id=world.a.id, now=NOW))
                s.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
            barrier.abort()  # the others stop waiting: a failure, not a hang

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    session.expire_all()
    # Each drop's earn is its row's points, written once; no earn went to the ledger.
    assert [(r.kind, r.amount) for r in builders.ledger(session, household=hh)] == [
        ("earn", 2), ("earn", 3)]
    assert session.execute(select(func.count()).select_from(LedgerEntry).where(
        col(LedgerEntry.kind) == "earn")).scalar_one() == 0
    assert services.balance(session, hh.id) == 5
    assert services.verify(session) == []
    # Exactly one thread credited each drop; the others saw it already scored.
    assert sorted(g[d.id] for g in got).count(2) == 1
    assert sorted(g[other.id] for g in got).count(3) == 1


REDEEMERS = 64


def test_64_concurrent_redemptions_never_overdraw_balance_or_stock(
        app: Flask, session: Session, world: builders.World) -> None:
    """8 households x 8 threads; each household can afford 3, the stock holds 20 of 24."""
    from community.auth import services as auth_services
    from community.points.models import Redemption, RewardItem
    from community.points.rewards import services as rewards

    households, residents = builders.households_with_residents(
        session, world.a, 8, building="9", phone_prefix="1370000")
    manager = auth_services.load_actor(session, world.manager_a.id)
    with app.test_request_context():
        for hh in households:
            services.adjust(session, actor=manager, household_id=hh.id,
                            data=AdjustIn.parse(amount=30, reason="seed"), now=NOW)
        item = rewards.save_item(session, actor=manager, community_id=world.a.id, now=NOW,
                                 data=RewardIn.parse(name="洗衣皂", cost=10, stock=20))
    session.commit()
    engine = get_engine(app)
    barrier = threading.Barrier(REDEEMERS)
    outcomes: list[str] = []
    errors: list[str] = []

    def worker(i: int) -> None:
        k = i % len(households)
        try:
            with app.test_request_context(), Session(engine) as s:
                who = auth_services.load_actor(s, residents[k].id)
                s.commit()
                barrier.wait()
                try:
                    rewards.redeem_reward(s, actor=who, now=NOW, data=RedeemIn.parse(
                        household_id=households[k].id, reward_id=item.id))
                    s.commit()
                    outcomes.append("ok")
                except (rewards.OutOfStock, services.NotEnoughPoints) as exc:
                    s.rollback()
                    outcomes.append(type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
            # A thread that fails before the barrier (e.g. no connection to be had) lets the
            # others go: the test fails at once instead of hanging 64 x 120 s in join().
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(REDEEMERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(outcomes) == REDEEMERS
    session.expire_all()
    assert outcomes.count("ok") == 20
    assert session.get(RewardItem, item.id).stock == 0  # type: ignore[union-attr]
    made = session.execute(select(func.count()).select_from(Redemption)).scalar_one()
    assert made == 20
    balances = [services.balance(session, hh.id) for hh in households]
    assert min(balances) >= 0
    assert sum(balances) == 8 * 30 - 20 * 10
    assert services.verify(session) == []
