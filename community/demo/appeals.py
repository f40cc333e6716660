"""Demo appeals (申诉): in each community with linked residents, the households' recent
incorrect drops are told to them (the inbox messages a scan would have sent), and three of
them are appealed: one still open (within its 7 days), one upheld and one regraded to
correct by the community's manager, each decision with its reason (the regrade moves the
points as a real one would). Through the services, so the ledger stays exact. A second run
changes nothing.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlmodel import col

from community import clock
from community.areas.models import Area
from community.auth import services as auth_services
from community.auth.models import RoleGrant
from community.demo.context import Demo
from community.households.models import HouseholdMember
from community.rows import pk
from community.stations import notices
from community.stations.appeals import services as appeals
from community.stations.appeals.models import DropAppeal
from community.stations.appeals.schemas import AppealDecisionIn, AppealIn
from community.stations.models import Drop

TOLD_DAYS = 7  # the messages of the last week's incorrect drops
APPEALS = (  # (household's note, outcome or None for open, decider's reason)
    ("袋子是可降解的，已经破袋投放", None, ""),
    ("当时桶里原本就有塑料袋，不是我们家的", "uphold", "照片里是该户投放的整袋厨余，维持原判"),
    ("我们投的是果皮，督导员看错了", "regrade", "复核照片：确为果皮，改判为正确"),
)


def _manager(demo: Demo, community: Area) -> int | None:
    return demo.session.execute(
        select(col(RoleGrant.account_id)).where(col(RoleGrant.area_id) == pk(community),
                                                col(RoleGrant.role) == "manager")
        .order_by(col(RoleGrant.account_id)).limit(1)).scalar_one_or_none()


def _community(demo: Demo, community: Area) -> None:
    session = demo.session
    if session.execute(select(col(DropAppeal.id)).where(
            col(DropAppeal.community_id) == pk(community)).limit(1)).first() is not None:
        return
    manager = _manager(demo, community)
    if manager is None:
        return
    now = clock.now()
    # Incorrect drops of households with a linked resident, newest first, one per household.
    rows = session.execute(
        select(Drop, col(HouseholdMember.account_id))
        .join(HouseholdMember, col(HouseholdMember.household_id) == Drop.household_id)
        .where(col(Drop.community_id) == pk(community), col(Drop.quality) == "incorrect",
               col(Drop.voided_at).is_(None), col(HouseholdMember.status) == "approved",
               col(Drop.received_at) >= now - timedelta(days=TOLD_DAYS))
        .order_by(col(Drop.happened_at).desc(), col(Drop.id))).all()
    if not rows:
        return
    demo.created += notices.tell_incorrect(session, [d for d, _a in rows])
    # Different households first, then further drops of theirs (one appeal per drop).
    first: dict[int, tuple[Drop, int]] = {}
    by_drop: dict[int, tuple[Drop, int]] = {}
    for drop, account_id in rows:
        first.setdefault(drop.household_id or 0, (drop, account_id))
        by_drop.setdefault(pk(drop), (drop, account_id))
    picked = list(first.values())
    picked += [v for v in by_drop.values() if v not in picked]
    decider = auth_services.load_actor(session, manager)
    for (note, outcome, reason), (drop, account_id) in zip(APPEALS, picked, strict=False):
        filed_at = min(now, drop.received_at + timedelta(hours=20))
        appeal = appeals.file_appeal(session, actor=auth_services.load_actor(session, account_id),
                                     drop_id=pk(drop), data=AppealIn.parse(note=note),
                                     now=filed_at)
        demo.created += 1
        if outcome is not None:
            appeals.decide_appeal(session, actor=decider, appeal_id=pk(appeal),
                                  data=AppealDecisionIn.parse(outcome=outcome, reason=reason),
                                  now=min(now, filed_at + timedelta(hours=3)))


def add_appeals(demo: Demo) -> None:
    """Messages about last week's incorrect drops, and appeals in each state, per community."""
    for community in demo.communities.values():
        _community(demo, community)
    demo.session.flush()
