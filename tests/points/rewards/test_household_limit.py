"""A reward's per-household limit per period (e.g. once a quarter): counted in the
redemption's transaction under the household's account lock, cancelled redemptions not
counted, a new period starts afresh; and on PostgreSQL, concurrent redemptions by real
threads never exceed it."""
from __future__ import annotations

import threading
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlmodel import Session, col

from community.auth import services as auth_services
from community.db import get_engine
from community.errors import InvalidInput
from community.points import services
from community.points.models import Redemption
from community.points.rewards import services as rewards
from community.points.rewards.rules import period_bounds
from community.points.rewards.schemas import RedeemIn, RewardIn
from community.points.schemas import AdjustIn
from tests import builders
from tests.points.rewards.test_services import NOW, actor, redeem, snapshot
from tests.points.rewards.test_services import shop as shop  # noqa: F401 - the fixture

SH = ZoneInfo("Asia/Shanghai")


def test_period_bounds_are_local_calendar_periods() -> None:
    assert period_bounds(date(2026, 11, 20), "month") == (date(2026, 11, 1), date(2026, 12, 1))
    assert period_bounds(date(2026, 12, 31), "month") == (date(2026, 12, 1), date(2027, 1, 1))
    assert period_bounds(date(2026, 11, 20), "quarter") == (date(2026, 10, 1),
                                                            date(2027, 1, 1))
    assert period_bounds(date(2026, 2, 1), "quarter") == (date(2026, 1, 1), date(2026, 4, 1))
    assert period_bounds(date(2026, 6, 30), "year") == (date(2026, 1, 1), date(2027, 1, 1))


def test_limit_and_period_come_together() -> None:
    ok = RewardIn.parse(name="券", cost=5, stock=1, household_limit=1, limit_period="quarter")
    assert (ok.household_limit, ok.limit_period) == (1, "quarter")
    for bad in ({"household_limit": 1}, {"limit_period": "month"},
                {"household_limit": 0, "limit_period": "month"},
                {"household_limit": 1, "limit_period": "week"}):
        with pytest.raises(InvalidInput):
            RewardIn.parse(name="券", cost=5, stock=1, **bad)


def _limit(session: Session, world: builders.World, item, n: int, period: str) -> None:
    rewards.save_item(session, actor=actor(session, world.manager_a), community_id=world.a.id,
                      item_id=item.id, now=NOW, data=RewardIn.parse(
                          name=item.name, cost=item.cost, stock=item.stock,
                          household_limit=n, limit_period=period))
    session.commit()


def test_once_a_quarter_refuses_the_second_and_changes_nothing(
        app: Flask, session: Session, shop) -> None:  # noqa: F811
    world, hh, eggs = shop
    with app.test_request_context():
        _limit(session, world, eggs, 1, "quarter")
        first = redeem(session, world, hh, eggs)
        before = snapshot(session)
        with pytest.raises(rewards.HouseholdLimitReached) as caught:
            redeem(session, world, hh, eggs)
        session.rollback()
        assert caught.value.details == {"limit": 1, "period": "quarter", "used": 1}
        assert snapshot(session) == before
        # A cancelled redemption does not count: the household may redeem again.
        rewards.cancel_redemption(session, actor=actor(session, world.resident_a),
                                  redemption_id=first.id, now=NOW)
        session.commit()
        redeem(session, world, hh, eggs)
        # The next quarter starts afresh (2027-01-01 local, 2026-12-31 16:00 UTC).
        later = datetime(2027, 1, 1, 0, 5, tzinfo=SH)
        rewards.redeem_reward(session, actor=actor(session, world.resident_a), now=later,
                              data=RedeemIn.parse(household_id=hh.id, reward_id=eggs.id))
        session.commit()
    assert services.balance(session, hh.id) == 50 - 20 + 20 - 20 - 20
    live = session.execute(select(func.count()).select_from(Redemption).where(
        col(Redemption.status) != "cancelled")).scalar_one()
    assert live == 2


def test_the_shop_and_confirm_page_say_the_limit_is_reached(
        app: Flask, client, session: Session, shop) -> None:  # noqa: F811
    world, hh, eggs = shop
    with app.test_request_context():
        _limit(session, world, eggs, 1, "month")
    builders.login(client, world.resident_a)
    with_limit = client.get("/me/rewards").get_data(as_text=True)
    assert "每户每月限兑 1 次" in with_limit
    with app.test_request_context():
        redeem(session, world, hh, eggs)
    page = client.get("/me/rewards").get_data(as_text=True)
    assert "本期已达兑换上限" in page
    assert f"/me/rewards/{eggs.id}/confirm" not in page
    confirm = client.get(f"/me/rewards/{eggs.id}/confirm").get_data(as_text=True)
    assert "本期已达兑换上限" in confirm
    assert "confirm-redeem-button" not in confirm
    # A stale form posted anyway is refused in words, nothing spent.
    resp = client.post("/me/rewards/redeem", data={"household_id": str(hh.id),
                                                   "reward_id": str(eggs.id),
                                                   "client_id": "stale-tap"})
    assert resp.status_code == 302
    follow = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "您家本期兑换该奖品的次数已达上限" in follow
    assert services.balance(session, hh.id) == 30


@pytest.mark.postgres_only
@pytest.mark.real_db
def test_concurrent_redemptions_never_exceed_the_household_limit(
        app: Flask, session: Session, world: builders.World, db_url: str) -> None:
    """4 households x 8 threads at once on an item limited to 2 per month: 2 each."""
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrency is tested on PostgreSQL (SQLite serializes writers)")
    households, residents = builders.households_with_residents(
        session, world.a, 4, building="8", phone_prefix="1360000")
    manager = auth_services.load_actor(session, world.manager_a.id)
    with app.test_request_context():
        for hh in households:
            services.adjust(session, actor=manager, household_id=hh.id,
                            data=AdjustIn.parse(amount=100, reason="seed"), now=NOW)
        item = rewards.save_item(session, actor=manager, community_id=world.a.id, now=NOW,
                                 data=RewardIn.parse(name="购物券", cost=10, stock=100,
                                                     household_limit=2, limit_period="month"))
    session.commit()
    threads_n = 8 * len(households)
    engine = get_engine(app)
    barrier = threading.Barrier(threads_n)
    outcomes: list[tuple[int, str]] = []
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
                    outcomes.append((k, "ok"))
                except rewards.HouseholdLimitReached:
                    s.rollback()
                    outcomes.append((k, "limit"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
            barrier.abort()  # the others fail at once instead of waiting in join()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(outcomes) == threads_n
    for k in range(len(households)):
        assert sorted(o for h, o in outcomes if h == k) == ["limit"] * 6 + ["ok"] * 2
    session.expire_all()
    made = session.execute(select(func.count()).select_from(Redemption)).scalar_one()
    assert made == 2 * len(households)
    assert [services.balance(session, hh.id) for hh in households] == [80] * 4
    assert services.verify(session) == []


def test_manager_sets_the_limit_on_the_form(client, session: Session, shop) -> None:  # noqa: F811
    world, _hh, _eggs = shop
    builders.login(client, world.manager_a)
    form = {"name": "物业费抵用券", "cost": "300", "stock": "10", "description": "",
            "household_limit": "1", "limit_period": "quarter"}
    resp = client.post(f"/manage/rewards/new?community_id={world.a.id}", data=form)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    page = client.get(f"/manage/rewards?community_id={world.a.id}").get_data(as_text=True)
    assert "每户每季度限兑 1 次" in page
    # A limit without its period is refused on the form, in words; nothing stored.
    resp = client.post(f"/manage/rewards/new?community_id={world.a.id}",
                       data=form | {"name": "券2", "limit_period": ""})
    assert resp.status_code == 422
    assert "请选择限兑的周期。" in resp.get_data(as_text=True)
