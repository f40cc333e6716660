"""Write use cases of the managers' station pages: stations, weekly windows, date exceptions,
and the audited start of a drop export.

Each loads → authorizes → applies the rules → adds → flushes; the request commits. An edit
forgets the station in the scan path's cache (`stations.services.forget_station`) first.
"""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.audit import services as audit
from community.auth import policy
from community.errors import Conflict, DomainError, InvalidInput, NotFound
from community.rows import pk, table_of
from community.stations import windows
from community.stations.manage import queries
from community.stations.models import (
    STATION_STATUSES,
    Drop,
    Station,
    StationException,
    StationWindow,
)
from community.stations.schemas import ExceptionIn, StationIn, WeekIn
from community.stations.services import forget_station

MAX_EXPORT_ROWS = 200_000


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
    audit.record(session, actor_id=actor.account_id, action="station.created", area=community,
                 target_type="station", target_id=station.id, ip=ip, name=station.name)
    return station


def update_station(session: Session, *, actor: policy.Actor, station_id: int,
                   data: StationIn, ip: str | None = None) -> Station:
    """Change a station's fields; the audit entry lists what changed (old → new)."""
    forget_station(station_id)  # the scan path must not use the old settings
    station, community = queries.station_for(session, actor=actor, station_id=station_id)
    values = _clean_station(session, community, data, except_id=station.id)
    changed = {k: f"{getattr(station, k)} → {v}" for k, v in values.items()
               if getattr(station, k) != v}
    for key, value in values.items():
        setattr(station, key, value)
    _flush_station(session, station)
    if changed:
        audit.record(session, actor_id=actor.account_id, action="station.updated",
                     area=community, target_type="station", target_id=station.id, ip=ip,
                     **changed)
    return station


def set_station_status(session: Session, *, actor: policy.Actor, station_id: int, status: str,
                       ip: str | None = None) -> Station:
    """Suspend a station (scans are refused) or reopen it."""
    forget_station(station_id)  # the scan path must not use the old settings
    station, community = queries.station_for(session, actor=actor, station_id=station_id)
    if status not in STATION_STATUSES:
        raise InvalidInput(field="status")
    if station.status != status:
        station.status = status
        session.add(station)
        session.flush()
        audit.record(session, actor_id=actor.account_id, action="station.status",
                     area=community, target_type="station", target_id=station.id, ip=ip,
                     status=status)
    return station


# --- Weekly windows and date exceptions ----------------------------------------------------

def set_weekly_windows(session: Session, *, actor: policy.Actor, station_id: int,
                       week: WeekIn, ip: str | None = None) -> Station:
    """Replace a station's weekly schedule; overlapping ranges are refused (field weekday_N)."""
    forget_station(station_id)  # the scan path must not use the old settings
    station, community = queries.station_for(session, actor=actor, station_id=station_id)
    weekly = {day: ranges for day, ranges in week.by_day().items() if ranges}
    clash = windows.find_overlap(weekly)
    if clash is not None:
        day, r1, r2 = clash
        raise WindowsOverlap(field=f"weekday_{day}",
                             ranges=f"{windows.fmt_range(r1)} / {windows.fmt_range(r2)}")
    session.execute(table_of(StationWindow).delete().where(
        table_of(StationWindow).c.station_id == station.id))
    for day in sorted(weekly):
        for start, end in sorted(weekly[day]):
            session.add(StationWindow(station_id=pk(station), weekday=day,
                                      start_time=start, end_time=end))
    session.flush()
    audit.record(session, actor_id=actor.account_id, action="station.windows", area=community,
                 target_type="station", target_id=station.id, ip=ip,
                 schedule="; ".join(f"{d}:" + ",".join(windows.fmt_range(r)
                                                       for r in sorted(weekly[d]))
                                    for d in sorted(weekly)))
    return station


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
                     ip: str | None = None) -> StationException:
    """Delete a date exception (the weekly schedule applies again that day)."""
    exc = session.get(StationException, exception_id)
    if exc is None:
        raise NotFound()
    station, community = queries.station_for(session, actor=actor, station_id=exc.station_id)
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
