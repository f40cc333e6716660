"""Filing and deciding appeals. Services flush, never commit (one commit per request)."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlmodel import Session, col

from community import clock
from community.areas import services as areas_services
from community.audit import services as audit
from community.auth import policy
from community.errors import DomainError, Forbidden, NotFound
from community.households import services as households_services
from community.rows import insert_ignoring, table_of
from community.stations import notices
from community.stations import services as stations_services
from community.stations.appeals import rules
from community.stations.appeals.models import DropAppeal
from community.stations.appeals.schemas import AppealDecisionIn, AppealIn
from community.stations.models import Drop
from community.stations.schemas import RegradeIn


class AppealRefused(DomainError):
    """An appeal that cannot be filed; `code` says why (the page shows the message)."""

    code, status = "appeal_refused", 409
    message = _l("This verdict cannot be appealed.")


MESSAGES = {
    "appealed": _l("This drop has already been appealed: each verdict can be appealed once."),
    "too_late": _l("The 7 days to appeal this verdict have passed."),
    "not_incorrect": _l("Only a drop recorded as incorrectly sorted can be appealed."),
    "voided": _l("This scan was undone: there is nothing to appeal."),
    "decided": _l("This appeal has already been decided."),
    "reason_required": _l("Please give the reason for the decision: the household is told it."),
    "outcome": _l("Choose a decision."),
}


class AppealDecided(DomainError):
    code, status, message = "appeal_decided", 409, MESSAGES["decided"]


def _lock_drop(session: Session, drop_id: int) -> Drop:
    drop: Drop | None = session.execute(select(Drop).where(col(Drop.id) == drop_id)
                                        .with_for_update()).scalar_one_or_none()
    if drop is None:
        raise NotFound()
    return drop


def file_appeal(session: Session, *, actor: policy.Actor, drop_id: int, data: AppealIn,
                now: datetime | None = None, ip: str | None = None) -> DropAppeal:
    """A member of the drop's household appeals its incorrect verdict (once, within 7 days)."""
    now = now or clock.now()
    drop = _lock_drop(session, drop_id)
    if drop.household_id is None or households_services.member_household(
            session, actor.account_id, drop.household_id) is None:
        raise NotFound()  # another household's drop: as if it did not exist
    refusal, _appeal = notices.appeal_state(session, [drop], now=now)[drop_id]
    if refusal is not None:
        raise AppealRefused(MESSAGES[refusal], reason=refusal)
    table = table_of(DropAppeal)
    # A concurrent second appeal of the same drop inserts nothing (UNIQUE drop_id).
    row = session.execute(insert_ignoring(session, table, on=["drop_id"]).values(
        drop_id=drop_id, community_id=drop.community_id, household_id=drop.household_id,
        filed_by=actor.account_id, note=data.note, status="open", filed_at=now,
        decision_reason="").returning(table.c.id)).first()
    if row is None:
        raise AppealRefused(MESSAGES["appealed"], reason="appealed")
    appeal = session.get(DropAppeal, row[0])
    assert appeal is not None  # noqa: S101 - just inserted
    audit.record(session, actor_id=actor.account_id, action="drop.appealed",
                 area=areas_services.get_community(session, drop.community_id),
                 target_type="drop", target_id=drop_id, ip=ip)
    return appeal


def decide_appeal(session: Session, *, actor: policy.Actor, appeal_id: int,
                  data: AppealDecisionIn, now: datetime | None = None,
                  ip: str | None = None) -> DropAppeal:
    """The station chief or a manager of the drop's community upholds the verdict or regrades
    the drop to correct; the household is told the outcome and the reason."""
    now = now or clock.now()
    appeal: DropAppeal | None = session.execute(
        select(DropAppeal).where(col(DropAppeal.id) == appeal_id).with_for_update()
    ).scalar_one_or_none()
    if appeal is None:
        raise NotFound()
    area = areas_services.get_community(session, appeal.community_id)
    if not policy.allowed(actor, "drop:regrade", area):
        raise Forbidden(action="drop:regrade")
    refusal = rules.decision_refusal(status=appeal.status, outcome=data.outcome,
                                     reason=data.reason)
    if refusal == "decided":
        raise AppealDecided()
    drop = _lock_drop(session, appeal.drop_id)
    if data.outcome == "regrade":
        change = stations_services.regrade_drop(
            session, actor=actor, drop_id=appeal.drop_id, ip=ip, tell_household=False,
            data=RegradeIn.parse(quality="correct", reason=data.reason))
        appeal.status, appeal.regrade_id = "regraded", change.id
    else:
        appeal.status = "upheld"
    appeal.decided_at, appeal.decided_by, appeal.decision_reason = (
        now, actor.account_id, data.reason)
    session.add(appeal)
    session.flush()
    session.refresh(drop)
    notices.tell_appeal_decided(session, drop, appeal)
    audit.record(session, actor_id=actor.account_id, action="drop.appeal_decided", area=area,
                 target_type="drop", target_id=appeal.drop_id, ip=ip, outcome=appeal.status,
                 reason=data.reason)
    return appeal


def appeal_community(session: Session, *, actor: policy.Actor, appeal_id: int) -> int:
    """The community of an appeal the actor may decide (NotFound / Forbidden otherwise)."""
    appeal = session.get(DropAppeal, appeal_id)
    if appeal is None:
        raise NotFound()
    area = areas_services.get_community(session, appeal.community_id)
    policy.require(actor, "drop:regrade", area)
    return appeal.community_id
