"""Whose points may buy a reward (reward_item.audience), both backends: a households-only item
is neither listed in a steward's wallet nor redeemable with a steward's own points, and a
stewards-only item is neither in the households' shop nor redeemable with a household's
points; the server refuses with a clear bilingual message and changes nothing."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, select

from community.auth import services as auth_services
from community.errors import InvalidInput
from community.points import services as points_services
from community.points.models import Redemption, RewardItem
from community.points.rewards import services as rewards
from community.points.rewards.schemas import RedeemIn, RewardIn, offered_to
from community.points.schemas import AdjustIn
from community.volunteers.models import Steward
from community.volunteers.wallet import services as wallet
from tests import builders
from tests.residents.helpers import link

NOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)


@pytest.fixture
def scene(session: Session, world: builders.World):
    steward = Steward(community_id=world.a.id, account_id=world.steward_a.id, status="approved")
    session.add(steward)
    items = {a: RewardItem(community_id=world.a.id, name=name, cost=10, stock=3, audience=a)
             for a, name in (("everyone", "环保袋"), ("households", "鸡蛋"),
                             ("stewards", "督导马甲"))}
    session.add_all(items.values())
    session.flush()
    points_services.credit_steward(session, steward_id=steward.id, community_id=world.a.id,
                                   amount=40, source="hours:test", reason="hours:120",
                                   actor_id=None, now=NOW)
    hh = world.households_a[0]
    link(session, world.resident_a.id, builders.active_card(session, hh))
    manager = auth_services.load_actor(session, world.manager_a.id)
    points_services.adjust(session, actor=manager, household_id=hh.id, now=NOW,
                           data=AdjustIn(amount=40, reason="开户"))
    session.commit()
    return world, steward, items, hh


def test_offered_to() -> None:
    assert offered_to("everyone", "steward")
    assert offered_to("everyone", "household")
    assert offered_to("stewards", "steward")
    assert not offered_to("stewards", "household")
    assert offered_to("households", "household")
    assert not offered_to("households", "steward")


def test_steward_points_buy_no_household_only_item(session: Session, scene) -> None:
    world, steward, items, _hh = scene
    me = auth_services.load_actor(session, world.steward_a.id)
    shown = wallet.wallet(session, actor=me, community_id=world.a.id, on=NOW)
    assert shown is not None
    assert [i.name for i in shown.items] == ["环保袋", "督导马甲"]
    with pytest.raises(rewards.RewardNotOffered) as refused:
        wallet.redeem(session, actor=me, reward_id=items["households"].id, client_id="t-1",
                      now=NOW)
    assert refused.value.code == "reward_not_offered"
    assert refused.value.status == 409
    session.rollback()
    assert points_services.steward_balance(session, steward.id) == 40
    assert session.get(RewardItem, items["households"].id).stock == 3  # type: ignore[union-attr]
    assert session.exec(select(Redemption)).all() == []
    # The steward's own items and everyone's still go.
    for n, key in enumerate(("everyone", "stewards")):
        wallet.redeem(session, actor=me, reward_id=items[key].id, client_id=f"ok-{n}", now=NOW)
    assert points_services.steward_balance(session, steward.id) == 20


def test_household_points_buy_no_steward_only_item(session: Session, scene) -> None:
    world, _steward, items, hh = scene
    resident = auth_services.load_actor(session, world.resident_a.id)
    with pytest.raises(rewards.RewardNotOffered) as refused:
        rewards.redeem_reward(session, actor=resident, now=NOW, data=RedeemIn(
            household_id=hh.id, reward_id=items["stewards"].id, client_id="h-1"))
    assert "stewards only" in str(refused.value.message)
    session.rollback()
    assert points_services.balance(session, hh.id) == 40
    assert session.exec(select(Redemption)).all() == []


def test_pages_list_and_refuse_in_both_languages(client: FlaskClient, session: Session,
                                                 scene) -> None:
    world, steward, items, hh = scene
    builders.login(client, world.steward_a)
    page = client.get("/steward/wallet").get_data(as_text=True)
    assert "环保袋" in page
    assert "督导马甲" in page
    assert "鸡蛋" not in page
    # A tampered form naming the households-only item: refused with a message, nothing moved.
    resp = client.post("/steward/wallet/redeem", data={
        "reward_id": str(items["households"].id), "community_id": str(world.a.id),
        "client_id": "forged-1"}, follow_redirects=True)
    assert "仅限居民家庭" in resp.get_data(as_text=True)
    client.post("/lang", data={"lang": "en", "next": "/steward/wallet"})
    resp = client.post("/steward/wallet/redeem", data={
        "reward_id": str(items["households"].id), "community_id": str(world.a.id),
        "client_id": "forged-2"}, follow_redirects=True)
    assert "it is for households only" in resp.get_data(as_text=True)
    assert points_services.steward_balance(session, steward.id) == 40
    client.post("/logout")

    builders.login(client, world.resident_a)
    client.post("/lang", data={"lang": "zh", "next": "/me/rewards"})
    shop = client.get(f"/me/rewards?household_id={hh.id}").get_data(as_text=True)
    assert "鸡蛋" in shop
    assert "环保袋" in shop
    assert "督导马甲" not in shop
    assert client.get(f"/me/rewards/{items['stewards'].id}/confirm?household_id={hh.id}"
                      ).status_code == 404
    resp = client.post("/me/rewards/redeem", data={
        "household_id": str(hh.id), "reward_id": str(items["stewards"].id),
        "client_id": "forged-3"}, follow_redirects=True)
    assert "仅限督导员" in resp.get_data(as_text=True)
    assert points_services.balance(session, hh.id) == 40


def test_the_manager_sets_the_audience(session: Session, scene) -> None:
    world, _steward, items, _hh = scene
    manager = auth_services.load_actor(session, world.manager_a.id)
    saved = rewards.save_item(session, actor=manager, community_id=world.a.id,
                              item_id=items["everyone"].id, data=RewardIn.parse(
                                  name="环保袋", cost=10, stock=3, audience="households"))
    assert saved.audience == "households"
    with pytest.raises(InvalidInput):
        RewardIn.parse(name="x", cost=1, stock=1, audience="managers")
