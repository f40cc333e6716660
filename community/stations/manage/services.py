"""Write use cases of the managers' station pages: stations, weekly windows, date exceptions,
and the audited start of a drop export.

Each loads → authorizes → applies the rules → adds → flushes; the request commits. An edit
forgets the station in the scan path's cache (`stations.services.forget_station`) first.

History (DOMAIN.md "Scheduled windows"): the weekly schedule and the grace minutes are
`ScheduleVersion`s effective from a local date, openings and suspensions are
`StationStatusEvent`s. An edit never takes effect on a past day (the past keeps the schedule
that was in force then), so it normally marks no day dirty: today's rollup is read raw and
built the next night with the history. `_mark_past_days` marks the days before today that
an edit would change, should one ever take effect in the past.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.audit import services as audit
from community.auth import policy
from community.dirty import services as dirty
from community.errors import Conflict, DomainError, InvalidInput, NotFound
from community.rows import pk, table_of
from community.stations import windows
from community.stations.manage import queries
from community.stations.models import (
    STATION_STATUSES,
    Drop,
    ScheduleRange,
    ScheduleVersion,
    Station,
    StationException,
    StationStatusEvent,
    StationWindow,
)
from community.stations.schemas import ExceptionIn, StationIn, WeekIn
from community.stations.services import forget_station

MAX_EXPORT_ROWS = 200_000
PLAN_AHEAD = timedelta(days=366)  # a schedule change is planned at most a year ahead


class WindowsOverlap(InvalidInput):
    """Two ranges of a schedule (or of one exception day) cover the same minutes."""

    code, message = "windows_overlap", _l("Two time ranges overlap.")


class ExceptionConflict(Conflict):
    """A day is either closed or has special hours, not both."""

    code, message = "exception_conflict", _l(
        "This day already has an exception that conflicts with this one.")


class ExportTooLarge(DomainError):
    """Exports are bounded; a bigger one must be narrowed by the filter."""

    code, status = "export_too_large", 422
    message = _l("More than 200,000 drops match. Narrow the filter (for example a shorter "
                 "date range) and export again.")


# --- Stations ------------------------------------------------------------------------------

def _clean_station(session: Session, community: Area, data: StationIn,
                   except_id: int | None = None) -> dict[str, Any]:
    """The station's column values; the chief must be a steward here, the name unused."""
    if data.chief_id is not None and data.chief_id not in {
            a.id for a in queries.chief_candidates(session, pk(community))}:
        raise InvalidInput(field="chief_id")
    clash = select(col(Station.id)).where(col(Station.community_id) == community.id,
                                          col(Station.name) == data.name)
    if except_id is not None:
        clash = clash.where(col(Station.id) != except_id)
    if session.execute(clash).first() is not None:
        raise Conflict(field="name")
    return {"name": data.name, "location": data.location, "latitude": data.latitude,
            "longitude": data.longitude, "categories": ",".join(data.categories),
            "chief_id": data.chief_id, "status": str(data.status),
            "grace_minutes": data.grace_minutes}


def _flush_station(session: Session, station: Station) -> None:
    try:
        with session.begin_nested():  # two managers creating the same name at once
            session.add(station)
            session.flush()
    except IntegrityError:
        raise Conflict(field="name") from None


def create_station(session: Session, *, actor: policy.Actor, community_id: int,
                   data: StationIn, ip: str | None = None) -> Station:
    """Add a station with the default windows (07:00–09:00 and 18:00–20:00 every day)."""
    community = areas_services.get_community(session, community_id)
    policy.require(actor, "station:manage", community)
    values = _clean_station(session, community, data)
    station = Station(community_id=pk(community), **values)
    _flush_station(session, station)
    for weekday in range(7):
        for start, end in windows.DEFAULT_RANGES:
            session.add(StationWindow(station_id=pk(station), weekday=weekday,
                                      start_time=start, end_time=end))
    session.flush()
    start_history(session, station, community.timezone, actor_id=actor.account_id)
    audit.record(session, actor_id=actor.account_id, action="station.created", area=community,
                 target_type="station", target_id=station.id, ip=ip, name=station.name)
    return station


def update_station(session: Session, *, actor: policy.Actor, station_id: int,
                   data: StationIn, ip: str | None = None,
                   now: datetime | None = None) -> Station:
    """Change a station's fields; the audit entry lists what changed (old → new).

    A new grace takes effect from today (the community's local date) as a new schedule
    version with the newest weekly ranges; a new status is recorded as a status event now.
    """
    forget_station(station_id)  # the scan path must not use the old settings
    station, community = queries.station_for(session, actor=actor, station_id=station_id)
    values = _clean_station(session, community, data, except_id=station.id)
    changed = {k: f"{getattr(station, k)} → {v}" for k, v in values.items()
               if getattr(station, k) != v}
    new_grace = values.pop("grace_minutes")
    new_status = values.pop("status")
    for key, value in values.items():
        setattr(station, key, value)
    _flush_station(session, station)
    if new_grace != station.grace_minutes:
        today = clock.local_today(community.timezone, now)
        latest = _newest_version(session, pk(station))
        if latest is not None and latest.effective_from > today:
            # A later version is planned: the new grace applies from today until then, and
            # the planned version keeps its own grace.
            weekly = _version_weekly(session, pk(_version_on(session, pk(station), today)
                                                 or latest))
        else:
            weekly = _newest_weekly(session, pk(station))
        save_version(session, station, community, effective_from=today, weekly=weekly,
                     grace=new_grace, actor_id=actor.account_id, now=now)
    if new_status != station.status:
        _status_event(session, station, community, new_status, actor.account_id, now)
    if changed:
        audit.record(session, actor_id=actor.account_id, action="station.updated",
                     area=community, target_type="station", target_id=station.id, ip=ip,
                     **changed)
    return station


def set_station_status(session: Session, *, actor: policy.Actor, station_id: int, status: str,
                       ip: str | None = None, now: datetime | None = None) -> Station:
    """Suspend a station (scans are refused) or reopen it, from now on (a status event)."""
    forget_station(station_id)  # the scan path must not use the old settings
    station, community = queries.station_for(session, actor=actor, station_id=station_id)
    if status not in STATION_STATUSES:
        raise InvalidInput(field="status")
    if station.status != status:
        _status_event(session, station, community, status, actor.account_id, now)
        audit.record(session, actor_id=actor.account_id, action="station.status",
                     area=community, target_type="station", target_id=station.id, ip=ip,
                     status=status)
    return station


# --- Weekly windows and date exceptions ----------------------------------------------------

def set_weekly_windows(session: Session, *, actor: policy.Actor, station_id: int,
                       week: WeekIn, ip: str | None = None,
                       now: datetime | None = None) -> Station:
    """Set a station's weekly schedule from `week.effective_from` on (default: today, the
    community's local date); overlapping ranges are refused (field weekday_N), a past day
    too (field effective_from: past days keep the schedule that was in force then).

    The new version keeps the grace of the version in force on that day.
    """
    forget_station(station_id)  # the scan path must not use the old settings
    station, community = queries.station_for(session, actor=actor, station_id=station_id)
    weekly = {day: ranges for day, ranges in week.by_day().items() if ranges}
    clash = windows.find_overlap(weekly)
    if clash is not None:
        day, r1, r2 = clash
        raise WindowsOverlap(field=f"weekday_{day}",
                             ranges=f"{windows.fmt_range(r1)} / {windows.fmt_range(r2)}")
    effective = week.effective_from or clock.local_today(community.timezone, now)
    in_force = _version_on(session, pk(station), effective)
    grace = in_force.grace_minutes if in_force is not None else station.grace_minutes
    save_version(session, station, community, effective_from=effective, weekly=weekly,
                 grace=grace, actor_id=actor.account_id, now=now)
    audit.record(session, actor_id=actor.account_id, action="station.windows", area=community,
                 target_type="station", target_id=station.id, ip=ip,
                 effective_from=effective.isoformat(),
                 schedule="; ".join(f"{d}:" + ",".join(windows.fmt_range(r)
                                                       for r in sorted(weekly[d]))
                                    for d in sorted(weekly)))
    return station


# --- Schedule history ----------------------------------------------------------------------

Weekly = dict[int, list[tuple[time, time]]]


def start_history(session: Session, station: Station, tz: str, *,
                  actor_id: int | None = None) -> None:
    """A new station's first schedule version (its `StationWindow` rows and grace) effective
    from its creation day, and its opening at the local start of that day (DOMAIN.md: a
    station exists from its creation day). A station created suspended is suspended from
    its creation.

    Also the first history of a station that has none yet (written before the history, or
    by hand): each part only when missing, before an edit changes the current values.
    """
    first_day = station.created_at.astimezone(ZoneInfo(tz)).date()
    if _newest_version(session, pk(station)) is None:
        version = ScheduleVersion(station_id=pk(station), effective_from=first_day,
                                  grace_minutes=station.grace_minutes,
                                  created_at=station.created_at, created_by=actor_id)
        session.add(version)
        session.flush()
        session.add_all(ScheduleRange(version_id=pk(version), weekday=day, start_time=a,
                                      end_time=b)
                        for day, ranges in sorted(_newest_weekly(session, pk(station)).items())
                        for a, b in sorted(ranges))
    has_events = session.execute(select(col(StationStatusEvent.id)).where(
        col(StationStatusEvent.station_id) == station.id).limit(1)).first() is not None
    if not has_events:
        opened = datetime.combine(first_day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)
        session.add(StationStatusEvent(station_id=pk(station), effective_at=opened,
                                       status=station.status, created_by=actor_id))
    session.flush()


def save_version(session: Session, station: Station, community: Area, *,
                 effective_from: date, weekly: Weekly, grace: int,
                 actor_id: int | None, now: datetime | None = None) -> ScheduleVersion:
    """The schedule version effective from `effective_from`: a new one, or that day's version
    replaced (two edits effective the same day). Past days are refused (field
    effective_from): they keep the schedule that was in force then.

    When it is the newest version, `StationWindow` and `Station.grace_minutes` take its
    values (the pages show the newest schedule; the scan path and the rollups read the
    version in force on each day).
    """
    forget_station(pk(station))
    today = clock.local_today(community.timezone, now)
    if effective_from < today:
        raise InvalidInput(_l("Past days cannot be changed."), field="effective_from")
    if effective_from > today + PLAN_AHEAD:  # a typo like 9999-12-31, not a plan
        raise InvalidInput(field="effective_from")
    start_history(session, station, community.timezone, actor_id=actor_id)
    version = session.execute(select(ScheduleVersion).where(
        col(ScheduleVersion.station_id) == station.id,
        col(ScheduleVersion.effective_from) == effective_from)).scalar_one_or_none()
    if version is None:
        version = ScheduleVersion(station_id=pk(station), effective_from=effective_from,
                                  grace_minutes=grace, created_at=now or clock.now(),
                                  created_by=actor_id)
    else:
        version.grace_minutes = grace
        version.created_at = now or clock.now()
        version.created_by = actor_id
        session.execute(table_of(ScheduleRange).delete().where(
            table_of(ScheduleRange).c.version_id == version.id))
    session.add(version)
    session.flush()
    session.add_all(ScheduleRange(version_id=pk(version), weekday=day, start_time=a, end_time=b)
                    for day in sorted(weekly) for a, b in sorted(weekly[day]))
    newest = _newest_version(session, pk(station))
    if newest is None or newest.effective_from <= effective_from:
        session.execute(table_of(StationWindow).delete().where(
            table_of(StationWindow).c.station_id == station.id))
        session.add_all(StationWindow(station_id=pk(station), weekday=day, start_time=a,
                                      end_time=b)
                        for day in sorted(weekly) for a, b in sorted(weekly[day]))
        station.grace_minutes = grace
        session.add(station)
    session.flush()
    _mark_past_days(session, pk(community), effective_from, today, now)
    return version


def _status_event(session: Session, station: Station, community: Area, status: str,
                  actor_id: int | None, now: datetime | None) -> None:
    """Record a suspension or a reopening from `now` on; `Station.status` is the current one."""
    moment = now or clock.now()
    start_history(session, station, community.timezone, actor_id=actor_id)
    station.status = status
    session.add(station)
    session.add(StationStatusEvent(station_id=pk(station), effective_at=moment, status=status,
                                   created_by=actor_id))
    session.flush()
    _mark_past_days(session, pk(community), clock.local(moment, community.timezone).date(),
                    clock.local_today(community.timezone, now), now)


def _mark_past_days(session: Session, community_id: int, first: date, today: date,
                    now: datetime | None) -> None:
    """Mark dirty ("schedule") the days from `first` to yesterday. Edits take effect today or
    later, so this is normally nothing: today is read raw and rolled up the next night."""
    days = {}
    day = first
    while day < today:
        days[(community_id, day)] = 1
        day += timedelta(days=1)
    if days:
        dirty.mark(session, "schedule", days, now=now)


def _newest_version(session: Session, station_id: int) -> ScheduleVersion | None:
    return session.execute(select(ScheduleVersion).where(
        col(ScheduleVersion.station_id) == station_id)
        .order_by(col(ScheduleVersion.effective_from).desc()).limit(1)).scalar_one_or_none()


def _version_on(session: Session, station_id: int, day: date) -> ScheduleVersion | None:
    """The version in force on `day` (None before the first one)."""
    return session.execute(select(ScheduleVersion).where(
        col(ScheduleVersion.station_id) == station_id,
        col(ScheduleVersion.effective_from) <= day)
        .order_by(col(ScheduleVersion.effective_from).desc()).limit(1)).scalar_one_or_none()


def _version_weekly(session: Session, version_id: int) -> Weekly:
    out: Weekly = {}
    for r in session.execute(select(ScheduleRange).where(
            col(ScheduleRange.version_id) == version_id)).scalars():
        out.setdefault(r.weekday, []).append((r.start_time, r.end_time))
    return out


def _newest_weekly(session: Session, station_id: int) -> Weekly:
    """The newest weekly ranges, as kept in `StationWindow`."""
    out: Weekly = {}
    for w in session.execute(select(StationWindow).where(
            col(StationWindow.station_id) == station_id)).scalars():
        out.setdefault(w.weekday, []).append((w.start_time, w.end_time))
    return out


def add_exception(session: Session, *, actor: policy.Actor, station_id: int,
                  data: ExceptionIn, ip: str | None = None,
                  now: datetime | None = None) -> StationException:
    """Close a station for a day (no times) or give it special hours that day."""
    station, community = queries.station_for(session, actor=actor, station_id=station_id)
    day, start, end, note = data.day, data.start, data.end, data.note
    if day < clock.local_today(community.timezone, now):
        raise InvalidInput(_l("Past days cannot be changed."), field="day")
    same_day = [e for e in queries.list_exceptions(session, pk(station), day) if e.day == day]
    if start is None or end is None:  # both None: checked together above
        if same_day:
            raise ExceptionConflict(field="day")
    else:
        if any(e.start_time is None for e in same_day):
            raise ExceptionConflict(field="day")
        # Special hours (not a closed day, checked above) always have both times.
        ranges = [cast(tuple[time, time], (e.start_time, e.end_time))
                  for e in same_day] + [(start, end)]
        clash = windows.find_overlap({0: ranges}, wrap=False)
        if clash is not None:
            raise WindowsOverlap(field="start", ranges=f"{windows.fmt_range(clash[1])} / "
                                                       f"{windows.fmt_range(clash[2])}")
    exc = StationException(station_id=pk(station), day=day, start_time=start, end_time=end,
                           note=note)
    session.add(exc)
    session.flush()
    audit.record(session, actor_id=actor.account_id, action="station.exception_added",
                 area=community, target_type="station", target_id=station.id, ip=ip,
                 day=day.isoformat(),
                 hours=windows.fmt_range((start, end)) if start and end else "closed")
    return exc


def remove_exception(session: Session, *, actor: policy.Actor, exception_id: int,
                     ip: str | None = None, now: datetime | None = None) -> StationException:
    """Delete a date exception (the weekly schedule applies again that day).

    Like adding one, only for today or later: an exception of a past day is the schedule
    that day had, and the metrics of that day are computed from it (DOMAIN "Late and
    out-of-order data"). Exceptions are thus their own versions: a day's exception is fixed
    once the day has begun, and the audit log keeps who added or removed it.
    """
    exc = session.get(StationException, exception_id)
    if exc is None:
        raise NotFound()
    station, community = queries.station_for(session, actor=actor, station_id=exc.station_id)
    if exc.day < clock.local_today(community.timezone, now):
        raise InvalidInput(_l("Past days cannot be changed."), field="day")
    session.delete(exc)
    session.flush()
    audit.record(session, actor_id=actor.account_id, action="station.exception_removed",
                 area=community, target_type="station", target_id=station.id, ip=ip,
                 day=exc.day.isoformat())
    return exc


# --- Drop exports --------------------------------------------------------------------------

def export_drops(session: Session, *, actor: policy.Actor, filters: queries.DropFilter,
                 fmt: str, limit: int | None = None, ip: str | None = None,
                 now: datetime | None = None) -> queries.DropExport:
    """Check scope and size (≤ MAX_EXPORT_ROWS) of an export of the filtered drops; audit it.

    The rows are then streamed with `queries.export_rows`.
    """
    community, f, conds = queries.resolve_drop_filter(session, actor, filters, now)
    limit = MAX_EXPORT_ROWS if limit is None else limit
    # Count at most limit + 1 rows: a huge match must not be counted to the end.
    capped = select(col(Drop.id)).where(*conds).limit(limit + 1).subquery()
    total = session.execute(select(func.count()).select_from(capped)).scalar_one()
    if total > limit:
        raise ExportTooLarge(total=total)
    audit.record(session, actor_id=actor.account_id, action="drops.exported", area=community,
                 ip=ip, fmt=fmt, rows=total,
                 # resolve_drop_filter has filled both days in.
                 day_from=cast(date, f.day_from).isoformat(),
                 day_to=cast(date, f.day_to).isoformat())
    return queries.DropExport(community, f, total, queries.drop_rows_stmt(conds))
