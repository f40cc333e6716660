"""The steward's redemptions: which steward records are the actor's, and redeeming with them.

Points never read the stewards' tables, so this layer resolves the actor's own approved
steward record in the item's community and hands its id to `points.rewards`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.auth import policy
from community.errors import DomainError, NotFound
from community.points import services as points_services
from community.points.models import Redemption, RewardItem
from community.points.rewards import services as rewards
from community.volunteers.models import Steward


class NotASteward(DomainError):
    code, status, message = "not_a_steward", 403, _l(
        "Only an approved steward of this community can spend steward points here.")


def my_stewards(session: Session, account_id: int | None) -> list[tuple[Steward, Area]]:
    """The actor's approved steward records with their communities (oldest first)."""
    if account_id is None:
        return []
    return [(s, a) for s, a in session.execute(
        select(Steward, Area).join(Area, col(Area.id) == Steward.community_id)
        .where(col(Steward.account_id) == account_id, col(Steward.status) == "approved")
        .order_by(col(Steward.id))).all()]


def my_steward_ids(session: Session, account_id: int | None) -> frozenset[int]:
    """The ids of the actor's approved steward records (whose redemptions are theirs)."""
    return frozenset(s.id for s, _a in my_stewards(session, account_id) if s.id is not None)


def redeem(session: Session, *, actor: policy.Actor, reward_id: int, client_id: str | None,
           now: datetime | None = None) -> Redemption:
    """The steward redeems one item of their community's catalog with their own points."""
    item = session.get(RewardItem, reward_id)
    mine = {s.community_id: s for s, _a in my_stewards(session, actor.account_id)}
    if item is None:
        raise NotFound()
    steward = mine.get(item.community_id)
    if steward is None or steward.id is None:
        raise NotASteward()
    return rewards.redeem_for_steward(session, actor=actor, steward_id=steward.id,
                                      community_id=item.community_id, reward_id=reward_id,
                                      client_id=client_id, now=now)


@dataclass(frozen=True)
class Wallet:
    """One community's page: the steward, the balance, the catalog and their redemptions."""

    steward: Steward
    area: Area
    balance: int
    items: list[RewardItem]
    redemptions: list[rewards.RedemptionRow]


def wallet(session: Session, *, actor: policy.Actor, community_id: int | None,
           on: datetime | None = None) -> Wallet | None:
    """The actor's wallet in one of their communities (the first by default); None when
    they are no approved steward anywhere."""
    mine = my_stewards(session, actor.account_id)
    pick = next(((s, a) for s, a in mine if a.id == community_id), mine[0] if mine else None)
    if pick is None:
        return None
    steward, area = pick
    today = clock.local_today(area.timezone, on)
    # Households-only items are not the steward's to buy (the redemption refuses them too).
    items = rewards.catalog(session, community_id=area.id or 0, on=today, buyer="steward")
    rows = session.execute(
        select(Redemption, col(RewardItem.name))
        .join(RewardItem, col(RewardItem.id) == Redemption.reward_id)
        .where(col(Redemption.steward_id) == steward.id)
        .order_by(col(Redemption.id).desc()).limit(20)).all()
    return Wallet(steward, area, points_services.steward_balance(session, steward.id or 0),
                  items, [rewards.RedemptionRow(r, n) for r, n in rows])


__all__ = ["NotASteward", "Wallet", "my_steward_ids", "my_stewards", "redeem", "wallet"]
