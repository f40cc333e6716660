"""Use cases of the managers' station pages: stations, weekly windows, date exceptions,
devices, the drop list and its exports, and the stations residents see.

The scan use case (`record_drops`), device tokens and regrading stay in `services.py`.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, false, func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.audit import services as audit
from community.auth import policy
from community.auth.models import Account, RoleGrant
from community.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
)
from community.households import codes, importer
from community.households import services as households_services
from community.households.models import Card, Household
from community.rows import pk, table_of
from community.stations import windows
from community.stations.models import (
    CATEGORIES,
    QUALITIES,
    STATION_STATUSES,
    Device,
    Drop,
    DropRegrade,
    Station,
    StationException,
    StationWindow,
)
from community.stations.services import (
    community_area,
    forget_station,
    load_station_schedules,
)
from community.web.pagination import Page

CHIEF_ROLES = ("station_chief", "steward")
MAX_EXPORT_ROWS = 200_000
WEEK_MINUTES = 7 * 24 * 60


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


@dataclass
class StationRow:
    """A station in the manager's list, with its chief's name and weekly ranges."""

    station: Station
    chief_name: str | None
    weekly: dict[int, list[tuple[time, time]]]
    devices: int


@dataclass
class StationList:
    """The station list page: the picker, the community and its stations."""

    communities: list[Area]
    community: Area
    stations: list[StationRow]


def _weekly(session: Session, station_ids: Sequence[int]) -> dict[int, dict[int, list]]:
    out: dict[int, dict[int, list[tuple[time, time]]]] = {}
    if not station_ids:
        return out
    rows = session.execute(
        select(StationWindow).where(col(StationWindow.station_id).in_(station_ids))
        .order_by(col(StationWindow.weekday), col(StationWindow.start_time))
    ).scalars()
    for w in rows:
        out.setdefault(w.station_id, {}).setdefault(w.weekday, []).append(
            (w.start_time, w.end_time))
    return out


def list_stations(session: Session, *, actor: policy.Actor,
                  community_id: int | None) -> StationList:
    """A community's stations with chief, weekly ranges and device count (station:manage)."""
    community = areas_services.community_for(session, actor=actor, community_id=community_id,
                              action="station:manage")
    rows = session.execute(
        select(Station, col(Account.display_name))
        .outerjoin(Account, col(Account.id) == Station.chief_id)
        .where(col(Station.community_id) == community.id)
        .order_by(col(Station.name))
    ).all()
    ids = [s.id for s, _ in rows]
    weekly = _weekly(session, ids)
    devices = dict(session.execute(
        select(col(Device.station_id), func.count()).where(
            col(Device.station_id).in_(ids), col(Device.revoked_at).is_(None))
        .group_by(col(Device.station_id))).all()) if ids else {}
    return StationList(
        communities=areas_services.communities_for(session, actor, "station:manage"),
        community=community,
        stations=[StationRow(s, name, weekly.get(s.id, {}), devices.get(s.id, 0))
                  for s, name in rows],
    )


def station_for(session: Session, *, actor: policy.Actor, station_id: int,
                action: str = "station:manage") -> tuple[Station, Area]:
    """A station and its community, if the actor may do `action` there (else 404/403)."""
    station = session.get(Station, station_id)
    if station is None:
        raise NotFound()
    area = community_area(session, station.community_id)
    policy.require(actor, action, area)
    return station, area


def chief_candidates(session: Session, community_id: int) -> list[Account]:
    """Accounts holding a steward or station chief role in the community (for the chief picker)."""
    return list(session.execute(
        select(Account).join(RoleGrant, col(RoleGrant.account_id) == Account.id)
        .where(col(RoleGrant.area_id) == community_id, col(RoleGrant.role).in_(CHIEF_ROLES),
               col(Account.active).is_(True))
        .distinct().order_by(col(Account.display_name), col(Account.id))
    ).scalars())


@dataclass
class StationInput:
    """The editable fields of a station, as the form delivers them."""

    name: str
    location: str = ""
    latitude: float | None = None
    longitude: float | None = None
    categories: Sequence[str] = CATEGORIES
    chief_id: int | None = None
    status: str = "open"
    grace_minutes: int = 10


def _clean_station(session: Session, community: Area, data: StationInput,
                   except_id: int | None = None) -> dict[str, Any]:
    name = (data.name or "").strip()
    if not name or len(name) > 80:
        raise InvalidInput(field="name")
    location = (data.location or "").strip()
    if len(location) > 200:
        raise InvalidInput(field="location")
    if data.latitude is not None and not -90 <= data.latitude <= 90:
        raise InvalidInput(field="latitude")
    if data.longitude is not None and not -180 <= data.longitude <= 180:
        raise InvalidInput(field="longitude")
    if (data.latitude is None) != (data.longitude is None):
        raise InvalidInput(field="longitude" if data.longitude is None else "latitude")
    cats = [c for c in CATEGORIES if c in set(data.categories)]
    if not cats or set(data.categories) - set(CATEGORIES):
        raise InvalidInput(field="categories")
    if data.status not in STATION_STATUSES:
        raise InvalidInput(field="status")
    if not isinstance(data.grace_minutes, int) or not 0 <= data.grace_minutes <= 120:
        raise InvalidInput(field="grace_minutes")
    if data.chief_id is not None and data.chief_id not in {
            a.id for a in chief_candidates(session, pk(community))}:
        raise InvalidInput(field="chief_id")
    clash = select(col(Station.id)).where(col(Station.community_id) == community.id,
                                          col(Station.name) == name)
    if except_id is not None:
        clash = clash.where(col(Station.id) != except_id)
    if session.execute(clash).first() is not None:
        raise Conflict(field="name")
    return {"name": name, "location": location, "latitude": data.latitude,
            "longitude": data.longitude, "categories": ",".join(cats),
            "chief_id": data.chief_id, "status": data.status,
            "grace_minutes": data.grace_minutes}


def _flush_station(session: Session, station: Station) -> None:
    try:
        with session.begin_nested():  # two managers creating the same name at once
            session.add(station)
            session.flush()
    except IntegrityError:
        raise Conflict(field="name") from None


def create_station(session: Session, *, actor: policy.Actor, community_id: int,
                   data: StationInput, ip: str | None = None) -> Station:
    """Add a station with the default windows (07:00–09:00 and 18:00–20:00 every day)."""
    community = community_area(session, community_id)
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
                   data: StationInput, ip: str | None = None) -> Station:
    """Change a station's fields; the audit entry lists what changed (old → new)."""
    forget_station(station_id)  # the scan path must not use the old settings
    station, community = station_for(session, actor=actor, station_id=station_id)
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
    station, community = station_for(session, actor=actor, station_id=station_id)
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


def _span(start: time, end: time) -> tuple[int, int]:
    """Minutes from the day's start; an end not after the start runs past midnight."""
    a = start.hour * 60 + start.minute
    b = end.hour * 60 + end.minute
    return a, b if b > a else b + 24 * 60


def fmt_range(r: tuple[time, time]) -> str:
    """'07:00–09:00' for messages and pages."""
    return f"{r[0]:%H:%M}–{r[1]:%H:%M}"


def find_overlap(weekly: Mapping[int, Sequence[tuple[time, time]]],
                 wrap: bool = True) -> tuple[int, tuple[time, time], tuple[time, time]] | None:
    """The first two ranges that overlap (weekday of the first, both ranges), or None. Pure.

    Ranges are laid on the week (a range past midnight reaches into the next weekday, and
    Sunday night into Monday when `wrap`), so 22:00–02:00 on Monday clashes with 01:00–03:00
    on Tuesday.
    """
    spans = []
    for day, ranges in weekly.items():
        for r in ranges:
            a, b = _span(*r)
            spans.append((day * 1440 + a, day * 1440 + b, day, r))
    spans.sort(key=lambda s: s[0])
    if wrap:  # Sunday's late range may run into Monday morning
        spans += [(a + WEEK_MINUTES, b + WEEK_MINUTES, d, r) for a, b, d, r in spans]
    for i, (a1, b1, d1, r1) in enumerate(spans):
        for a2, _b2, _d2, r2 in spans[i + 1:]:
            if a2 >= b1:
                break
            if a2 < b1 and a2 >= a1:
                return d1, r1, r2
    return None


def _check_ranges(ranges: Sequence[tuple[time, time]], field: str) -> None:
    for r in ranges:
        if r[0] == r[1]:
            raise InvalidInput(_l("A time range needs different start and end times."),
                               field=field)


def set_weekly_windows(session: Session, *, actor: policy.Actor, station_id: int,
                       weekly: Mapping[int, Sequence[tuple[time, time]]],
                       ip: str | None = None) -> Station:
    """Replace a station's weekly schedule; overlapping ranges are refused (field weekday_N)."""
    forget_station(station_id)  # the scan path must not use the old settings
    station, community = station_for(session, actor=actor, station_id=station_id)
    if set(weekly) - set(range(7)):
        raise InvalidInput(field="weekday")
    for day, ranges in weekly.items():
        _check_ranges(ranges, f"weekday_{day}")
    clash = find_overlap(weekly)
    if clash is not None:
        day, r1, r2 = clash
        raise WindowsOverlap(field=f"weekday_{day}", ranges=f"{fmt_range(r1)} / {fmt_range(r2)}")
    session.execute(table_of(StationWindow).delete().where(
        table_of(StationWindow).c.station_id == station.id))
    for day in sorted(weekly):
        for start, end in sorted(weekly[day]):
            session.add(StationWindow(station_id=pk(station), weekday=day,
                                      start_time=start, end_time=end))
    session.flush()
    audit.record(session, actor_id=actor.account_id, action="station.windows", area=community,
                 target_type="station", target_id=station.id, ip=ip,
                 schedule="; ".join(f"{d}:" + ",".join(fmt_range(r) for r in sorted(weekly[d]))
                                    for d in sorted(weekly)))
    return station


def list_exceptions(session: Session, station_id: int, since: date) -> list[StationException]:
    """A station's exceptions from `since` on, by day."""
    return list(session.execute(
        select(StationException).where(col(StationException.station_id) == station_id,
                                       col(StationException.day) >= since)
        .order_by(col(StationException.day), col(StationException.start_time))
    ).scalars())


def local_today(area: Area, now: datetime | None = None) -> date:
    """Today's date in the community's time zone."""
    return (now or clock.now()).astimezone(ZoneInfo(area.timezone)).date()


def add_exception(session: Session, *, actor: policy.Actor, station_id: int, day: date,
                  start: time | None = None, end: time | None = None, note: str = "",
                  ip: str | None = None, now: datetime | None = None) -> StationException:
    """Close a station for a day (no times) or give it special hours that day."""
    station, community = station_for(session, actor=actor, station_id=station_id)
    if day < local_today(community, now):
        raise InvalidInput(_l("Past days cannot be changed."), field="day")
    if (start is None) != (end is None):
        raise InvalidInput(field="end" if end is None else "start")
    note = (note or "").strip()
    if len(note) > 100:
        raise InvalidInput(field="note")
    same_day = [e for e in list_exceptions(session, pk(station), day) if e.day == day]
    if start is None or end is None:  # both None: checked together above
        if same_day:
            raise ExceptionConflict(field="day")
    else:
        _check_ranges([(start, end)], "end")
        if any(e.start_time is None for e in same_day):
            raise ExceptionConflict(field="day")
        # Special hours (not a closed day, checked above) always have both times.
        ranges = [cast(tuple[time, time], (e.start_time, e.end_time))
                  for e in same_day] + [(start, end)]
        clash = find_overlap({0: ranges}, wrap=False)
        if clash is not None:
            raise WindowsOverlap(field="start",
                                 ranges=f"{fmt_range(clash[1])} / {fmt_range(clash[2])}")
    exc = StationException(station_id=pk(station), day=day, start_time=start, end_time=end,
                           note=note)
    session.add(exc)
    session.flush()
    audit.record(session, actor_id=actor.account_id, action="station.exception_added",
                 area=community, target_type="station", target_id=station.id, ip=ip,
                 day=day.isoformat(), hours=fmt_range((start, end)) if start and end else "closed")
    return exc


def remove_exception(session: Session, *, actor: policy.Actor, exception_id: int,
                     ip: str | None = None) -> StationException:
    """Delete a date exception (the weekly schedule applies again that day)."""
    exc = session.get(StationException, exception_id)
    if exc is None:
        raise NotFound()
    station, community = station_for(session, actor=actor, station_id=exc.station_id)
    session.delete(exc)
    session.flush()
    audit.record(session, actor_id=actor.account_id, action="station.exception_removed",
                 area=community, target_type="station", target_id=station.id, ip=ip,
                 day=exc.day.isoformat())
    return exc


# --- Devices (manager pages) --------------------------------------------------------------

@dataclass
class DeviceList:
    """A community's devices (newest first) and its stations for the issue form."""

    communities: list[Area]
    community: Area
    devices: list[tuple[Device, str | None]]  # (device, station name)
    stations: list[Station]


def list_devices(session: Session, *, actor: policy.Actor,
                 community_id: int | None) -> DeviceList:
    """The devices of one community in scope (device:manage)."""
    community = areas_services.community_for(session, actor=actor, community_id=community_id,
                              action="device:manage")
    rows = session.execute(
        select(Device, col(Station.name)).outerjoin(Station, col(Station.id) == Device.station_id)
        .where(col(Device.community_id) == community.id)
        .order_by(col(Device.created_at).desc(), col(Device.id).desc())
    ).all()
    stations = list(session.execute(select(Station).where(
        col(Station.community_id) == community.id).order_by(col(Station.name))).scalars())
    return DeviceList(areas_services.communities_for(session, actor, "device:manage"),
                      community, [(d, n) for d, n in rows], stations)


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


# --- Drop list, detail and exports (manager and station chief pages) ----------------------

WINDOW_FILTERS = ("in", "out")
KIND_FILTERS = ("tally", "identified")


@dataclass
class DropFilter:
    """The drop list's filters; days are local dates of the community (inclusive range)."""

    community_id: int | None = None
    station_id: int | None = None
    day_from: date | None = None
    day_to: date | None = None
    category: str = ""
    quality: str = ""
    window: str = ""   # "in" | "out" | ""
    kind: str = ""     # "tally" | "identified" | ""
    q: str = ""        # household: address ("3-2-301") or card short code


@dataclass
class DropList:
    """The drop list page: picker, community, its stations, the resolved filter and one page."""

    communities: list[Area]
    community: Area
    stations: list[Station]
    filters: DropFilter
    page: Page  # items: DropRow


@dataclass(frozen=True)
class DropRow:
    """One drop as list and exports show it."""

    id: int
    happened_at: datetime
    station: str
    household: str | None
    category: str
    quality: str
    source: str
    in_window: bool
    weight_kg: Any
    note: str | None
    has_photo: bool


_ROW_COLUMNS = (col(Drop.id), col(Drop.happened_at), col(Station.name), col(Household.building),
                col(Household.unit), col(Household.room), col(Drop.category), col(Drop.quality),
                col(Drop.source), col(Drop.in_window), col(Drop.weight_kg), col(Drop.note),
                col(Drop.photo))


def _row(r: Any) -> DropRow:
    label = (households_services.format_address(r[3], r[4], r[5]) if r[3] is not None else None)
    return DropRow(id=r[0], happened_at=r[1], station=r[2], household=label, category=r[6],
                   quality=r[7], source=r[8], in_window=r[9], weight_kg=r[10], note=r[11],
                   has_photo=bool(r[12]))


def _resolve_filter(session: Session, actor: policy.Actor, f: DropFilter,
                    now: datetime | None) -> tuple[Area, DropFilter, list[Any]]:
    """Authorize the community and turn the filter into WHERE conditions (index-friendly)."""
    community = areas_services.community_for(session, actor=actor, community_id=f.community_id,
                              action="drop:read")
    today = local_today(community, now)
    day_to = f.day_to or (f.day_from if f.day_from and f.day_from > today else today)
    day_from = f.day_from or min(day_to, today) - timedelta(days=6)
    if day_from > day_to:
        day_from, day_to = day_to, day_from
    f = replace(f, community_id=community.id, day_from=day_from, day_to=day_to)
    # community_id + local_date first: the (community_id, local_date) index bounds every query.
    conds: list[Any] = [col(Drop.community_id) == community.id,
                        col(Drop.local_date) >= day_from, col(Drop.local_date) <= day_to]
    if f.station_id:
        conds.append(col(Drop.station_id) == f.station_id)
    if f.category in CATEGORIES:
        conds.append(col(Drop.category) == f.category)
    if f.quality in QUALITIES:
        conds.append(col(Drop.quality) == f.quality)
    if f.window in WINDOW_FILTERS:
        conds.append(col(Drop.in_window).is_(f.window == "in"))
    if f.kind == "tally":
        conds.append(col(Drop.household_id).is_(None))
    elif f.kind == "identified":
        conds.append(col(Drop.household_id).is_not(None))
    q = (f.q or "").strip()
    if q:
        short = codes.normalize_code(q)
        if codes.is_short_code(short):
            # Any card of the household, revoked ones too: old drops were made with them.
            households: Select[Any] = select(col(Card.household_id)).join(
                Household, col(Household.id) == Card.household_id).where(
                col(Card.short_code) == short, col(Household.community_id) == community.id)
        else:
            parts = importer.parse_address_query(q)
            households = select(col(Household.id)).where(
                col(Household.community_id) == community.id)
            if parts:
                for key, value in parts.items():
                    households = households.where(getattr(Household, key) == value)
            else:
                households = households.where(false())  # not an address or a code
        conds.append(col(Drop.household_id).in_(households))
    return community, f, conds


def _rows_stmt(conds: list[Any]) -> Any:
    return (select(*_ROW_COLUMNS).select_from(Drop)
            .join(Station, col(Station.id) == Drop.station_id)
            .outerjoin(Household, col(Household.id) == Drop.household_id)
            .where(*conds)
            .order_by(col(Drop.happened_at).desc(), col(Drop.id).desc()))


def list_drops(session: Session, *, actor: policy.Actor, filters: DropFilter, page: int = 1,
               per_page: int = 50, now: datetime | None = None) -> DropList:
    """One page of a community's drops, newest first (drop:read; days default to the last 7)."""
    community, f, conds = _resolve_filter(session, actor, filters, now)
    page = max(1, page)
    # Count on the drop table alone: the joins only add names.
    total = session.execute(select(func.count()).select_from(Drop).where(*conds)).scalar_one()
    rows = session.execute(_rows_stmt(conds).limit(per_page).offset((page - 1) * per_page))
    stations = list(session.execute(select(Station).where(
        col(Station.community_id) == community.id).order_by(col(Station.name))).scalars())
    return DropList(
        communities=areas_services.communities_for(session, actor, "drop:read"),
        community=community, stations=stations, filters=f,
        page=Page(items=[_row(r) for r in rows], page=page, per_page=per_page, total=total),
    )


@dataclass
class DropExport:
    """An authorized, bounded export: run `stmt` (in any session) and map rows with `_row`."""

    community: Area
    filters: DropFilter
    total: int
    stmt: Any


def export_drops(session: Session, *, actor: policy.Actor, filters: DropFilter, fmt: str,
                 limit: int | None = None, ip: str | None = None,
                 now: datetime | None = None) -> DropExport:
    """Check scope and size (≤ MAX_EXPORT_ROWS) of an export of the filtered drops; audit it."""
    community, f, conds = _resolve_filter(session, actor, filters, now)
    limit = MAX_EXPORT_ROWS if limit is None else limit
    # Count at most limit + 1 rows: a huge match must not be counted to the end.
    capped = select(col(Drop.id)).where(*conds).limit(limit + 1).subquery()
    total = session.execute(select(func.count()).select_from(capped)).scalar_one()
    if total > limit:
        raise ExportTooLarge(total=total)
    audit.record(session, actor_id=actor.account_id, action="drops.exported", area=community,
                 ip=ip, fmt=fmt, rows=total,
                 # _resolve_filter has filled both days in.
                 day_from=cast(date, f.day_from).isoformat(),
                 day_to=cast(date, f.day_to).isoformat())
    return DropExport(community, f, total, _rows_stmt(conds))


def export_rows(session: Session, export: DropExport, chunk: int = 2000) -> Iterator[DropRow]:
    """Stream an export's rows in chunks (the caller's session stays open while iterating)."""
    result = session.execute(export.stmt.execution_options(yield_per=chunk))
    for r in result:
        yield _row(r)


@dataclass
class DropDetail:
    """One drop with names, its regrade history and what the reader may do."""

    drop: Drop
    community: Area
    station: Station
    household: str | None
    recorded_by: str | None
    device: str | None
    history: list[tuple[DropRegrade, str | None]]
    can_regrade: bool


def drop_for(session: Session, *, actor: policy.Actor, drop_id: int) -> tuple[Drop, Area]:
    """A drop and its community if the actor may read it (404 unknown, 403 foreign)."""
    drop = session.get(Drop, drop_id)
    if drop is None:
        raise NotFound()
    area = community_area(session, drop.community_id)
    policy.require(actor, "drop:read", area)
    return drop, area


def drop_detail(session: Session, *, actor: policy.Actor, drop_id: int) -> DropDetail:
    """The drill-in page of one drop (drop:read)."""
    drop, area = drop_for(session, actor=actor, drop_id=drop_id)
    station = cast(Station, session.get(Station, drop.station_id))  # a foreign key
    hh = session.get(Household, drop.household_id) if drop.household_id else None
    recorder = session.get(Account, drop.recorded_by) if drop.recorded_by else None
    device = session.get(Device, drop.device_id) if drop.device_id else None
    history = session.execute(
        select(DropRegrade, col(Account.display_name))
        .outerjoin(Account, col(Account.id) == DropRegrade.actor_id)
        .where(col(DropRegrade.drop_id) == drop.id)
        .order_by(col(DropRegrade.at), col(DropRegrade.id))
    ).all()
    return DropDetail(
        drop=drop, community=area, station=station,
        household=households_services.address_label(hh) if hh else None,
        recorded_by=recorder.display_name if recorder else None,
        device=device.name if device else None,
        history=[(r, n) for r, n in history],
        can_regrade=policy.allowed(actor, "drop:regrade", area),
    )


def drop_photo(session: Session, *, actor: policy.Actor, drop_id: int) -> str:
    """The stored photo path of a drop the actor may read; NotFound when it has none."""
    drop, _area = drop_for(session, actor=actor, drop_id=drop_id)
    if not drop.photo:
        raise NotFound()
    return drop.photo


@dataclass
class StationPage:
    """A station's page: fields, chief, weekly windows and the exceptions from today on."""

    station: Station
    community: Area
    chief_name: str | None
    weekly: dict[int, list[tuple[time, time]]]
    exceptions: list[StationException]
    today: date


def station_page(session: Session, *, actor: policy.Actor, station_id: int,
                 now: datetime | None = None) -> StationPage:
    """Everything the station page shows (station:manage)."""
    station, community = station_for(session, actor=actor, station_id=station_id)
    chief = session.get(Account, station.chief_id) if station.chief_id else None
    today = local_today(community, now)
    return StationPage(station, community, chief.display_name if chief else None,
                       _weekly(session, [pk(station)]).get(pk(station), {}),
                       list_exceptions(session, pk(station), today), today)
