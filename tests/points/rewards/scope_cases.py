"""Foreign-access cases of the rewards pages (see tests/scope.py).

Each case first stores community A's rewards data: an item (with a picture path) and a
reserved redemption of A's first household. The manager of B then tries every endpoint on
it. Pictures are refused with 403, never 404, so a broken check (which would reach the
missing file and answer 404) fails these cases. The residents' /me/rewards pages are covered
too: for B's manager, who belongs to no household, A's ids are 404 or 403. Resident B's
isolation from resident A is tested in tests/points/rewards/test_views.py.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from community.points.models import PointsAccount, Redemption, RewardItem
from tests.builders import World
from tests.scope import Case, foreign

A_ITEM = "玉龙鸡蛋礼盒"
A_CODE = "PQRSTUVWXY"
A_ADDRESS = "1栋1单元101室"


@dataclass
class AData:
    """Ids of A's rewards data the cases aim at."""

    household: int
    item: int
    redemption: int


def _a_data(w: World) -> AData:
    owner = object_session(w.households_a[0])
    assert owner is not None
    # A session of our own, closed at once: an open SQLite transaction would lock the app out.
    with Session(owner.get_bind()) as session:
        hh_id = w.households_a[0].id
        item = session.exec(select(RewardItem).where(RewardItem.name == A_ITEM)).first()
        if item is None:  # not yet stored for this World
            item = RewardItem(community_id=w.a.id, name=A_ITEM, cost=20, stock=5,
                              picture=f"{w.a.id}/1-0123456789abcdef.png")
            account = PointsAccount(community_id=w.a.id, household_id=hh_id, balance=0)
            session.add_all([item, account])
            session.flush()
            session.add(Redemption(community_id=w.a.id, reward_id=item.id,
                                   household_id=hh_id, account_id=account.id, cost=20,
                                   pickup_code=A_CODE, client_id="a-tap"))
            session.flush()
        red = session.exec(select(Redemption).where(Redemption.pickup_code == A_CODE)).one()
        data = AData(hh_id, item.id, red.id)  # type: ignore[arg-type]
        session.commit()
    return data


ABSENT = [A_ITEM, A_ADDRESS, A_CODE, "PQRST-UVWXY"]
ITEM_FORM = {"name": "外来奖品", "cost": "1", "stock": "1"}


# --- Residents' pages (B's manager has no household) ----------------------------------------

@foreign("resident_rewards.index")
def _my_catalog(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("GET", f"/me/rewards?household_id={a.household}")]


@foreign("resident_rewards.confirm")
def _confirm(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("GET", f"/me/rewards/{a.item}/confirm?household_id={a.household}")]


@foreign("resident_rewards.redeem")
def _redeem(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("POST", "/me/rewards/redeem", data={
        "household_id": str(a.household), "reward_id": str(a.item), "client_id": "b-tap"})]


@foreign("resident_rewards.redemptions")
def _my_redemptions(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("GET", f"/me/rewards/redemptions?household_id={a.household}")]


@foreign("resident_rewards.redemption")
def _my_redemption(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("GET", f"/me/rewards/redemptions/{a.redemption}")]


@foreign("resident_rewards.pickup_qr")
def _pickup_qr(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("GET", f"/me/rewards/redemptions/{a.redemption}/qr.png")]


@foreign("resident_rewards.cancel")
def _my_cancel(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("POST", f"/me/rewards/redemptions/{a.redemption}/cancel")]


@foreign("resident_rewards.picture")
def _member_picture(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("GET", f"/me/rewards/items/{a.item}/picture", expect=(403,))]


# --- Pickup desk ----------------------------------------------------------------------------

@foreign("pickup.index")
def _pickup(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("GET", f"/steward/pickup?code={A_CODE}", expect=(403,), absent=ABSENT[:2]),
        Case("GET", "/steward/pickup?code=pqrst-uvwxy", expect=(403,), absent=ABSENT[:2]),
        # B's own desk answers, without anything of A.
        Case("GET", "/steward/pickup", expect=(200,), absent=ABSENT),
    ]


@foreign("pickup.hand_over")
def _hand_over(w: World) -> list[Case]:
    _a_data(w)
    return [Case("POST", "/steward/pickup/hand-over", data={"code": A_CODE}, expect=(403,),
                 absent=ABSENT[:2])]


# --- Managers' pages ------------------------------------------------------------------------

@foreign("rewards.catalog")
def _catalog(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("GET", f"/manage/rewards?community_id={w.a.id}"),
        Case("GET", f"/manage/rewards?community_id={w.street_a.id}"),
        Case("GET", "/manage/rewards", expect=(200,), absent=ABSENT),
        Case("GET", f"/manage/rewards?community_id={w.b.id}", expect=(200,), absent=ABSENT),
    ]


@foreign("rewards.new")
def _new(w: World) -> list[Case]:
    return [Case("GET", f"/manage/rewards/new?community_id={w.a.id}"),
            Case("POST", f"/manage/rewards/new?community_id={w.a.id}", data=ITEM_FORM)]


@foreign("rewards.edit")
def _edit(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("GET", f"/manage/rewards/items/{a.item}/edit"),
            Case("POST", f"/manage/rewards/items/{a.item}/edit", data=ITEM_FORM)]


@foreign("rewards.status")
def _status(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("POST", f"/manage/rewards/items/{a.item}/status", data={"status": "retired"})]


@foreign("rewards.picture")
def _picture(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("GET", f"/manage/rewards/items/{a.item}/picture", expect=(403,))]


@foreign("rewards.redemptions")
def _redemptions(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("GET", f"/manage/rewards/redemptions?community_id={w.a.id}"),
        Case("GET", f"/manage/rewards/redemptions?community_id={w.a.id}&status=reserved"),
        Case("GET", "/manage/rewards/redemptions", expect=(200,), absent=ABSENT),
        Case("GET", "/manage/rewards/redemptions?status=reserved&before=999999",
             expect=(200,), absent=ABSENT),
    ]


@foreign("rewards.cancel_redemption")
def _cancel(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("POST", f"/manage/rewards/redemptions/{a.redemption}/cancel",
                 data={"reason": "外来取消"}),
            Case("POST", f"/manage/rewards/redemptions/{a.redemption}/cancel",
                 data={"reason": ""})]
