"""Scope cases of the steward's wallet (volunteers/wallet/views.py); see tests/scope.py.

A's steward has points, A's catalog an item and a reserved redemption of theirs. B's manager
is made a steward of B with points of their own: their wallet shows B only; A's item, A's
steward redemption, its QR and its cancel are refused; nothing of A's is spent.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from community.auth import services as auth_services
from community.points import services as points_services
from community.points.models import Redemption, RewardItem
from community.volunteers.models import Steward
from community.volunteers.wallet import services as wallet
from tests.builders import World
from tests.scope import Case, foreign

A_ITEM = "玉龙督导员保温杯"
NOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)


@dataclass
class AData:
    item: int
    redemption: int
    code: str


def _a_data(w: World) -> AData:
    owner = object_session(w.households_a[0])
    assert owner is not None
    with Session(owner.get_bind()) as session:
        item = session.exec(select(RewardItem).where(RewardItem.name == A_ITEM)).first()
        if item is None:
            item = RewardItem(community_id=w.a.id, name=A_ITEM, cost=10, stock=5)
            mine = Steward(community_id=w.a.id, account_id=w.steward_a.id, status="approved")
            theirs = Steward(community_id=w.b.id, account_id=w.manager_b.id, status="approved")
            session.add_all([item, mine, theirs])
            session.flush()
            for steward, area in ((mine, w.a), (theirs, w.b)):
                points_services.credit_steward(
                    session, steward_id=steward.id, community_id=area.id, amount=40,
                    source=f"hours:scope{steward.id}", reason="hours:120", actor_id=None,
                    now=NOW)
            wallet.redeem(session, actor=auth_services.load_actor(session, w.steward_a.id),
                          reward_id=item.id, client_id="scope-a-wallet", now=NOW)
        red = session.exec(select(Redemption).where(Redemption.reward_id == item.id)).one()
        data = AData(item.id, red.id, red.pickup_code)  # type: ignore[arg-type]
        session.commit()
    return data


@foreign("steward_wallet.index")
def _index(w: World) -> list[Case]:
    a = _a_data(w)
    absent = [A_ITEM, a.code]
    return [Case("GET", f"/steward/wallet?community_id={w.a.id}", expect=(200,),
                 absent=absent),
            Case("GET", "/steward/wallet", expect=(200,), absent=absent)]


@foreign("steward_wallet.redeem")
def _redeem(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("POST", "/steward/wallet/redeem",
                 data={"reward_id": str(a.item), "community_id": str(w.a.id),
                       "client_id": "scope-b-wallet"}, expect=(403,))]


@foreign("steward_wallet.redemption")
def _redemption(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("GET", f"/steward/wallet/redemptions/{a.redemption}")]


@foreign("steward_wallet.pickup_qr")
def _pickup_qr(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("GET", f"/steward/wallet/redemptions/{a.redemption}/qr.png")]


@foreign("steward_wallet.cancel")
def _cancel(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("POST", f"/steward/wallet/redemptions/{a.redemption}/cancel")]
