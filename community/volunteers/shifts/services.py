"""Shift use cases: rotas generated from station windows, sign-up and cancel, managers'
assignments, the number of stewards a shift needs, and the private calendar key.

Generation is idempotent: new shifts go in with INSERT … ON CONFLICT (station_id, starts_at)
DO NOTHING, and a schedule change only touches FUTURE shifts nobody holds (`rules.reconcile`).

Sign-up is race-safe on PostgreSQL without read-check-write gaps: the steward's row is locked
first (two sign-ups of one steward can't both pass the overlap check), then the shift's row
(two stewards can't both take its last place); every refusal raises before anything is
written. SQLite serializes writers with BEGIN IMMEDIATE, so the same code is safe there.
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select, update
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.areas.services import get_community
from community.audit import services as audit
from community.auth import policy
from community.errors import Conflict, DomainError, Forbidden, NotFound
from community.rows import insert_ignoring, pk, table_of
from community.stations.models import (
    ScheduleRange,
    ScheduleVersion,
    Station,
    StationException,
    StationWindow,
)
from community.volunteers.models import Shift, ShiftAssignment, Steward
from community.volunteers.shifts import queries, rules
from community.volunteers.shifts.rules import ACTIVE, CUTOFF_HOURS, SIGNUP_CUTOFF
from community.volunteers.shifts.schemas import AssignIn, GenerateIn, NeededIn


class NotSteward(DomainError):
    """Only an approved steward of the shift's community may sign up for it."""

    code, status, message = "not_steward", 403, _l(
        "You are not an approved steward of this community.")


class StewardNotApproved(DomainError):
    """A manager may only assign approved stewards of the shift's community."""

    code, status, message = "steward_not_approved", 422, _l(
        "This person is not an approved steward of the shift's community.")


class ShiftCancelled(DomainError):
    code, status, message = "shift_cancelled", 409, _l(
        "This shift is cancelled (the station's schedule changed).")


class ShiftOver(DomainError):
    code, status, message = "shift_over", 409, _l("This shift is already over.")


class SignupClosed(DomainError):
    code, status = "signup_closed", 409
    message = _l("Sign-up and cancelling close %(hours)s hours before the shift starts. "
                 "Ask the community manager.", hours=CUTOFF_HOURS)


class ShiftFull(DomainError):
    code, status, message = "shift_full", 409, _l(
        "This shift already has all the stewards it needs.")


class AlreadySignedUp(Conflict):
    code, message = "already_signed_up", _l("This steward is already on this shift.")


class OverlappingShift(DomainError):
    code, status, message = "shift_overlap", 409, _l(
        "This shift overlaps another shift the steward holds.")


class NotSignedUp(DomainError):
    code, status, message = "not_signed_up", 409, _l("The steward is not on this shift.")


class AlreadyCheckedIn(DomainError):
    code, status, message = "already_checked_in", 409, _l(
        "The steward has already checked in for this shift; it can't be taken away now.")


class NeededBelowSignups(DomainError):
    code, status, message = "needed_below_signups", 422, _l(
        "More stewards are already on this shift than that. Unassign some first.")


# --- Loading and locking ------------------------------------------------------------------

def _lock_shift(session: Session, shift_id: int) -> Shift:
    """The shift row, locked until the transaction ends (re-read: another may have changed it)."""
    shift: Shift | None = session.execute(
        select(Shift).where(col(Shift.id) == shift_id).with_for_update()
        .execution_options(populate_existing=True)).scalar_one_or_none()
    if shift is None:
        raise NotFound()
    return shift


def _lock_steward(session: Session, stmt: Select[Steward]) -> Steward | None:
    steward: Steward | None = session.execute(stmt.with_for_update().execution_options(
        populate_existing=True)).scalar_one_or_none()
    return steward


def _own_steward(session: Session, account_id: int | None, community_id: int) -> Steward:
    """The acting account's approved steward row in a community, locked."""
    steward = _lock_steward(session, select(Steward).where(
        col(Steward.community_id) == community_id, col(Steward.account_id) == account_id))
    if account_id is None or steward is None or steward.status != "approved":
        raise NotSteward()
    return steward


def active_count(session: Session, shift_id: int) -> int:
    """Stewards holding a place on the shift (everything but cancelled assignments)."""
    count: int = session.execute(select(func.count()).select_from(ShiftAssignment).where(
        col(ShiftAssignment.shift_id) == shift_id,
        col(ShiftAssignment.status).in_(ACTIVE))).scalar_one()
    return count


def _overlapping(session: Session, steward_id: int, shift: Shift) -> Shift | None:
    """Another open shift the steward holds that shares time with `shift` (touching is fine)."""
    return session.execute(
        select(Shift).join(ShiftAssignment, col(ShiftAssignment.shift_id) == Shift.id)
        .where(col(ShiftAssignment.steward_id) == steward_id,
               col(ShiftAssignment.status).in_(ACTIVE),
               col(Shift.id) != shift.id, col(Shift.status) == "open",
               col(Shift.starts_at) < shift.ends_at, col(Shift.ends_at) > shift.starts_at)
        .limit(1)).scalar_one_or_none()


def _place(session: Session, shift: Shift, steward: Steward, now: datetime,
           assigned_by: int | None) -> ShiftAssignment:
    """Put a steward on a locked shift after the place and overlap checks (flushes)."""
    row = session.execute(select(ShiftAssignment).where(
        col(ShiftAssignment.shift_id) == shift.id,
        col(ShiftAssignment.steward_id) == steward.id)
        .execution_options(populate_existing=True)).scalar_one_or_none()
    if row is not None and row.status != "cancelled":
        raise AlreadySignedUp()
    if active_count(session, pk(shift)) >= shift.needed:
        raise ShiftFull()
    if _overlapping(session, pk(steward), shift) is not None:
        raise OverlappingShift()
    if row is None:  # UNIQUE (shift, steward): a second sign-up after a cancel reuses the row
        row = ShiftAssignment(shift_id=pk(shift), steward_id=pk(steward), created_at=now)
    row.status = "signed_up"
    row.cancelled_at = None
    row.assigned_by = assigned_by
    session.add(row)
    session.flush()
    return row


def _check_bookable(shift: Shift, now: datetime, *, cutoff: bool) -> None:
    if shift.status != "open":
        raise ShiftCancelled()
    if now >= shift.ends_at:
        raise ShiftOver()
    if cutoff and now >= shift.starts_at - SIGNUP_CUTOFF:
        raise SignupClosed()


# --- Stewards sign up and cancel ----------------------------------------------------------

def sign_up(session: Session, *, actor: policy.Actor, shift_id: int,
            now: datetime | None = None) -> ShiftAssignment:
    """The acting steward takes a place on a shift of their community (until the cut-off)."""
    now = now or clock.now()
    shift = session.get(Shift, shift_id)
    if shift is None:
        raise NotFound()
    steward = _own_steward(session, actor.account_id, shift.community_id)
    shift = _lock_shift(session, shift_id)
    _check_bookable(shift, now, cutoff=True)
    return _place(session, shift, steward, now, assigned_by=None)


def cancel_signup(session: Session, *, actor: policy.Actor, shift_id: int,
                  now: datetime | None = None) -> ShiftAssignment:
    """The acting steward gives up their place on a shift (until the cut-off)."""
    now = now or clock.now()
    shift = session.get(Shift, shift_id)
    if shift is None:
        raise NotFound()
    steward = _own_steward(session, actor.account_id, shift.community_id)
    shift = _lock_shift(session, shift_id)
    row: ShiftAssignment | None = session.execute(select(ShiftAssignment).where(
        col(ShiftAssignment.shift_id) == shift.id,
        col(ShiftAssignment.steward_id) == steward.id)
        .execution_options(populate_existing=True)).scalar_one_or_none()
    if row is None or row.status != "signed_up":
        raise NotSignedUp()
    if row.checked_in_at is not None:
        raise AlreadyCheckedIn()
    if now >= shift.starts_at - SIGNUP_CUTOFF:
        raise SignupClosed()
    row.status = "cancelled"
    row.cancelled_at = now
    session.add(row)
    session.flush()
    return row


# --- Managers assign, unassign and set the needed count ----------------------------------

def _managed_shift(session: Session, actor: policy.Actor, shift_id: int) -> tuple[Shift, Area]:
    shift = session.get(Shift, shift_id)
    if shift is None:
        raise NotFound()
    area = get_community(session, shift.community_id)
    policy.require(actor, "steward:manage", area)
    return shift, area


def assign(session: Session, *, actor: policy.Actor, shift_id: int, data: AssignIn,
           now: datetime | None = None, ip: str | None = None) -> ShiftAssignment:
    """A manager puts an approved steward on a shift (cut-off aside, the same checks apply)."""
    now = now or clock.now()
    shift, area = _managed_shift(session, actor, shift_id)
    steward = _lock_steward(session, select(Steward).where(col(Steward.id) == data.steward_id))
    if steward is None or steward.community_id != area.id or steward.status != "approved":
        raise StewardNotApproved(field="steward_id")
    shift = _lock_shift(session, shift_id)
    _check_bookable(shift, now, cutoff=False)
    row = _place(session, shift, steward, now, assigned_by=actor.account_id)
    audit.record(session, actor_id=actor.account_id, action="shift.assigned", area=area,
                 target_type="shift", target_id=shift.id, ip=ip, steward_id=steward.id)
    return row


def unassign(session: Session, *, actor: policy.Actor, assignment_id: int,
             now: datetime | None = None, ip: str | None = None) -> ShiftAssignment:
    """A manager takes a steward off a shift that is not over (not once checked in)."""
    now = now or clock.now()
    row = session.get(ShiftAssignment, assignment_id)
    if row is None:
        raise NotFound()
    shift, area = _managed_shift(session, actor, row.shift_id)
    shift = _lock_shift(session, pk(shift))
    session.refresh(row)
    if row.status != "signed_up":
        raise NotSignedUp()
    if row.checked_in_at is not None:
        raise AlreadyCheckedIn()
    if now >= shift.ends_at:
        raise ShiftOver()
    row.status = "cancelled"
    row.cancelled_at = now
    session.add(row)
    session.flush()
    audit.record(session, actor_id=actor.account_id, action="shift.unassigned", area=area,
                 target_type="shift", target_id=shift.id, ip=ip, steward_id=row.steward_id)
    return row


def set_needed(session: Session, *, actor: policy.Actor, shift_id: int, data: NeededIn,
               now: datetime | None = None, ip: str | None = None) -> Shift:
    """A manager changes how many stewards a shift needs (1–20; not below those on it)."""
    now = now or clock.now()
    needed = data.needed
    shift, area = _managed_shift(session, actor, shift_id)
    shift = _lock_shift(session, shift_id)
    if now >= shift.ends_at:
        raise ShiftOver()
    if active_count(session, shift_id) > needed:
        raise NeededBelowSignups(field="needed")
    if shift.needed != needed:
        old, shift.needed, shift.updated_at = shift.needed, needed, now
        session.add(shift)
        session.flush()
        audit.record(session, actor_id=actor.account_id, action="shift.needed", area=area,
                     target_type="shift", target_id=shift.id, ip=ip, old=old, new=needed)
    return shift


# --- Generation ---------------------------------------------------------------------------

@dataclass(frozen=True)
class GenerateReport:
    """What a generation run did (summed over stations, or communities for `generate_all`)."""

    created: int = 0
    updated: int = 0
    cancelled: int = 0
    kept: int = 0
    held: int = 0

    def __add__(self, other: GenerateReport) -> GenerateReport:
        """Two reports together."""
        return GenerateReport(self.created + other.created, self.updated + other.updated,
                              self.cancelled + other.cancelled, self.kept + other.kept,
                              self.held + other.held)


def _schedules(session: Session, stations: Sequence[Station], first: date, last: date
               ) -> tuple[dict[int, list[rules.WindowSpec]], dict[int, list[rules.ExceptionSpec]]]:
    ids = [s.id for s in stations]
    weekly: dict[int, list[rules.WindowSpec]] = {}
    for w in session.execute(select(StationWindow).where(
            col(StationWindow.station_id).in_(ids))).scalars():
        weekly.setdefault(w.station_id, []).append(
            rules.WindowSpec(w.id, w.weekday, w.start_time, w.end_time))
    exceptions: dict[int, list[rules.ExceptionSpec]] = {}
    for e in session.execute(select(StationException).where(
            col(StationException.station_id).in_(ids),
            col(StationException.day).between(first, last))).scalars():
        exceptions.setdefault(e.station_id, []).append(
            rules.ExceptionSpec(e.day, e.start_time, e.end_time))
    return weekly, exceptions


Segment = tuple[date, date, list[rules.WindowSpec]]


def _segments(session: Session, stations: Sequence[Station], first: date, last: date,
              weekly: dict[int, list[rules.WindowSpec]]) -> dict[int, list[Segment]]:
    """Per station, the days first..last split by the schedule version in force, each with
    its weekly windows (DOMAIN.md: schedules keep their history; a version planned from a
    later day shapes the shifts from that day only).

    `StationWindow` holds the newest version: a range of an earlier version keeps the id of
    the same newest window (same weekday and times), else it has none (like special hours).
    A station without versions uses its windows every day.
    """
    ids = [pk(s) for s in stations]
    versions: dict[int, dict[int, tuple[date, list[tuple[int, time, time]]]]] = {}
    for sid, vid, day, weekday, start, end in session.execute(
            select(col(ScheduleVersion.station_id), col(ScheduleVersion.id),
                   col(ScheduleVersion.effective_from), col(ScheduleRange.weekday),
                   col(ScheduleRange.start_time), col(ScheduleRange.end_time))
            .outerjoin(ScheduleRange, col(ScheduleRange.version_id) == ScheduleVersion.id)
            .where(col(ScheduleVersion.station_id).in_(ids),
                   col(ScheduleVersion.effective_from) <= last)):
        _day, ranges = versions.setdefault(sid, {}).setdefault(vid, (day, []))
        if weekday is not None:
            ranges.append((weekday, start, end))
    out: dict[int, list[Segment]] = {}
    for sid in ids:
        newest = weekly.get(sid, [])
        if sid not in versions:
            out[sid] = [(first, last, newest)]
            continue
        known = {(w.weekday, w.start, w.end): w.id for w in newest}
        history = sorted(versions[sid].values(), key=lambda v: v[0])
        segments: list[Segment] = []
        for n, (day, ranges) in enumerate(history):
            until = history[n + 1][0] - timedelta(days=1) if n + 1 < len(history) else last
            a, b = max(day, first), min(until, last)
            if a <= b:
                segments.append((a, b, [rules.WindowSpec(known.get((d, s, e)), d, s, e)
                                        for d, s, e in ranges]))
        out[sid] = segments
    return out


def _existing(session: Session, station_ids: Sequence[int], first: date, last: date,
              now: datetime) -> dict[int, list[rules.ExistingShift]]:
    """Future shifts of the stations on the dates, with whether anyone holds each one."""
    held = select(func.count()).select_from(ShiftAssignment).where(
        col(ShiftAssignment.shift_id) == Shift.id,
        col(ShiftAssignment.status).in_(ACTIVE)).scalar_subquery()
    out: dict[int, list[rules.ExistingShift]] = {}
    for s, n in session.execute(select(Shift, held).where(
            col(Shift.station_id).in_(station_ids), col(Shift.local_date).between(first, last),
            col(Shift.starts_at) > now)).all():
        out.setdefault(s.station_id, []).append(rules.ExistingShift(
            s.id, s.window_id, s.local_date, s.starts_at, s.ends_at, s.status, n > 0))
    return out


def _insert_ignore(session: Session, rows: list[dict[str, Any]]) -> int:
    """INSERT … ON CONFLICT (station_id, starts_at) DO NOTHING; how many rows went in."""
    if not rows:
        return 0
    stmt = insert_ignoring(session, table_of(Shift), on=["station_id", "starts_at"]).returning(
        table_of(Shift).c.id)
    return len(session.execute(stmt, rows).all())


def _still_free(session: Session, shift_ids: Sequence[int]) -> set[int]:
    """Of these shifts, the ones nobody holds, after locking them (a sign-up may be racing)."""
    if not shift_ids:
        return set()
    session.execute(select(col(Shift.id)).where(col(Shift.id).in_(shift_ids))
                    .order_by(col(Shift.id)).with_for_update()).all()
    taken = set(session.execute(select(col(ShiftAssignment.shift_id)).where(
        col(ShiftAssignment.shift_id).in_(shift_ids),
        col(ShiftAssignment.status).in_(ACTIVE))).scalars())
    return set(shift_ids) - taken


def _apply(session: Session, station: Station, plan: rules.Plan, now: datetime) -> GenerateReport:
    free = _still_free(session, sorted([i for i, _ in plan.update] + plan.cancel))
    updated = cancelled = held = 0
    for shift_id, spec in plan.update:
        if shift_id not in free:
            held += 1
            continue
        session.execute(update(Shift).where(col(Shift.id) == shift_id).values(
            window_id=spec.window_id, local_date=spec.local_date, starts_at=spec.starts_at,
            ends_at=spec.ends_at, status="open", updated_at=now)
            .execution_options(synchronize_session=False))
        updated += 1
    gone = [i for i in plan.cancel if i in free]
    if gone:
        session.execute(update(Shift).where(col(Shift.id).in_(gone))
                        .values(status="cancelled", updated_at=now)
                        .execution_options(synchronize_session=False))
        cancelled = len(gone)
    held += len(plan.cancel) - len(gone)
    for shift_id, window_id in plan.relink:
        session.execute(update(Shift).where(col(Shift.id) == shift_id)
                        .values(window_id=window_id)
                        .execution_options(synchronize_session=False))
    created = _insert_ignore(session, [
        {"community_id": station.community_id, "station_id": station.id,
         "window_id": s.window_id, "local_date": s.local_date, "starts_at": s.starts_at,
         "ends_at": s.ends_at, "needed": s.needed, "status": "open", "created_at": now,
         "updated_at": now} for s in plan.create])
    # A concurrent run may have inserted some of them first: those count as kept.
    return GenerateReport(created, updated, cancelled,
                          plan.kept + len(plan.create) - created, plan.held + held)


def _generate(session: Session, area: Area, *, weeks: int, now: datetime, today: date | None,
              needed: int) -> GenerateReport:
    """Bring one community's future shifts in line with its stations' schedules (flushes)."""
    today = today or clock.local_today(area.timezone, now)
    first, last = rules.local_range(today, weeks)
    stations = list(session.execute(select(Station).where(
        col(Station.community_id) == area.id).order_by(col(Station.id))).scalars())
    if not stations:
        return GenerateReport()
    weekly, exceptions = _schedules(session, stations, first, last)
    segments = _segments(session, stations, first, last, weekly)
    existing = _existing(session, [s.id for s in stations], first, last, now)
    report = GenerateReport()
    for station in stations:
        desired: list[rules.ShiftSpec] = []
        if station.status == "open":  # a suspended station is not staffed
            # Each day from the schedule version in force that day.
            desired = [s for a, b, specs in segments[pk(station)] for s in rules.plan_shifts(
                specs, exceptions.get(station.id, []), a, b, area.timezone, needed)
                if s.starts_at > now]
            desired.sort(key=lambda s: s.starts_at)
        plan = rules.reconcile(existing.get(station.id, []), desired)
        report += _apply(session, station, plan, now)
    session.flush()
    return report


def generate_shifts(session: Session, *, actor: policy.Actor, community_id: int,
                    data: GenerateIn, today: date | None = None, now: datetime | None = None,
                    ip: str | None = None) -> GenerateReport:
    """Generate a community's shifts for `data.weeks` weeks ahead (steward:manage); idempotent."""
    area = get_community(session, community_id)
    policy.require(actor, "steward:manage", area)
    report = _generate(session, area, weeks=data.weeks, now=now or clock.now(), today=today,
                       needed=data.needed)
    audit.record(session, actor_id=actor.account_id, action="shifts.generated", area=area,
                 target_type="area", target_id=area.id, ip=ip, weeks=data.weeks,
                 created=report.created, updated=report.updated,
                 cancelled=report.cancelled, held=report.held)
    return report


def generate_all(session: Session, *, now: datetime | None = None, today: date | None = None,
                 weeks: int = 4) -> GenerateReport:
    """The scheduler's job: every community with stations, `weeks` ahead (flushes, no commit)."""
    now = now or clock.now()
    communities = session.execute(
        select(Area).where(col(Area.level) == "community",
                           col(Area.id).in_(select(col(Station.community_id)).distinct()))
        .order_by(col(Area.id))).scalars()
    report = GenerateReport()
    for area in communities:
        report += _generate(session, area, weeks=weeks, now=now, today=today,
                            needed=rules.DEFAULT_NEEDED)
    return report


# --- The private calendar feed key --------------------------------------------------------

def _new_key() -> str:
    return secrets.token_urlsafe(24)  # 192 bits, 32 characters (the column's size)


def calendar_keys(session: Session, *, account_id: int) -> list[tuple[Steward, Area]]:
    """The account's approved steward rows with a calendar key each (made on first use)."""
    rows = queries.steward_rows(session, account_id=account_id)
    for steward, _area in rows:
        if steward.calendar_key is None:
            steward.calendar_key = _new_key()
            session.add(steward)
    session.flush()
    return rows


def new_calendar_key(session: Session, *, actor: policy.Actor, steward_id: int) -> Steward:
    """Replace the acting steward's calendar key: the old link stops working at once."""
    steward = session.get(Steward, steward_id)
    if steward is None or actor.account_id is None or steward.account_id != actor.account_id:
        raise NotFound()
    if steward.status != "approved":
        raise Forbidden()
    steward.calendar_key = _new_key()
    session.add(steward)
    session.flush()
    return steward
