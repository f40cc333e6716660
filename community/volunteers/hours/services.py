"""Stewards' hours (工时): the manager's approval (one or many) and the record of a report's
export; what the pages show is in `queries`.

Hours come from check-in/out: the check-out (or the end-of-shift job) leaves an assignment
with `minutes` and hours_status "pending". A manager (steward:manage) approves them as they
are or corrects the minutes with a reason. The approval is one transaction: a conditional
UPDATE … WHERE hours_status = 'pending' (so a second approval, even a concurrent one,
changes nothing) and one ledger credit with source "shift:<assignment id>" (UNIQUE
(source, kind) makes a second credit impossible). Points are floor(minutes × rate / 60)
with the community's rate in force on the shift's date.

Lock order, everywhere: the stewards' points accounts (account id order) first, then the
assignments (id order), so a bulk approval and a single one never deadlock.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.audit import services as audit
from community.auth import policy
from community.errors import DomainError, InvalidInput, NotFound, OwnDecision
from community.inbox import services as notifications
from community.points import services as points_services
from community.rows import pk, table_of
from community.volunteers.hours import rules as hours_rules
from community.volunteers.hours.queries import (
    HoursReport,
    community_area,
    hours_report,
    load_assignment,
)
from community.volunteers.hours.schemas import (
    AS_RECORDED,
    ApproveIn,
    BulkApproveIn,
    CorrectionReasonRequired,
)

# Re-exported: an approval's refusals are named here, with the services' own.
from community.volunteers.hours.schemas import MinutesOutOfRange as MinutesOutOfRange
from community.volunteers.models import Shift, ShiftAssignment, Steward

MY_LINK = "/steward/hours"


class HoursAlreadyApproved(DomainError):
    """The hours of this assignment were approved before (maybe a moment ago, by someone else)."""

    code, status, message = "hours_already_approved", 409, _l(
        "These hours were already approved. Nothing was changed.")


class HoursNotPending(DomainError):
    """The assignment has no hours waiting (the steward has not checked out yet)."""

    code, status, message = "hours_not_pending", 409, _l(
        "There are no hours waiting for approval on this shift. Nothing was changed.")


class MinutesMissing(InvalidInput):
    """No minutes were recorded, so the hours cannot be approved as they are."""

    code, message = "minutes_missing", _l(
        "No minutes were recorded for this shift. Enter them, with a reason.")


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


# --- Approval --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Approval:
    """One approved assignment: the minutes approved and the points credited."""

    assignment_id: int
    steward_id: int
    minutes: int
    points: int
    corrected: bool


def _decide_minutes(assignment: ShiftAssignment, data: ApproveIn) -> tuple[int, str]:
    """The minutes to approve and the stored correction reason (a correction needs one)."""
    recorded = assignment.minutes
    minutes = recorded if data.minutes is None else data.minutes
    if minutes is None:
        raise MinutesMissing(field="minutes")
    if minutes == recorded:
        return minutes, ""  # approved as it is: nothing to explain
    if not data.reason:
        raise CorrectionReasonRequired(field="reason")
    return minutes, data.reason


def _check_state(assignment: ShiftAssignment) -> None:
    if assignment.hours_status == "approved":
        raise HoursAlreadyApproved(assignment_id=assignment.id)
    if assignment.hours_status != "pending":
        raise HoursNotPending(assignment_id=assignment.id)


def _approve(session: Session, *, actor: policy.Actor, assignment: ShiftAssignment,
             shift: Shift, area: Area, minutes: int, reason: str, now: datetime,
             ip: str | None) -> Approval:
    """Mark one assignment approved (conditionally) and credit its points; accounts locked."""
    assignment_id, steward_id, recorded = pk(assignment), assignment.steward_id, assignment.minutes
    table = table_of(ShiftAssignment)
    changed = session.exec(
        update(table)
        .where(table.c.id == assignment_id, table.c.hours_status == "pending")
        .values(hours_status="approved", approved_minutes=minutes,
                approved_by=actor.account_id, approved_at=now, correction_reason=reason))
    if changed.rowcount != 1:
        # Approved by someone else since it was read: their approval stands, ours is refused.
        raise HoursAlreadyApproved(assignment_id=assignment_id)
    session.expire(assignment)  # the UPDATE bypassed the ORM: reload on next access
    rules = points_services.current_rules(session, pk(area), shift.local_date)
    points = hours_rules.points_for_minutes(minutes, rules.steward_points_per_hour)
    credited = points_services.credit_steward(
        session, steward_id=steward_id, community_id=pk(area),
        amount=points, source=f"shift:{assignment_id}", reason=f"hours:{minutes}",
        actor_id=actor.account_id, now=now, rule_version=rules.version)
    audit.record(session, actor_id=actor.account_id, action="volunteers.hours_approved",
                 area=area, target_type="shift_assignment", target_id=assignment_id, ip=ip,
                 minutes=minutes, recorded=recorded, points=credited, reason=reason)
    account_id = session.execute(select(col(Steward.account_id)).where(
        col(Steward.id) == steward_id)).scalar_one()
    notifications.notify(session, account_id=account_id, kind="hours_approved",
                         params={"minutes": minutes, "points": credited}, link=MY_LINK,
                         dedupe_key=f"hours_approved:{assignment_id}")
    return Approval(assignment_id, steward_id, minutes, credited, bool(reason))


def _steward_accounts(session: Session, steward_ids: list[int]) -> dict[int, int]:
    """steward id → its account id."""
    rows = session.execute(select(col(Steward.id), col(Steward.account_id))
                           .where(col(Steward.id).in_(sorted(set(steward_ids))))).tuples()
    return dict(rows.all())


def approve_hours(session: Session, *, actor: policy.Actor, assignment_id: int,
                  data: ApproveIn = AS_RECORDED, now: datetime | None = None,
                  ip: str | None = None) -> Approval:
    """Approve one assignment's hours as recorded, or corrected (`data.minutes`) with a reason.

    Refused, changing nothing: the actor's own hours (separation of duties), hours already
    approved or not pending, no minutes to approve, a correction without a reason.
    """
    now = _now(now)
    assignment, shift, area = load_assignment(session, assignment_id)
    policy.require(actor, "steward:manage", area)
    if _steward_accounts(session, [assignment.steward_id]).get(assignment.steward_id) \
            == actor.account_id:
        raise OwnDecision()
    _check_state(assignment)
    minutes, reason = _decide_minutes(assignment, data)
    # The account first (lock order), then the assignment row in the conditional UPDATE.
    points_services.lock_steward_accounts(session, pk(area), {assignment.steward_id})
    return _approve(session, actor=actor, assignment=assignment, shift=shift, area=area,
                    minutes=minutes, reason=reason, now=now, ip=ip)


@dataclass
class BulkApproval:
    """What a bulk approval did: the approvals, and the ids it skipped (already approved,
    not pending, or without recorded minutes)."""

    approved: list[Approval] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)

    @property
    def points(self) -> int:
        """Points credited by the whole batch."""
        return sum(a.points for a in self.approved)


def approve_many(session: Session, *, actor: policy.Actor, community_id: int,
                 data: BulkApproveIn, now: datetime | None = None,
                 ip: str | None = None) -> BulkApproval:
    """Approve a selection of one community's pending hours as recorded, in one transaction.

    Any id outside the community (or unknown) refuses the whole batch; ids already approved,
    without recorded minutes, or the actor's own hours are skipped and reported.
    """
    now = _now(now)
    area = community_area(session, community_id)
    policy.require(actor, "steward:manage", area)
    ids = sorted(set(data.ids))
    rows = session.execute(
        select(ShiftAssignment, Shift)
        .join(Shift, col(Shift.id) == ShiftAssignment.shift_id)
        .where(col(ShiftAssignment.id).in_(ids))
        .order_by(col(ShiftAssignment.id))).all()
    if len(rows) != len(ids) or any(s.community_id != area.id for _a, s in rows):
        raise NotFound()
    result = BulkApproval()
    todo = []
    accounts = _steward_accounts(session, [a.steward_id for a, _s in rows])
    for assignment, shift in rows:
        # A manager's own hours are left for another manager (separation of duties).
        if assignment.hours_status != "pending" or assignment.minutes is None \
                or accounts.get(assignment.steward_id) == actor.account_id:
            result.skipped.append(assignment.id)
        else:
            todo.append((assignment, shift))
    points_services.lock_steward_accounts(session, pk(area),
                                          {a.steward_id for a, _s in todo})
    for assignment, shift in todo:
        try:
            result.approved.append(_approve(
                session, actor=actor, assignment=assignment, shift=shift, area=area,
                minutes=assignment.minutes, reason="", now=now, ip=ip))
        except HoursAlreadyApproved:  # approved meanwhile: the UPDATE wrote nothing
            result.skipped.append(assignment.id)
    return result


# --- The report's exports -------------------------------------------------------------------

def export_report(session: Session, *, actor: policy.Actor, community_id: int | None,
                  day_from: date | None, day_to: date | None, fmt: str,
                  ip: str | None = None) -> HoursReport:
    """The hours report for a download, with an audit entry (names leave the system)."""
    report = hours_report(session, actor=actor, community_id=community_id, day_from=day_from,
                          day_to=day_to)
    audit.record(session, actor_id=actor.account_id, action="volunteers.hours_exported",
                 area=report.community, ip=ip, fmt=fmt, day_from=report.day_from.isoformat(),
                 day_to=report.day_to.isoformat(), rows=len(report.rows))
    return report
