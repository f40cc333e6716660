"""A steward spends their own points (积分银行) on their community's rewards: the same
redemption machinery as a household's (no overdraft, stock, pickup code), both backends."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from community.auth import services as auth_services
from community.errors import NotFound
from community.points import services as points_services
from community.points.models import Redemption, RewardItem
from community.points.rewards import services as rewards
from community.volunteers.models import Steward
from community.volunteers.wallet import services as wallet
from tests import builders
from tests.stations.helpers import read

NOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)


@pytest.fixture
def scene(session: Session, world: builders.World):
    steward = Steward(community_id=world.a.id, account_id=world.steward_a.id, status="approved")
    session.add(steward)
    item = RewardItem(community_id=world.a.id, name="环保袋", cost=30, stock=1)
    other = RewardItem(community_id=world.b.id, name="肥皂", cost=5, stock=5)
    session.add_all([item, other])
    session.flush()
    points_services.credit_steward(session, steward_id=steward.id, community_id=world.a.id,
                                   amount=40, source="hours:test", reason="hours:120",
                                   actor_id=None, now=NOW)
    session.commit()
    return world, steward, item, other


def test_redeem_cancel_and_hand_over(session: Session, scene) -> None:
    world, steward, item, other = scene
    me = auth_services.load_actor(session, world.steward_a.id)
    red = wallet.redeem(session, actor=me, reward_id=item.id, client_id="tap-1", now=NOW)
    assert (red.steward_id, red.household_id, red.cost) == (steward.id, None, 30)
    assert points_services.steward_balance(session, steward.id) == 10
    assert session.get(RewardItem, item.id).stock == 0  # type: ignore[union-attr]
    # A double tap redeems once.
    assert wallet.redeem(session, actor=me, reward_id=item.id, client_id="tap-1",
                         now=NOW).id == red.id
    # No stock left; and another community's catalog is not theirs.
    session.get(RewardItem, item.id).stock = 1  # type: ignore[union-attr]
    session.flush()
    with pytest.raises(points_services.NotEnoughPoints):  # 10 left, no overdraft
        wallet.redeem(session, actor=me, reward_id=item.id, client_id="tap-2", now=NOW)
    with pytest.raises(wallet.NotASteward):
        wallet.redeem(session, actor=me, reward_id=other.id, client_id="tap-3", now=NOW)
    with pytest.raises(NotFound):
        wallet.redeem(session, actor=me, reward_id=999_999, client_id="tap-4", now=NOW)
    # The pickup desk sees a steward's redemption; another steward cannot cancel it.
    manager = auth_services.load_actor(session, world.manager_a.id)
    assert rewards.look_up_pickup(session, actor=manager, code=red.pickup_code).address
    with pytest.raises(NotFound):
        rewards.cancel_redemption(session, actor=me, redemption_id=red.id)  # no steward ids
    rewards.cancel_redemption(session, actor=me, redemption_id=red.id,
                              steward_ids=wallet.my_steward_ids(session, world.steward_a.id))
    assert points_services.steward_balance(session, steward.id) == 40
    assert points_services.verify(session) == []
    listed = rewards.community_redemptions(session, actor=manager, community_id=world.a.id)
    assert [r.redemption.id for r in listed] == [red.id]


def test_wallet_pages(client, session: Session, scene) -> None:
    world, steward, item, _other = scene
    builders.login(client, world.steward_a)
    page = client.get("/steward/wallet").get_data(as_text=True)
    assert "环保袋" in page
    assert 'data-testid="wallet-balance">40<' in page
    client_id = page.split('name="client_id" value="')[1].split('"')[0]
    resp = client.post("/steward/wallet/redeem", data={
        "reward_id": str(item.id), "community_id": str(world.a.id), "client_id": client_id})
    assert resp.status_code == 302
    red = read(session, select(Redemption))[0]
    shown = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="pickup-code"' in shown
    assert client.get(f"/steward/wallet/redemptions/{red.id}/qr.png").status_code == 200
    bad = client.post("/steward/wallet/redeem", data={"reward_id": "x"})
    assert bad.status_code == 302
    # A resident is no steward: refused with a clear code, and cannot see the redemption.
    client.post("/logout")
    builders.login(client, world.resident_a)
    assert client.get("/steward/wallet").status_code == 403
    assert client.get(f"/steward/wallet/redemptions/{red.id}").status_code == 404
