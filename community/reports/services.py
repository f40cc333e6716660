"""Report use cases: filing (or joining an open one), starting, handling, confirming,
reopening, escalating overdue reports, opening reports from supervision logs, publishing a
city's deadlines. Services flush, never commit (one commit per request).

Every refusal is decided before anything is written: a bad photo, a foreign station or a
second handling leaves no row and no file behind.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.audit import services as audit
from community.auth import policy
from community.auth.models import RoleGrant
from community.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from community.inbox import services as inbox
from community.reports import photos, queries, rules
from community.reports.models import (
    Report,
    ReportDeadlineSet,
    ReportEscalation,
    ReportPlus,
)
from community.reports.schemas import REFUSALS, DeadlinesIn, HandleIn, ReopenIn, ReportIn
from community.rows import pk
from community.stations.models import Station
from community.volunteers.models import Shift, ShiftAssignment, Steward, SupervisionLog


class ReportRefused(DomainError):
    """An action the report's state does not allow; `reason` holds the rules' code."""

    code, status, message = "report_refused", 409, _l("This cannot be done to this report.")


class NotYourReport(Forbidden):
    """Confirming or reopening someone else's report."""

    code, message = "not_your_report", _l(
        "Only the person who made this report can confirm or reopen it.")


class PhotoRequired(InvalidInput):
    code, message = "photo_required", _l("Please take or choose a photo.")


class StationUnknown(InvalidInput):
    code, message = "station_unknown", _l("Choose a station of this community.")


def _refuse(code: str) -> ReportRefused:
    err = ReportRefused(REFUSALS[code], reason=code)
    err.code = code
    return err


# --- Filing -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filed:
    """The report a filing made, or the open one it went to: `how` is "new" (a report was
    made), "plus" (a +1 was added to it), "own" (the person made that open report; nothing
    added) or "again" (they had added +1 to it already). `photo_kept`: whether this filing's
    photo was stored (a repeat keeps it only on a +1 that had none)."""

    report: Report
    joined: bool
    how: str = "new"
    photo_kept: bool = True


def _community(session: Session, community_id: int) -> Area:
    area = session.get(Area, community_id)
    if area is None or area.level != "community":
        raise NotFound()
    return area


def _route(session: Session, community: Area, level: str) -> Area:
    """The area answering for a report at `level`: the community or its street/district."""
    area = community
    for _step in ("street", "district"):
        if area.level == level:
            return area
        parent = session.get(Area, area.parent_id) if area.parent_id else None
        if parent is None:
            return area
        area = parent
    return area


def accounts_with(session: Session, roles: tuple[str, ...], area_id: int) -> list[int]:
    """The accounts holding one of `roles` exactly at `area_id` (whom a level's news goes to)."""
    return sorted(set(session.execute(select(col(RoleGrant.account_id)).where(
        col(RoleGrant.area_id) == area_id, col(RoleGrant.role).in_(roles))).scalars()))


def _tell_handlers(session: Session, report: Report, community: Area, place: str) -> None:
    """The assignee (the station's chief), else the people of the report's level."""
    tz = community.timezone
    params = {"kind": report.kind, "place": place,
              "due": clock.local(report.level_due_at, tz).strftime("%m-%d %H:%M")}
    link = f"/reports/{pk(report)}"
    if report.assignee_id is not None:
        inbox.notify(session, account_id=report.assignee_id, kind="report_assigned",
                     params=params, link=link,
                     dedupe_key=f"report_assigned:{pk(report)}:{report.assignee_id}")
        return
    roles = ("manager",) if report.level == "community" else ("area_admin",)
    inbox.notify_many(session, account_ids=accounts_with(session, roles, report.route_area_id),
                      kind="report_assigned", params=params, link=link,
                      dedupe_key=f"report_assigned:{pk(report)}")


def _source(actor: policy.Actor, community: Area) -> str:
    on_duty = {"steward", "station_chief", "manager"}
    return "steward" if any(g.role in on_duty and policy.covers(g.area_path, community.path)
                            for g in actor.grants) else "resident"


def file_report(session: Session, *, actor: policy.Actor, data: ReportIn,
                photo: bytes | None, photo_dir: Path, now: datetime | None = None,
                ip: str | None = None) -> Filed:
    """A resident or steward reports a problem in their community, with a photo; a report of
    the same kind at the same station while one is open joins it (+1)."""
    now = now or clock.now()
    community = _community(session, data.community_id)
    policy.require(actor, "report:file", community)
    station: Station | None = None
    if data.station_id is not None:
        station = session.get(Station, data.station_id)
        if station is None or station.community_id != pk(community):
            raise StationUnknown(field="station_id")
    if not photo:
        raise PhotoRequired(field="photo")
    content, ext = photos.clean_photo(photo)  # refuses a bad or oversized photo first
    where = photos.location_of(photo) if data.keep_location else None
    taken = Taken(content, ext, where, photo_dir)
    if station is not None:
        joined = _join_open(session, actor, station, data, now, ip, taken)
        if joined is not None:
            return joined
    version, hours_map = queries.deadlines_in_force(session, community, now)
    hours = rules.hours_for(data.kind, hours_map)
    level = rules.first_level(data.kind)
    route = _route(session, community, level)
    assignee = station.chief_id if station is not None and level == "community" else None
    due = rules.deadline(now, hours)
    report = Report(
        community_id=pk(community), station_id=station.id if station else None,
        place=data.place, latitude=where[0] if where else None,
        longitude=where[1] if where else None, kind=data.kind, note=data.note,
        reporter_id=actor.account_id, source=_source(actor, community),
        status="assigned" if assignee else "new", level=level, route_area_id=pk(route),
        assignee_id=assignee, deadline_version=version, hours=hours, created_at=now,
        due_at=due, level_due_at=due)
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:
        # Another first report of this station and kind landed at the same moment: join it.
        assert station is not None  # noqa: S101 - only station reports are unique
        joined = _join_open(session, actor, station, data, now, ip, taken)
        if joined is None:
            raise
        return joined
    relative = photos.relative_path(pk(community), pk(report), "before", content, ext)
    report.photo = relative
    session.add(report)
    session.flush()
    photos.store(photo_dir, relative, content)
    _tell_handlers(session, report, community, station.name if station else data.place)
    audit.record(session, actor_id=actor.account_id, action="report.filed", area=community,
                 target_type="report", target_id=report.id, ip=ip, kind=data.kind,
                 station_id=report.station_id, photo=relative)
    return Filed(report, False)


@dataclass(frozen=True)
class Taken:
    """A photo `photos.clean_photo` accepted, with the position its person agreed to share,
    and the folder it goes to."""

    content: bytes
    ext: str
    where: tuple[float, float] | None
    photo_dir: Path


def _keep_plus_photo(session: Session, plus: ReportPlus, community_id: int,
                     taken: Taken) -> str:
    """Store a +1's photo like the report's own (same cleaning, folder and consent rule)."""
    relative = photos.relative_path(community_id, plus.report_id, f"plus{pk(plus)}",
                                    taken.content, taken.ext)
    plus.photo = relative
    plus.latitude, plus.longitude = taken.where if taken.where else (None, None)
    session.add(plus)
    session.flush()
    photos.store(taken.photo_dir, relative, taken.content)
    return relative


def _join_open(session: Session, actor: policy.Actor, station: Station, data: ReportIn,
               now: datetime, ip: str | None = None, taken: Taken | None = None
               ) -> Filed | None:
    """Join the open report of this kind at this station (+1 once per person, with the photo
    they took, recorded in the audit log like a new report); None: none. The person who made
    it, or who joined it before, adds nothing (the filing says so): a +1 made before without
    a photo (from a supervision log) has this one kept, any other repeat's photo is not."""
    open_: Report | None = session.execute(
        select(Report).where(col(Report.station_id) == station.id,
                             col(Report.kind) == data.kind,
                             col(Report.status).in_(rules.OPEN))
        .order_by(col(Report.id)).limit(1).with_for_update()).scalar_one_or_none()
    if open_ is None:
        return None
    if actor.account_id is None or open_.reporter_id == actor.account_id:
        return Filed(open_, True, "own", photo_kept=False)
    area = session.get(Area, open_.community_id)
    plus = ReportPlus(report_id=pk(open_), account_id=actor.account_id, note=data.note, at=now)
    try:
        with session.begin_nested():
            session.add(plus)
            session.flush()
    except IntegrityError:
        # This person had already joined it: a photo fills the +1 only when it had none.
        before: ReportPlus | None = session.execute(select(ReportPlus).where(
            col(ReportPlus.report_id) == open_.id,
            col(ReportPlus.account_id) == actor.account_id)).scalar_one_or_none()
        if taken is not None and before is not None and not before.photo:
            audit.record(session, actor_id=actor.account_id, action="report.joined",
                         area=area, target_type="report", target_id=open_.id, ip=ip,
                         kind=open_.kind, station_id=open_.station_id,
                         photo=_keep_plus_photo(session, before, open_.community_id, taken))
            return Filed(open_, True, "again", photo_kept=True)
        return Filed(open_, True, "again", photo_kept=False)
    relative = _keep_plus_photo(session, plus, open_.community_id, taken) if taken else None
    session.execute(update(Report).where(col(Report.id) == open_.id)
                    .values(plus_count=Report.plus_count + 1))
    session.flush()
    session.refresh(open_)
    audit.record(session, actor_id=actor.account_id, action="report.joined",
                 area=area, target_type="report", target_id=open_.id, ip=ip, kind=open_.kind,
                 station_id=open_.station_id, **({"photo": relative} if relative else {}))
    return Filed(open_, True, "plus", photo_kept=relative is not None)


# --- Handling ------------------------------------------------------------------------------

def _lock(session: Session, report_id: int) -> Report:
    report: Report | None = session.execute(
        select(Report).where(col(Report.id) == report_id).with_for_update()
    ).scalar_one_or_none()
    if report is None:
        raise NotFound()
    return report


def may_handle(session: Session, actor: policy.Actor, report: Report) -> bool:
    """Whether the actor answers for the report: the community's chiefs and managers (not for
    a kind that goes to the street), and the admins of the area it reached."""
    route = session.get(Area, report.route_area_id)
    if route is not None and policy.allowed(actor, "report:area", route):
        return True
    if report.kind in rules.STREET_KINDS:
        return False
    community = session.get(Area, report.community_id)
    return community is not None and policy.allowed(actor, "report:handle", community)


def may_read(session: Session, actor: policy.Actor, report: Report) -> bool:
    """The reporter, someone who joined it, and whoever may read or handle it."""
    if actor.account_id is not None and report.reporter_id == actor.account_id:
        return True
    community = session.get(Area, report.community_id)
    if community is not None and policy.allowed(actor, "report:read", community):
        return True
    if may_handle(session, actor, report):
        return True
    return actor.account_id is not None and session.execute(
        select(col(ReportPlus.id)).where(col(ReportPlus.report_id) == report.id,
                                         col(ReportPlus.account_id) == actor.account_id)
    ).first() is not None


def may_see_all_photos(session: Session, actor: policy.Actor, report: Report) -> bool:
    """Whether the actor sees every +1's photo (the community's chiefs and managers, and
    whoever handles the report); others see only their own."""
    community = session.get(Area, report.community_id)
    if community is not None and policy.allowed(actor, "report:read", community):
        return True
    return may_handle(session, actor, report)


def may_see_given(session: Session, actor: policy.Actor, report: Report) -> bool:
    """Whether the actor sees what the reporter gave (their note, photo and its position,
    shared with the handlers only): the reporter, and whoever sees every +1's photo (the
    community's chiefs and managers, the level handling it). A resident who joined does not."""
    if actor.account_id is not None and report.reporter_id == actor.account_id:
        return True
    return may_see_all_photos(session, actor, report)


def report_photo(session: Session, *, actor: policy.Actor, report_id: int, which: str) -> str:
    """The stored path of a report's photo: the reporter's (before) for whoever sees what the
    reporter gave, the handler's (after) for whoever may read the report; NotFound else."""
    report = get_report(session, actor=actor, report_id=report_id)
    path = report.photo if which == "before" else report.after_photo
    if not path or (which == "before" and not may_see_given(session, actor, report)):
        raise NotFound()
    return path


def plus_photo(session: Session, *, actor: policy.Actor, report_id: int,
               plus_id: int) -> str:
    """The stored path of a +1's photo, for whoever may see it (NotFound otherwise)."""
    report = get_report(session, actor=actor, report_id=report_id)
    plus = session.get(ReportPlus, plus_id)
    if plus is None or plus.report_id != report.id or not plus.photo:
        raise NotFound()
    if plus.account_id != actor.account_id and not may_see_all_photos(session, actor, report):
        raise NotFound()
    return plus.photo


def get_report(session: Session, *, actor: policy.Actor, report_id: int) -> Report:
    """A report the actor may see (NotFound otherwise: another community's does not exist)."""
    report = session.get(Report, report_id)
    if report is None or not may_read(session, actor, report):
        raise NotFound()
    return report


def _handler(session: Session, actor: policy.Actor, report_id: int) -> Report:
    report = _lock(session, report_id)
    if not may_read(session, actor, report):
        raise NotFound()
    if not may_handle(session, actor, report):
        raise Forbidden(action="report:handle")
    return report


def start(session: Session, *, actor: policy.Actor, report_id: int,
          now: datetime | None = None, ip: str | None = None) -> Report:
    """The handler takes the report on (in progress; assigned to them when nobody was)."""
    now = now or clock.now()
    report = _handler(session, actor, report_id)
    code = rules.refusal("start", status=report.status)
    if code:
        raise _refuse(code)
    if report.status != "reopened":  # a reopened report keeps its mark until handled again
        report.status = "in_progress"
    report.started_at = now
    report.assignee_id = report.assignee_id or actor.account_id
    session.add(report)
    session.flush()
    audit.record(session, actor_id=actor.account_id, action="report.started",
                 area=session.get(Area, report.community_id), target_type="report",
                 target_id=report.id, ip=ip)
    return report


def handle(session: Session, *, actor: policy.Actor, report_id: int, data: HandleIn,
           photo: bytes | None, photo_dir: Path, now: datetime | None = None,
           ip: str | None = None) -> Report:
    """The handler records what was done, with an after-photo; the reporter (and whoever
    joined) is asked to confirm. A report handled already is refused."""
    now = now or clock.now()
    report = _handler(session, actor, report_id)
    code = rules.refusal("handle", status=report.status)
    if code:
        raise _refuse(code)
    if not photo:
        raise PhotoRequired(field="photo")
    content, ext = photos.clean_photo(photo)
    relative = photos.relative_path(report.community_id, pk(report), "after", content, ext)
    report.status, report.handled_at, report.handled_by = "handled", now, actor.account_id
    report.handle_note, report.after_photo = data.note, relative
    report.assignee_id = report.assignee_id or actor.account_id
    session.add(report)
    session.flush()
    photos.store(photo_dir, relative, content)
    community = cast(Area, session.get(Area, report.community_id))
    place = queries.place_of(session, report)
    joiners = set(session.execute(select(col(ReportPlus.account_id)).where(
        col(ReportPlus.report_id) == report.id)).scalars())
    people = ({report.reporter_id} if report.reporter_id else set()) | joiners
    inbox.notify_many(session, account_ids=people, kind="report_handled",
                      params={"kind": report.kind, "place": place, "note": data.note},
                      link=f"/reports/{pk(report)}",
                      dedupe_key=f"report_handled:{pk(report)}:{report.reopen_count}")
    audit.record(session, actor_id=actor.account_id, action="report.handled",
                 area=community, target_type="report", target_id=report.id, ip=ip,
                 on_time=report.handled_at <= report.due_at, photo=relative)
    return report


def _reporter(session: Session, actor: policy.Actor, report_id: int) -> Report:
    report = _lock(session, report_id)
    if not may_read(session, actor, report):
        raise NotFound()
    if actor.account_id is None or report.reporter_id != actor.account_id:
        raise NotYourReport()
    return report


def confirm(session: Session, *, actor: policy.Actor, report_id: int,
            now: datetime | None = None, ip: str | None = None) -> Report:
    """The reporter confirms the fix."""
    now = now or clock.now()
    report = _reporter(session, actor, report_id)
    code = rules.refusal("confirm", status=report.status)
    if code:
        raise _refuse(code)
    report.status, report.confirmed_at = "confirmed", now
    session.add(report)
    session.flush()
    audit.record(session, actor_id=actor.account_id, action="report.confirmed",
                 area=session.get(Area, report.community_id), target_type="report",
                 target_id=report.id, ip=ip)
    return report


def reopen(session: Session, *, actor: policy.Actor, report_id: int, data: ReopenIn,
           now: datetime | None = None, ip: str | None = None) -> Report:
    """The reporter says the problem is not fixed (once, with a reason): the handling no
    longer stands, the level's deadline restarts, the handler is told."""
    now = now or clock.now()
    report = _reporter(session, actor, report_id)
    code = rules.refusal("reopen", status=report.status, reopen_count=report.reopen_count,
                         reason=data.reason)
    if code:
        raise _refuse(code)
    handler = report.handled_by
    report.status, report.reopened_at, report.reopen_reason = "reopened", now, data.reason
    report.reopen_count += 1
    report.handled_at = report.handled_by = None
    report.level_due_at = rules.deadline(now, report.hours)
    session.add(report)
    session.flush()
    if handler is not None:
        inbox.notify(session, account_id=handler, kind="report_reopened",
                     params={"kind": report.kind, "place": queries.place_of(session, report),
                             "reason": data.reason},
                     link=f"/reports/{pk(report)}", dedupe_key=f"report_reopened:{pk(report)}")
    audit.record(session, actor_id=actor.account_id, action="report.reopened",
                 area=session.get(Area, report.community_id), target_type="report",
                 target_id=report.id, ip=ip, reason=data.reason)
    return report


# --- Escalation ----------------------------------------------------------------------------

class _NotMoved(Exception):
    """The report changed between the read and the conditional update."""


def escalate_overdue(session: Session, *, now: datetime | None = None) -> int:
    """Move every open report past its level's deadline one level up the area tree and tell
    that level's admins. Once per deadline: the move is a conditional update on the deadline
    it saw, and the escalation row is unique per (report, deadline), so two schedulers (or a
    re-run) escalate nothing twice."""
    now = now or clock.now()
    rows = session.execute(
        select(col(Report.id), col(Report.status), col(Report.level),
               col(Report.level_due_at))
        .where(col(Report.status).in_(rules.OPEN), col(Report.level_due_at) < now,
               col(Report.level) != "district")
        .order_by(col(Report.level_due_at), col(Report.id))).all()
    n = 0
    for report_id, status, level, level_due in rows:
        to_level = rules.escalation(status, level, level_due, now)
        if to_level is None:
            continue
        report = session.get(Report, report_id)
        if report is None:
            continue
        community = cast(Area, session.get(Area, report.community_id))
        to_area = _route(session, community, to_level)
        if to_area.level != to_level:
            continue  # a tree without that level: nothing above to tell
        try:
            with session.begin_nested():
                session.add(ReportEscalation(report_id=report_id, deadline=level_due,
                                             from_level=level, to_level=to_level,
                                             to_area_id=pk(to_area), at=now))
                session.flush()
                moved = session.execute(
                    update(Report).where(col(Report.id) == report_id,
                                         col(Report.level_due_at) == level_due,
                                         col(Report.status).in_(rules.OPEN))
                    .values(level=to_level, route_area_id=pk(to_area), escalated_at=now,
                            level_due_at=rules.deadline(now, report.hours))
                    .execution_options(synchronize_session=False))
                if getattr(moved, "rowcount", 1) != 1:
                    raise _NotMoved  # handled meanwhile: undo the escalation row too
        except (IntegrityError, _NotMoved):
            continue  # this deadline was escalated already (another runner), or handled
        session.expire(report)
        inbox.notify_many(
            session, account_ids=accounts_with(session, ("area_admin",), pk(to_area)),
            kind="report_escalated",
            params={"kind": report.kind, "place": queries.place_of(session, report),
                    "community": community.name,
                    "due": clock.local(report.due_at, community.timezone)
                    .strftime("%m-%d %H:%M")},
            link=f"/reports/{report_id}",
            dedupe_key=f"report_escalated:{report_id}:{level_due.isoformat()}")
        n += 1
    session.flush()
    return n


# --- Supervision logs ----------------------------------------------------------------------

LOG_LOOKBACK = timedelta(days=2)


def reports_from_logs(session: Session, *, now: datetime | None = None,
                      since: datetime | None = None) -> int:
    """Open a report for each incident kind (满溢, 乱倒, 设施损坏) counted in a supervision log
    saved since `since` (default: the last two days), once per log and kind (UNIQUE source
    key), made by the log's steward at the shift's station and dated when the log was first
    saved; where a report of that kind is open at the station, it joins it (+1) instead."""
    now = now or clock.now()
    since = since or now - LOG_LOOKBACK
    rows = session.execute(
        select(SupervisionLog, col(Shift.station_id), col(Shift.community_id),
               col(Steward.account_id))
        .join(ShiftAssignment, col(ShiftAssignment.id) == SupervisionLog.assignment_id)
        .join(Shift, col(Shift.id) == ShiftAssignment.shift_id)
        .join(Steward, col(Steward.id) == ShiftAssignment.steward_id)
        .where(col(SupervisionLog.updated_at) >= since)
        .order_by(col(SupervisionLog.id))).all()
    made = 0
    for log, station_id, community_id, account_id in rows:
        for incident, kind in rules.INCIDENT_KINDS.items():
            if int(log.incidents.get(incident) or 0) <= 0:
                continue
            made += _from_log(session, log, kind, station_id, community_id, account_id, now)
    return made


def _from_log(session: Session, log: SupervisionLog, kind: str, station_id: int,
              community_id: int, account_id: int, now: datetime) -> int:
    key = f"log:{log.id}:{kind}"
    if session.execute(select(col(Report.id)).where(
            col(Report.community_id) == community_id,
            col(Report.source_key) == key)).first() is not None:
        return 0
    station = session.get(Station, station_id)
    community = _community(session, community_id)
    if station is None:
        return 0
    made_at = log.updated_at  # when the steward saved the incident
    data = ReportIn.parse(community_id=community_id, station_id=station_id, kind=kind,
                          note=(log.note or "")[:500])
    actor = policy.Actor(account_id, [])
    joined = _join_open(session, actor, station, data, now)
    version, hours_map = queries.deadlines_in_force(session, community, made_at)
    hours = rules.hours_for(kind, hours_map)
    if joined is not None:
        return 0
    level = rules.first_level(kind)
    due = rules.deadline(made_at, hours)
    report = Report(community_id=community_id, station_id=station_id, kind=kind,
                    note=data.note, reporter_id=account_id, source="log", source_key=key,
                    status="assigned" if station.chief_id else "new", level=level,
                    route_area_id=pk(_route(session, community, level)),
                    assignee_id=station.chief_id, deadline_version=version, hours=hours,
                    created_at=made_at, due_at=due, level_due_at=due)
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:
        return 0  # made by a concurrent run, or a fresh report of the kind appeared
    _tell_handlers(session, report, community, station.name)
    return 1


# --- Deadlines -----------------------------------------------------------------------------

def publish_deadlines(session: Session, *, actor: policy.Actor, city_id: int,
                      data: DeadlinesIn, now: datetime | None = None,
                      ip: str | None = None) -> ReportDeadlineSet:
    """A new version of a city's deadlines, for the reports made from now on (city admin)."""
    now = now or clock.now()
    city = session.get(Area, city_id)
    if city is None or city.level != "city":
        raise NotFound()
    policy.require(actor, "report:deadlines", city)
    latest = session.execute(select(func.max(ReportDeadlineSet.version)).where(
        col(ReportDeadlineSet.city_id) == city_id)).scalar_one()
    row = ReportDeadlineSet(city_id=city_id, version=(latest or 0) + 1,
                            effective_from=clock.local_today(city.timezone, now),
                            hours=data.model_dump(), created_by=actor.account_id,
                            created_at=now)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(field="version") from None
    audit.record(session, actor_id=actor.account_id, action="report.deadlines_published",
                 area=city, target_type="report_deadline_set", target_id=row.id, ip=ip,
                 version=row.version)
    return row
