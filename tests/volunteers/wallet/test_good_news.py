"""Good news reaches a steward too (both backends): their own redemption is ready for pickup,
and handed over, in their inbox, pointing at their wallet (a household's go to its members)."""
from __future__ import annotations

from flask.testing import FlaskClient
from sqlmodel import Session, select

from community.auth import services as auth_services
from community.inbox.models import Notification
from community.points.rewards import services as rewards
from community.volunteers.wallet import services as wallet
from tests import builders
from tests.volunteers.wallet.test_wallet import NOW, scene

__all__ = ["scene"]  # the fixture, used by name


def test_a_stewards_reward_ready_and_handed_over(client: FlaskClient, session: Session,
                                                 scene) -> None:
    world, _steward, item, _other = scene
    me = auth_services.load_actor(session, world.steward_a.id)
    red = wallet.redeem(session, actor=me, reward_id=item.id, client_id="news-1", now=NOW)
    manager = auth_services.load_actor(session, world.manager_a.id)
    rewards.hand_over(session, actor=manager, code=red.pickup_code, now=NOW)
    session.commit()
    told = session.exec(select(Notification).where(
        Notification.account_id == world.steward_a.id).order_by(Notification.id)).all()
    assert [(n.kind, n.link) for n in told] == [
        ("reward_ready", f"/steward/wallet/redemptions/{red.id}"),
        ("reward_handed_over", f"/steward/wallet/redemptions/{red.id}")]
    builders.login(client, world.steward_a)
    client.post("/lang", data={"lang": "zh", "next": "/me/inbox"})
    page = client.get("/me/inbox").get_data(as_text=True)
    assert "环保袋" in page
