"""Read models of the managers' station pages: the station list and page, exceptions, devices,
the drop list, a drop's drill-in and photo, and the rows of a drop export.

Reads only. Every function authorizes its community (404 unknown, 403 foreign) before it
reads; the export's audited start is a write and lives in `manage.services`.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import Select, false, func, select
from sqlmodel import Session, col

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.auth import policy
from community.auth.models import Account, RoleGrant
from community.errors import NotFound
from community.households import codes, importer
from community.households import services as households_services
from community.households.models import Card, Household
from community.rows import pk
from community.stations import reasons
from community.stations.models import (
    CATEGORIES,
    QUALITIES,
    Device,
    Drop,
    DropRegrade,
    ScheduleRange,
    ScheduleVersion,
    Station,
    StationException,
    StationWindow,
)
from community.web.pagination import Page

CHIEF_ROLES = ("station_chief", "steward")


# --- Stations ------------------------------------------------------------------------------

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
    area = areas_services.get_community(session, station.community_id)
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


def list_exceptions(session: Session, station_id: int, since: date) -> list[StationException]:
    """A station's exceptions from `since` on, by day."""
    return list(session.execute(
        select(StationException).where(col(StationException.station_id) == station_id,
                                       col(StationException.day) >= since)
        .order_by(col(StationException.day), col(StationException.start_time))
    ).scalars())


@dataclass
class StationPage:
    """A station's page: fields, chief, weekly windows and the exceptions from today on."""

    station: Station
    community: Area
    chief_name: str | None
    weekly: dict[int, list[tuple[time, time]]]
    exceptions: list[StationException]
    today: date
    # The schedule's history, newest first: (in force from, grace, weekly ranges); the
    # version in force today is the first one not after `today`.
    versions: list[tuple[date, int, dict[int, list[tuple[time, time]]]]] = field(
        default_factory=list)

    def in_force_from(self) -> date | None:
        """The first day of the version in force today (None: no history yet)."""
        return next((day for day, _g, _w in self.versions if day <= self.today), None)


def station_page(session: Session, *, actor: policy.Actor, station_id: int,
                 now: datetime | None = None) -> StationPage:
    """Everything the station page shows (station:manage)."""
    station, community = station_for(session, actor=actor, station_id=station_id)
    chief = session.get(Account, station.chief_id) if station.chief_id else None
    today = clock.local_today(community.timezone, now)
    return StationPage(station, community, chief.display_name if chief else None,
                       _weekly(session, [pk(station)]).get(pk(station), {}),
                       list_exceptions(session, pk(station), today), today,
                       _versions(session, pk(station)))


VERSIONS_SHOWN = 10


def _versions(session: Session, station_id: int
              ) -> list[tuple[date, int, dict[int, list[tuple[time, time]]]]]:
    """The newest schedule versions of a station with their weekly ranges."""
    rows = session.execute(
        select(ScheduleVersion).where(col(ScheduleVersion.station_id) == station_id)
        .order_by(col(ScheduleVersion.effective_from).desc()).limit(VERSIONS_SHOWN)).scalars()
    versions = list(rows)
    weekly: dict[int, dict[int, list[tuple[time, time]]]] = {}
    if versions:
        for r in session.execute(select(ScheduleRange).where(
                col(ScheduleRange.version_id).in_([pk(v) for v in versions]))
                .order_by(col(ScheduleRange.weekday), col(ScheduleRange.start_time))).scalars():
            weekly.setdefault(r.version_id, {}).setdefault(r.weekday, []).append(
                (r.start_time, r.end_time))
    return [(v.effective_from, v.grace_minutes, weekly.get(pk(v), {})) for v in versions]


# --- Devices -------------------------------------------------------------------------------

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
    voided: bool = False  # undone by its steward: kept, listed, but counted nowhere


_ROW_COLUMNS = (col(Drop.id), col(Drop.happened_at), col(Station.name), col(Household.building),
                col(Household.unit), col(Household.room), col(Drop.category), col(Drop.quality),
                col(Drop.source), col(Drop.in_window), col(Drop.weight_kg), col(Drop.note),
                col(Drop.photo), col(Drop.voided_at))


def _row(r: Any) -> DropRow:
    label = (households_services.format_address(r[3], r[4], r[5]) if r[3] is not None else None)
    return DropRow(id=r[0], happened_at=r[1], station=r[2], household=label, category=r[6],
                   quality=r[7], source=r[8], in_window=r[9], weight_kg=r[10], note=r[11],
                   has_photo=bool(r[12]), voided=r[13] is not None)


def resolve_drop_filter(session: Session, actor: policy.Actor, f: DropFilter,
                        now: datetime | None) -> tuple[Area, DropFilter, list[Any]]:
    """Authorize the community and turn the filter into WHERE conditions (index-friendly)."""
    community = areas_services.community_for(session, actor=actor, community_id=f.community_id,
                              action="drop:read")
    today = clock.local_today(community.timezone, now)
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


def drop_rows_stmt(conds: list[Any]) -> Any:
    """The drops matching `conds` with station and household names, newest first."""
    return (select(*_ROW_COLUMNS).select_from(Drop)
            .join(Station, col(Station.id) == Drop.station_id)
            .outerjoin(Household, col(Household.id) == Drop.household_id)
            .where(*conds)
            .order_by(col(Drop.happened_at).desc(), col(Drop.id).desc()))


def list_drops(session: Session, *, actor: policy.Actor, filters: DropFilter, page: int = 1,
               per_page: int = 50, now: datetime | None = None) -> DropList:
    """One page of a community's drops, newest first (drop:read; days default to the last 7)."""
    community, f, conds = resolve_drop_filter(session, actor, filters, now)
    page = max(1, page)
    # Count on the drop table alone: the joins only add names.
    total = session.execute(select(func.count()).select_from(Drop).where(*conds)).scalar_one()
    rows = session.execute(drop_rows_stmt(conds).limit(per_page).offset((page - 1) * per_page))
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
    # The steward's mis-drop reason of an incorrect verdict, in the reader's language (its
    # stored code when the community no longer lists it); who undid the scan, if undone.
    reason: str | None = None
    voided_by: str | None = None


def drop_for(session: Session, *, actor: policy.Actor, drop_id: int) -> tuple[Drop, Area]:
    """A drop and its community if the actor may read it (404 unknown, 403 foreign)."""
    drop = session.get(Drop, drop_id)
    if drop is None:
        raise NotFound()
    area = areas_services.get_community(session, drop.community_id)
    policy.require(actor, "drop:read", area)
    return drop, area


def drop_detail(session: Session, *, actor: policy.Actor, drop_id: int,
                lang: str | None = None) -> DropDetail:
    """The drill-in page of one drop (drop:read); texts in `lang` (zh or en)."""
    drop, area = drop_for(session, actor=actor, drop_id=drop_id)
    station = cast(Station, session.get(Station, drop.station_id))  # a foreign key
    hh = session.get(Household, drop.household_id) if drop.household_id else None
    recorder = session.get(Account, drop.recorded_by) if drop.recorded_by else None
    voider = session.get(Account, drop.voided_by) if drop.voided_by else None
    reason = None
    if drop.reason_code:
        found = reasons.describe(session, drop.community_id, {drop.reason_code}, lang=lang)
        reason = found[drop.reason_code].label if drop.reason_code in found else drop.reason_code
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
        reason=reason, voided_by=voider.display_name if voider else None,
    )


def drop_photo(session: Session, *, actor: policy.Actor, drop_id: int) -> str:
    """The stored photo path of a drop the actor may read; NotFound when it has none."""
    drop, _area = drop_for(session, actor=actor, drop_id=drop_id)
    if not drop.photo:
        raise NotFound()
    return drop.photo
