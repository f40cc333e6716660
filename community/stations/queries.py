"""Read-only station queries for the API, the steward page and residents: stations, windows,
"open now" and the next window.

Pure reads (no Flask, no writes). Anyone who may read stations or record drops in a
community may read its stations; that includes devices, which record but do not manage.
The managers' reads are in `stations.manage.queries`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.auth import policy
from community.errors import Forbidden
from community.households import services as households_services
from community.households.models import Household
from community.points import services as points_services
from community.rows import any_of, pk
from community.stations import rules as scan_rules
from community.stations import windows
from community.stations.models import Drop, Station, StationException
from community.stations.schemas import (
    ExceptionDayOut,
    StationDetailOut,
    StationOut,
    TimeRangeOut,
    WindowOut,
)
from community.stations.services import StationUnknown, load_station_schedules

EXCEPTION_HORIZON_DAYS = 14
MAX_LISTED = 1000  # an area admin's scope can be large; the API lists, it does not page
READ_ACTIONS = ("station:read", "drop:record")


def _may_read(actor: policy.Actor, area: policy.HasPath) -> bool:
    return any(policy.allowed(actor, action, area) for action in READ_ACTIONS)


def _summary(station: Station, tz: str) -> dict[str, Any]:
    return {"id": pk(station), "community_id": station.community_id, "name": station.name,
            "location": station.location, "latitude": station.latitude,
            "longitude": station.longitude, "categories": station.category_list(),
            "status": station.status, "grace_minutes": station.grace_minutes, "timezone": tz}


def list_stations(session: Session, *, actor: policy.Actor) -> list[StationOut]:
    """The open stations of the communities where the actor may read stations or record drops."""
    paths = sorted({p for action in READ_ACTIONS for p in policy.scopes(actor, action)})
    if not paths:
        raise Forbidden(action="station:read")
    rows = session.execute(
        select(Station, col(Area.timezone))
        .join(Area, col(Area.id) == Station.community_id)
        .where(or_(*[col(Area.path).startswith(p) for p in paths]), col(Station.status) == "open")
        .order_by(col(Station.community_id), col(Station.name), col(Station.id))
        .limit(MAX_LISTED)
    ).all()
    return [StationOut(**_summary(station, tz)) for station, tz in rows]


def station_detail(session: Session, *, actor: policy.Actor, station_id: int,
                   now: datetime) -> StationDetailOut:
    """One station with the weekly windows and grace in force today, exceptions of the next
    14 days, and whether it is open now (until when) or when its next window starts."""
    row = session.execute(
        select(Station, Area).join(Area, col(Area.id) == Station.community_id)
        .where(col(Station.id) == station_id)
    ).first()
    if row is None:
        raise StationUnknown()
    station, area = row
    if not _may_read(actor, area):
        raise Forbidden(action="station:read")
    today = clock.local_today(area.timezone, now)
    # From yesterday: a window of yesterday's exception may still run past midnight now.
    horizon = {today + timedelta(days=n) for n in range(-1, EXCEPTION_HORIZON_DAYS + 1)}
    info = load_station_schedules(session, {pk(station)}, horizon)[pk(station)]
    notes = dict(session.execute(
        select(col(StationException.day), col(StationException.note))
        .where(col(StationException.station_id) == station.id,
               col(StationException.day).in_(horizon), col(StationException.note) != "")
        .order_by(col(StationException.day), col(StationException.id))).all()[::-1])
    in_force = info.in_force(today)
    current = nxt = None
    if info.open_at(now):
        current = windows.open_now(info.schedule, info.exceptions, now)
        nxt = windows.next_window(info.schedule, info.exceptions, now, EXCEPTION_HORIZON_DAYS)
    return StationDetailOut(
        **(_summary(station, area.timezone) | {"grace_minutes": in_force.grace_minutes}),
        windows=[WindowOut(weekday=d, start=a, end=b)
                 for d in sorted(in_force.weekly) for a, b in sorted(in_force.weekly[d])],
        exceptions=[ExceptionDayOut(day=d, closed=not info.exceptions[d], note=notes.get(d, ""),
                                    ranges=[TimeRangeOut(start=a, end=b)
                                            for a, b in info.exceptions[d]])
                    for d in sorted(info.exceptions) if d >= today],
        open_now=current is not None,
        current_window_end=current.end if current else None,
        next_window_start=nxt.start if nxt else None,
    )


@dataclass(frozen=True)
class ScanStation:
    """One station as the scan page shows it (its bins decide the category buttons)."""

    id: int
    name: str
    location: str
    community_id: int
    community_name: str
    categories: list[str]


def scan_stations(session: Session, *, actor: policy.Actor) -> list[ScanStation]:
    """Open stations of every community where `actor` may record drops; Forbidden if none.

    Only stewards, station chiefs and managers hold `drop:record`; any other account
    (a resident, a street admin) is refused even when no station exists yet.
    """
    paths = policy.scopes(actor, "drop:record")
    if not paths:
        raise Forbidden(action="drop:record")
    rows = session.execute(
        select(Station, col(Area.name))
        .join(Area, col(Area.id) == Station.community_id)
        .where(or_(*[col(Area.path).startswith(p) for p in paths]),
               col(Station.status) == "open")
        .order_by(Area.path, Station.name)
    ).all()
    return [ScanStation(id=s.id, name=s.name, location=s.location, community_id=s.community_id,
                        community_name=name, categories=s.category_list())
            for s, name in rows]


@dataclass(frozen=True)
class RecentScan:
    """One of the steward's own recent scans, for the scan page's list and its undo button."""

    client_id: str
    station_id: int
    category: str
    quality: str
    happened_at: datetime  # device time, as stored (the undo window counts from it)
    void_until: datetime   # the last moment the server accepts its undo (server clock)
    household_label: str | None
    points: int | None
    repeat: bool
    voided: bool


RECENT_LISTED = 20  # the page lists at most this many (scan.js keeps the same number)


def recent_scans(session: Session, *, actor: policy.Actor, community_ids: Sequence[int],
                 now: datetime | None = None) -> list[RecentScan]:
    """The actor's own drops in these communities that they may still undo (stored within
    the void window before `now`), newest first: a reloaded scan page lists them with their
    undo buttons (voided ones are listed as undone).

    Reads one or two local days of each community (the drops' day index) and filters by
    recorder and time; a steward makes a few dozen scans in five minutes at most.
    """
    now = now or clock.now()
    if actor.account_id is None or not community_ids:
        return []
    since = now - scan_rules.VOID_WINDOW
    # Local dates of [since, now] in any zone lie within a day of their UTC dates.
    days = {since.astimezone(UTC).date() + timedelta(days=d) for d in (-1, 0, 1)}
    days |= {now.astimezone(UTC).date() + timedelta(days=d) for d in (-1, 0, 1)}
    rows = list(session.execute(
        select(Drop).where(any_of(session, col(Drop.community_id), set(community_ids)),
                           any_of(session, col(Drop.local_date), days),
                           col(Drop.recorded_by) == actor.account_id,
                           col(Drop.happened_at) >= since)
        .order_by(col(Drop.happened_at).desc(), col(Drop.id).desc())
        .limit(RECENT_LISTED)).scalars())
    if not rows:
        return []
    households = {(d.community_id, d.household_id) for d in rows if d.household_id}
    labels: dict[tuple[int, int], str] = {}
    points: dict[int, int] = {}
    for cid in {d.community_id for d in rows}:
        ids = {h for c, h in households if c == cid}
        if ids:
            for hh in session.execute(select(Household).where(
                    col(Household.community_id) == cid,
                    any_of(session, col(Household.id), ids))).scalars():
                labels[(cid, pk(hh))] = households_services.address_label(hh)
        points |= points_services.points_for_drops(
            session, cid, sorted(pk(d) for d in rows if d.community_id == cid and d.household_id),
            days={d.local_date for d in rows if d.community_id == cid and d.household_id})
    return [RecentScan(
        client_id=d.client_id, station_id=d.station_id, category=d.category,
        quality=d.quality, happened_at=d.happened_at.astimezone(UTC),
        void_until=(d.happened_at + scan_rules.VOID_WINDOW).astimezone(UTC),
        household_label=labels.get((d.community_id, d.household_id))
        if d.household_id else None,
        points=points.get(pk(d)) if d.household_id else None,
        repeat=d.repeat_of is not None, voided=d.voided_at is not None) for d in rows]


# --- Residents: "my stations" -------------------------------------------------------------

@dataclass
class StationStatus:
    """A station as a resident sees it: open now (until when) or the next window's start."""

    station_id: int
    name: str
    location: str
    community_id: int
    suspended: bool
    open_until: datetime | None  # local time
    next_start: datetime | None  # local time
    today: date


def stations_for_residents(session: Session, *, community_ids: Sequence[int],
                           now: datetime | None = None) -> list[StationStatus]:
    """The stations of the given communities with "open now" / "next window" (local times).

    Callers pass only the communities of the resident's own households.
    """
    now = now or clock.now()
    if not community_ids:
        return []
    ids = list(session.execute(
        select(col(Station.id)).where(col(Station.community_id).in_(community_ids))
        .order_by(col(Station.community_id), col(Station.name))).scalars())
    utc_day = now.astimezone(UTC).date()
    # Local today is within a day of the UTC date; next_window looks up to 14 days ahead.
    infos = load_station_schedules(session, set(ids), {utc_day + timedelta(days=o)
                                                       for o in range(-2, 17)})
    out = []
    for sid in ids:
        info = infos[sid]
        zone = ZoneInfo(info.tz)
        suspended = info.station.status != "open"
        current = None if suspended else windows.open_now(info.schedule, info.exceptions, now)
        upcoming = (None if suspended or current
                    else windows.next_window(info.schedule, info.exceptions, now))
        out.append(StationStatus(
            station_id=sid, name=info.station.name, location=info.station.location,
            community_id=info.station.community_id, suspended=suspended,
            open_until=current.end.astimezone(zone) if current else None,
            next_start=upcoming.start.astimezone(zone) if upcoming else None,
            today=now.astimezone(zone).date()))
    return out
