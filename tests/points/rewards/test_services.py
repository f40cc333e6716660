"""Rewards services on both backends: catalog, redeem, hand-over, cancel, and every refusal
leaving entries, balances and stock unchanged."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlmodel import Session, col

from community.auth import services as auth_services
from community.errors import Conflict, Forbidden, InvalidInput, NotFound
from community.points import services
from community.points.models import LedgerEntry, Redemption, RewardItem
from community.points.rewards import services as rewards
from community.points.rewards.schemas import CancelIn, RedeemIn, RewardIn
from community.points.schemas import AdjustIn
from tests import builders
from tests.residents.helpers import link

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 8, 30, tzinfo=SH)


def actor(session: Session, acct):
    return auth_services.load_actor(session, acct.id)


@pytest.fixture
def shop(app: Flask, session: Session, world: builders.World):
    """Resident A linked to household A0 with 50 points; eggs (cost 20, stock 2) on sale."""
    with app.test_request_context():
        hh = world.households_a[0]
        link(session, world.resident_a.id, builders.active_card(session, hh))
        services.adjust(session, actor=actor(session, world.manager_a), household_id=hh.id,
                        data=AdjustIn.parse(amount=50, reason="opening balance"), now=NOW)
        eggs = rewards.save_item(session, actor=actor(session, world.manager_a),
                                 community_id=world.a.id, now=NOW,
                                 data=RewardIn.parse(name="鸡蛋 10个", cost=20, stock=2))
        session.commit()
        yield world, hh, eggs


def snapshot(session: Session) -> tuple:
    """Everything a refusal must leave untouched."""
    session.expire_all()
    entries = session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()
    balances = tuple(session.execute(select(services.PointsAccount.balance).order_by(
        col(services.PointsAccount.id))).scalars())
    stock = tuple(session.execute(select(RewardItem.stock).order_by(
        col(RewardItem.id))).scalars())
    reds = tuple(session.execute(select(Redemption.id, Redemption.status)).all())
    session.commit()
    return entries, balances, stock, reds


def redeem(session, world, hh, item, **kw):
    red = rewards.redeem_reward(session, actor=actor(session, world.resident_a), now=NOW,
                                data=RedeemIn.parse(household_id=hh.id, reward_id=item.id, **kw))
    session.commit()
    return red


def test_redeem_takes_points_and_stock_at_once(session: Session, shop) -> None:
    world, hh, eggs = shop
    red = redeem(session, world, hh, eggs)
    assert red.status == "reserved"
    assert red.cost == 20
    assert len(red.pickup_code) == rewards.PICKUP_CODE_LENGTH
    assert services.balance(session, hh.id) == 30
    session.refresh(eggs)
    assert eggs.stock == 1
    entry = session.execute(select(LedgerEntry).where(
        col(LedgerEntry.kind) == "redeem")).scalar_one()
    assert (entry.amount, entry.source, entry.reason) == (-20, f"redemption:{red.id}",
                                                          "鸡蛋 10个")
    assert services.verify(session) == []


def test_same_request_id_redeems_once(session: Session, shop) -> None:
    world, hh, eggs = shop
    first = redeem(session, world, hh, eggs, client_id="tap-1")
    again = redeem(session, world, hh, eggs, client_id="tap-1")
    assert again.id == first.id
    assert services.balance(session, hh.id) == 30


def test_request_id_of_another_household_conflicts(session: Session, shop) -> None:
    world, hh, eggs = shop
    redeem(session, world, hh, eggs, client_id="tap-1")
    other = world.households_a[1]
    link(session, world.resident_a.id, builders.active_card(session, other))
    services.adjust(session, actor=actor(session, world.manager_a), household_id=other.id,
                    data=AdjustIn.parse(amount=40, reason="x"), now=NOW)
    session.commit()
    before = snapshot(session)
    with pytest.raises(Conflict):
        redeem(session, world, other, eggs, client_id="tap-1")
    session.rollback()
    assert snapshot(session) == before


@pytest.mark.parametrize("case", ["balance", "stock", "retired", "not_yet", "ended",
                                  "not_member", "foreign_item"])
def test_refusals_change_nothing(session: Session, shop, case: str) -> None:
    world, hh, eggs = shop
    mgr = actor(session, world.manager_a)
    expected: type[Exception] = rewards.RewardUnavailable
    target_hh, item_id = hh, eggs.id
    if case == "balance":
        rich = rewards.save_item(session, actor=mgr, community_id=world.a.id, now=NOW,
                                 data=RewardIn.parse(name="物业费抵用券", cost=51, stock=5))
        item_id, expected = rich.id, services.NotEnoughPoints
    elif case == "stock":
        rewards.save_item(session, actor=mgr, community_id=world.a.id, item_id=eggs.id,
                          now=NOW, data=RewardIn.parse(name="鸡蛋", cost=20, stock=0))
        expected = rewards.OutOfStock
    elif case == "retired":
        rewards.set_item_status(session, actor=mgr, item_id=eggs.id, status="retired")
    elif case == "not_yet":
        rewards.save_item(session, actor=mgr, community_id=world.a.id, item_id=eggs.id,
                          now=NOW, data=RewardIn.parse(
                              name="鸡蛋", cost=20, stock=2, active_from=date(2026, 11, 21)))
    elif case == "ended":
        rewards.save_item(session, actor=mgr, community_id=world.a.id, item_id=eggs.id,
                          now=NOW, data=RewardIn.parse(
                              name="鸡蛋", cost=20, stock=2, active_until=date(2026, 11, 19)))
    elif case == "not_member":
        target_hh, expected = world.households_a[2], rewards.NotAMember
    elif case == "foreign_item":
        soap = rewards.save_item(session, actor=actor(session, world.manager_b),
                                 community_id=world.b.id, now=NOW,
                                 data=RewardIn.parse(name="肥皂", cost=5, stock=5))
        item_id, expected = soap.id, NotFound
    session.commit()
    before = snapshot(session)
    with pytest.raises(expected):
        rewards.redeem_reward(session, actor=actor(session, world.resident_a), now=NOW,
                              data=RedeemIn.parse(household_id=target_hh.id, reward_id=item_id))
    session.rollback()
    assert snapshot(session) == before


def test_stock_runs_out_after_two(session: Session, shop) -> None:
    world, hh, eggs = shop
    services.adjust(session, actor=actor(session, world.manager_a), household_id=hh.id,
                    data=AdjustIn.parse(amount=30, reason="more"), now=NOW)
    session.commit()
    redeem(session, world, hh, eggs)
    redeem(session, world, hh, eggs)
    with pytest.raises(rewards.OutOfStock):
        redeem(session, world, hh, eggs)
    session.rollback()
    assert services.balance(session, hh.id) == 40


def test_hand_over_once_by_steward_of_the_community(session: Session, shop) -> None:
    world, hh, eggs = shop
    red = redeem(session, world, hh, eggs)
    steward = actor(session, world.steward_a)
    seen = rewards.look_up_pickup(session, actor=steward, code=red.pickup_code.lower())
    assert seen.item_name == "鸡蛋 10个"
    assert seen.redemption.status == "reserved"
    done = rewards.hand_over(session, actor=steward, code=red.pickup_code, now=NOW)
    session.commit()
    assert done.redemption.status == "handed_over"
    assert done.redemption.handed_over_by == world.steward_a.id
    before = snapshot(session)
    with pytest.raises(rewards.PickupUsed):
        rewards.hand_over(session, actor=steward, code=red.pickup_code, now=NOW)
    session.rollback()
    assert snapshot(session) == before
    # Handed over: no longer cancellable, so no refund can follow.
    with pytest.raises(rewards.PickupUsed):
        rewards.cancel_redemption(session, actor=actor(session, world.resident_a),
                                  redemption_id=red.id, now=NOW)
    session.rollback()
    assert snapshot(session) == before


def test_pickup_code_of_another_community_is_refused(session: Session, shop) -> None:
    world, hh, eggs = shop
    red = redeem(session, world, hh, eggs)
    manager_b = actor(session, world.manager_b)
    before = snapshot(session)
    with pytest.raises(rewards.PickupForeign):
        rewards.hand_over(session, actor=manager_b, code=red.pickup_code, now=NOW)
    session.rollback()
    with pytest.raises(Forbidden):  # a resident holds no hand-over role anywhere
        rewards.hand_over(session, actor=actor(session, world.resident_a),
                          code=red.pickup_code, now=NOW)
    session.rollback()
    for bad in ("", "ABC", "0000000000", "ZZZZZZZZZZ"):
        with pytest.raises(rewards.PickupUnknown):
            rewards.hand_over(session, actor=actor(session, world.steward_a), code=bad)
        session.rollback()
    assert snapshot(session) == before


def test_cancel_refunds_once_and_returns_stock(session: Session, shop) -> None:
    world, hh, eggs = shop
    red = redeem(session, world, hh, eggs)
    got = rewards.cancel_redemption(session, actor=actor(session, world.resident_a),
                                    redemption_id=red.id, now=NOW + timedelta(hours=1))
    session.commit()
    assert got.status == "cancelled"
    assert services.balance(session, hh.id) == 50
    session.refresh(eggs)
    assert eggs.stock == 2
    refund = session.execute(select(LedgerEntry).where(
        col(LedgerEntry.kind) == "refund")).scalar_one()
    redeem_entry = session.execute(select(LedgerEntry).where(
        col(LedgerEntry.kind) == "redeem")).scalar_one()
    assert (refund.amount, refund.reverses_id) == (20, redeem_entry.id)
    before = snapshot(session)
    with pytest.raises(rewards.RedemptionCancelled):
        rewards.cancel_redemption(session, actor=actor(session, world.resident_a),
                                  redemption_id=red.id)
    session.rollback()
    with pytest.raises(rewards.RedemptionCancelled):
        rewards.hand_over(session, actor=actor(session, world.steward_a), code=red.pickup_code)
    session.rollback()
    assert snapshot(session) == before
    assert services.verify(session) == []


def test_manager_cancels_with_a_reason_others_cannot(session: Session, shop) -> None:
    world, hh, eggs = shop
    red = redeem(session, world, hh, eggs)
    before = snapshot(session)
    with pytest.raises(InvalidInput):
        rewards.cancel_redemption(session, actor=actor(session, world.manager_a),
                                  redemption_id=red.id, data=CancelIn.parse(reason="  "))
    session.rollback()
    for outsider in (world.manager_b, world.resident_b, world.steward_a):
        with pytest.raises((NotFound, Forbidden)):
            rewards.cancel_redemption(session, actor=actor(session, outsider),
                                      redemption_id=red.id, data=CancelIn.parse(reason="x"))
        session.rollback()
    assert snapshot(session) == before
    rewards.cancel_redemption(session, actor=actor(session, world.manager_a),
                              redemption_id=red.id, data=CancelIn.parse(reason="奖品已停产"))
    session.commit()
    assert services.balance(session, hh.id) == 50


@pytest.mark.parametrize(("field", "data"), [
    ("name", {"name": " ", "cost": 1, "stock": 1}),
    ("name", {"name": "x" * 61, "cost": 1, "stock": 1}),
    ("cost", {"name": "a", "cost": 0, "stock": 1}),
    ("cost", {"name": "a", "cost": -5, "stock": 1}),
    ("stock", {"name": "a", "cost": 1, "stock": -1}),
    ("active_until", {"name": "a", "cost": 1, "stock": 1, "active_from": date(2026, 12, 2),
                      "active_until": date(2026, 12, 1)}),
])
def test_catalog_item_validation(session: Session, shop, field: str, data) -> None:
    world, _hh, _eggs = shop
    with pytest.raises(InvalidInput) as err:
        rewards.save_item(session, actor=actor(session, world.manager_a),
                          community_id=world.a.id, data=RewardIn.parse(data))
    assert err.value.details["field"] == field
    session.rollback()


def test_catalog_is_managed_in_scope_only(session: Session, shop) -> None:
    world, _hh, eggs = shop
    with pytest.raises(Forbidden):
        rewards.save_item(session, actor=actor(session, world.manager_b),
                          community_id=world.a.id,
                          data=RewardIn.parse(name="a", cost=1, stock=1))
    session.rollback()
    with pytest.raises(NotFound):  # an item id of A edited "as" community B
        rewards.save_item(session, actor=actor(session, world.manager_b),
                          community_id=world.b.id, item_id=eggs.id,
                          data=RewardIn.parse(name="a", cost=1, stock=1))
    session.rollback()
    today = NOW.date()
    assert [i.id for i in rewards.catalog(session, community_id=world.a.id, on=today)] == \
        [eggs.id]
    assert rewards.catalog(session, community_id=world.b.id, on=today) == []


def test_history_describes_redeem_and_refund(app: Flask, session: Session, shop) -> None:
    world, hh, eggs = shop
    red = redeem(session, world, hh, eggs)
    rewards.cancel_redemption(session, actor=actor(session, world.resident_a),
                              redemption_id=red.id, now=NOW)
    session.commit()
    with app.test_request_context():
        texts = [r.text for r in services.history(session, household_id=hh.id)]
    assert texts[0] == "取消兑换，积分退回 +20"
    assert texts[1] == "兑换：鸡蛋 10个 -20"


def test_members_see_their_redemptions_only(session: Session, shop) -> None:
    world, hh, eggs = shop
    red = redeem(session, world, hh, eggs)
    rows = rewards.household_redemptions(session, actor=actor(session, world.resident_a),
                                         household_id=hh.id)
    assert [r.redemption.id for r in rows] == [red.id]
    with pytest.raises(rewards.NotAMember):
        rewards.household_redemptions(session, actor=actor(session, world.resident_b),
                                      household_id=hh.id)
    with pytest.raises(NotFound):
        rewards.my_redemption(session, actor=actor(session, world.resident_b),
                              redemption_id=red.id)
    listed = rewards.community_redemptions(session, actor=actor(session, world.manager_a),
                                           community_id=world.a.id, status="reserved")
    assert [r.redemption.id for r in listed] == [red.id]
    with pytest.raises(Forbidden):
        rewards.community_redemptions(session, actor=actor(session, world.manager_b),
                                      community_id=world.a.id)
