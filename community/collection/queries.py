"""Read models of collection: pickup schedules, the collector's day, a month's figures per
station (pickups, punctuality, kg, contamination) and the collectors' kg for the rates and
the area's tonnage. Collections are few (a visit per station and pickup), so these read the
collection tables directly, by (community, local day) index."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session, col

from community.areas import services as areas_services
from community.areas.models import Area
from community.auth import policy
from community.auth.models import Account
from community.collection import rules
from community.collection.models import (
    Collection,
    CollectionLine,
    PickupRange,
    PickupVersion,
    StationTag,
)
from community.stations import services as stations_services
from community.stations import windows
from community.stations.models import CATEGORIES, Station


def pickup_schedules(session: Session, station_ids: Iterable[int]) -> dict[int, windows.Schedule]:
    """Each station's pickup schedule with its versions, zone and opening history."""
    ids = set(station_ids)
    if not ids:
        return {}
    infos = stations_services.load_station_schedules(session, ids, set())
    versions: dict[int, dict[int, tuple[date, dict[int, list[tuple[time, time]]]]]] = {}
    for sid, vid, day, weekday, start, end in session.execute(
            select(col(PickupVersion.station_id), col(PickupVersion.id),
                   col(PickupVersion.effective_from), col(PickupRange.weekday),
                   col(PickupRange.start_time), col(PickupRange.end_time))
            .outerjoin(PickupRange, col(PickupRange.version_id) == PickupVersion.id)
            .where(col(PickupVersion.station_id).in_(ids))):
        _day, weekly = versions.setdefault(sid, {}).setdefault(vid, (day, {}))
        if weekday is not None:
            weekly.setdefault(weekday, []).append((start, end))
    out = {}
    for sid, info in infos.items():
        history = tuple(sorted(
            (windows.Version(day, {k: tuple(sorted(v)) for k, v in weekly.items()}, 0)
             for day, weekly in versions.get(sid, {}).values()),
            key=lambda v: v.effective_from))
        out[sid] = windows.Schedule({}, info.tz, history, info.schedule.status)
    return out


@dataclass
class StationRow:
    """A station a collector serves, with its community."""

    id: int
    name: str
    location: str
    community_id: int
    community_name: str
    categories: list[str]


def collector_stations(session: Session, *, actor: policy.Actor) -> list[StationRow]:
    """The stations of every community in the collector's street or district, in tree order."""
    communities = areas_services.communities_for(session, actor, "collection:record")
    if not communities:
        return []
    names = {c.id: c.name for c in communities}
    order = {c.id: n for n, c in enumerate(communities)}
    stations = session.execute(select(Station).where(
        col(Station.community_id).in_(list(names)))).scalars().all()
    stations = sorted(stations, key=lambda s: (order[s.community_id], s.name))
    return [StationRow(s.id or 0, s.name, s.location, s.community_id, names[s.community_id],
                       s.category_list()) for s in stations]


@dataclass
class DayStop:
    """One station on the collector's day: its pickup windows and the collections made."""

    station: StationRow
    windows: list[tuple[datetime, datetime]]
    collections: int
    contaminated_bins: int

    @property
    def done(self) -> bool:
        """Collected at least once that day."""
        return self.collections > 0


def collector_day(session: Session, *, actor: policy.Actor, day: date) -> list[DayStop]:
    """The collector's day: every station of their area with that day's pickup windows and
    whether it was collected (by anyone), stations with windows first, earliest first."""
    stations = collector_stations(session, actor=actor)
    if not stations:
        return []
    ids = [s.id for s in stations]
    schedules = pickup_schedules(session, ids)
    done = dict(session.execute(
        select(col(Collection.station_id), func.count())
        .where(col(Collection.community_id).in_({s.community_id for s in stations}),
               col(Collection.local_date) == day)
        .group_by(col(Collection.station_id))).all())
    dirty = dict(session.execute(
        select(col(CollectionLine.station_id), func.sum(col(CollectionLine.contaminated_bins)))
        .where(col(CollectionLine.community_id).in_({s.community_id for s in stations}),
               col(CollectionLine.local_date) == day)
        .group_by(col(CollectionLine.station_id))).all())
    stops = []
    for s in stations:
        sched = schedules.get(s.id)
        ws = [(w.start, w.end) for w in rules.pickup_windows(sched, day)] if sched else []
        stops.append(DayStop(s, ws, int(done.get(s.id, 0)), int(dirty.get(s.id) or 0)))
    far = datetime.max.replace(tzinfo=ZoneInfo("UTC"))
    return sorted(stops, key=lambda x: (not x.windows, x.windows[0][0] if x.windows else far))


@dataclass
class StationMonth:
    """One station's collection figures for a period."""

    station_id: int
    name: str
    community_name: str
    pickups: int = 0
    punctuality: rules.Punctuality = field(default_factory=lambda: rules.Punctuality(0, 0))
    bins: dict[str, int] = field(default_factory=dict)
    kg: dict[str, Decimal] = field(default_factory=dict)
    contaminated: dict[str, int] = field(default_factory=dict)

    @property
    def contaminated_total(self) -> int:
        """Contaminated bins of every category."""
        return sum(self.contaminated.values())


def period_figures(session: Session, community_ids: Sequence[int], first: date,
                   last: date, *, now: datetime | None = None) -> list[StationMonth]:
    """Per station of these communities over local days first..last: pickups, punctuality
    (windows ended by `now` only: a window not over yet is not missed yet), bins, kg and
    contaminated bins by category."""
    if not community_ids:
        return []
    rows = session.execute(
        select(col(Station.id), col(Station.name), col(Area.name))
        .join(Area, col(Area.id) == Station.community_id)
        .where(col(Station.community_id).in_(list(community_ids)))
        .order_by(col(Area.id), col(Station.name))).all()
    out = {sid: StationMonth(sid, name, cname) for sid, name, cname in rows}
    moments: dict[int, list[datetime]] = {}
    for sid, at in session.execute(
            select(col(Collection.station_id), col(Collection.happened_at))
            .where(col(Collection.community_id).in_(list(community_ids)),
                   col(Collection.local_date) >= first - timedelta(days=1),
                   col(Collection.local_date) <= last + timedelta(days=1))):
        moments.setdefault(sid, []).append(at)
    for sid, category, bins, kg, dirty in session.execute(
            select(col(CollectionLine.station_id), col(CollectionLine.category),
                   func.sum(col(CollectionLine.bins)), func.sum(col(CollectionLine.kg)),
                   func.sum(col(CollectionLine.contaminated_bins)))
            .where(col(CollectionLine.community_id).in_(list(community_ids)),
                   col(CollectionLine.local_date) >= first,
                   col(CollectionLine.local_date) <= last)
            .group_by(col(CollectionLine.station_id), col(CollectionLine.category))):
        row = out.get(sid)
        if row is None:
            continue
        row.bins[category] = int(bins or 0)
        row.kg[category] = Decimal(kg or 0)
        row.contaminated[category] = int(dirty or 0)
    for sid, n in session.execute(
            select(col(Collection.station_id), func.count())
            .where(col(Collection.community_id).in_(list(community_ids)),
                   col(Collection.local_date) >= first, col(Collection.local_date) <= last)
            .group_by(col(Collection.station_id))):
        if sid in out:
            out[sid].pickups = int(n)
    schedules = pickup_schedules(session, out)
    for sid, row in out.items():
        sched = schedules.get(sid)
        if sched is None:
            continue
        scheduled = [w for n in range((last - first).days + 1)
                     for w in rules.pickup_windows(sched, first + timedelta(days=n))
                     if now is None or w.end <= now]
        row.punctuality = rules.punctuality(scheduled, moments.get(sid, []))
    return list(out.values())


def station_day_kg(session: Session, community_ids: Sequence[int], first: date,
                   last: date) -> dict[tuple[int, int, date], dict[str, Decimal]]:
    """The collectors' kg by (community, station, local day) and category."""
    out: dict[tuple[int, int, date], dict[str, Decimal]] = {}
    if not community_ids:
        return out
    for cid, sid, day, category, kg in session.execute(
            select(col(CollectionLine.community_id), col(CollectionLine.station_id),
                   col(CollectionLine.local_date),
                   col(CollectionLine.category), func.sum(col(CollectionLine.kg)))
            .where(col(CollectionLine.community_id).in_(list(community_ids)),
                   col(CollectionLine.local_date) >= first,
                   col(CollectionLine.local_date) <= last)
            .group_by(col(CollectionLine.community_id), col(CollectionLine.station_id),
                      col(CollectionLine.local_date), col(CollectionLine.category))):
        out.setdefault((cid, sid, day), {})[category] = Decimal(kg or 0)
    return out


def contaminated_kitchen_bins(session: Session, community_ids: Sequence[int], first: date,
                              last: date) -> dict[int, int]:
    """收运端检出: contaminated kitchen bins per community over local days first..last."""
    if not community_ids:
        return {}
    return {c: int(n or 0) for c, n in session.execute(
        select(col(CollectionLine.community_id), func.sum(col(CollectionLine.contaminated_bins)))
        .where(col(CollectionLine.community_id).in_(list(community_ids)),
               col(CollectionLine.local_date) >= first, col(CollectionLine.local_date) <= last,
               col(CollectionLine.category) == "kitchen")
        .group_by(col(CollectionLine.community_id)))}


@dataclass(frozen=True)
class ContaminatedLine:
    """One category of a pickup found contaminated, with its photo, for the manager's list."""

    id: int
    local_date: date
    happened_at: datetime
    station: str
    category: str
    bins: int
    contaminated_bins: int
    has_photo: bool
    collector: str


def contaminated_lines(session: Session, community_id: int, first: date, last: date, *,
                       limit: int = 50) -> list[ContaminatedLine]:
    """The period's contaminated pickup lines of a community, newest first (at most `limit`)."""
    rows = session.execute(
        select(col(CollectionLine.id), col(CollectionLine.local_date),
               col(Collection.happened_at), col(Station.name), col(CollectionLine.category),
               col(CollectionLine.bins), col(CollectionLine.contaminated_bins),
               col(CollectionLine.photo), col(Account.display_name))
        .join(Collection, col(Collection.id) == CollectionLine.collection_id)
        .join(Station, col(Station.id) == CollectionLine.station_id)
        .join(Account, col(Account.id) == Collection.collector_id)
        .where(col(CollectionLine.community_id) == community_id,
               col(CollectionLine.local_date) >= first, col(CollectionLine.local_date) <= last,
               col(CollectionLine.contaminated_bins) > 0)
        .order_by(col(Collection.happened_at).desc(), col(CollectionLine.id).desc())
        .limit(limit)).all()
    return [ContaminatedLine(i, d, at, s, c, b, n, bool(p), who)
            for i, d, at, s, c, b, n, p, who in rows]


def contaminated_kitchen_by_station(session: Session, community_id: int, first: date,
                                    last: date) -> dict[int, int]:
    """收运端检出 per station of a community over local days first..last (kitchen bins)."""
    return {sid: int(n or 0) for sid, n in session.execute(
        select(col(CollectionLine.station_id), func.sum(col(CollectionLine.contaminated_bins)))
        .where(col(CollectionLine.community_id) == community_id,
               col(CollectionLine.local_date) >= first, col(CollectionLine.local_date) <= last,
               col(CollectionLine.category) == "kitchen")
        .group_by(col(CollectionLine.station_id)))}


def area_month_kg(session: Session, area: Area, first: date, last: date) -> dict[str, Decimal]:
    """The collectors' kg by category in every community under `area` over first..last: the
    pre-filled source of the area's monthly tonnage."""
    ids = [a.id for a in areas_services.areas_in_scopes(session, [area.path], level="community")]
    out = dict.fromkeys(CATEGORIES, Decimal(0))
    if not ids:
        return out
    for category, kg in session.execute(
            select(col(CollectionLine.category), func.sum(col(CollectionLine.kg)))
            .where(col(CollectionLine.community_id).in_(ids),
                   col(CollectionLine.local_date) >= first, col(CollectionLine.local_date) <= last)
            .group_by(col(CollectionLine.category))):
        out[category] = Decimal(kg or 0)
    return out


def community_stations(session: Session, community_id: int) -> list[Station]:
    """A community's stations by name."""
    return list(session.execute(select(Station).where(col(Station.community_id) == community_id)
                                .order_by(col(Station.name))).scalars().all())


def station_tags(session: Session, station_ids: Iterable[int]) -> dict[int, str]:
    """Station id → its collection QR token (stations without a printed tag are absent)."""
    ids = list(station_ids)
    if not ids:
        return {}
    return dict(session.execute(select(col(StationTag.station_id), col(StationTag.token))
                                .where(col(StationTag.station_id).in_(ids))).all())


def station_codes(session: Session, station_ids: Iterable[int]) -> dict[int, str]:
    """Station id → the short code printed under its collection QR (unformatted)."""
    ids = list(station_ids)
    if not ids:
        return {}
    return dict(session.execute(select(col(StationTag.station_id), col(StationTag.code))
                                .where(col(StationTag.station_id).in_(ids))).all())


def pickup_ranges_now(session: Session, station_ids: Iterable[int],
                      day: date) -> dict[int, list[tuple[int, time, time]]]:
    """Each station's pickup ranges in force on `day` as (weekday, start, end), for the
    managers' editor."""
    out: dict[int, list[tuple[int, time, time]]] = {}
    for sid, sched in pickup_schedules(session, station_ids).items():
        weekly = sched.weekly_on(day)
        out[sid] = [(wd, s, e) for wd in sorted(weekly) for s, e in weekly[wd]]
    return out


def recent_pickups(session: Session, station_ids: Iterable[int], since: datetime,
                   ) -> list[tuple[int, str, datetime]]:
    """(station, category, when) of the pickups at these stations since `since` (anyone's),
    for the pickup page's "collected at HH:MM, record another?" question."""
    ids = list(station_ids)
    if not ids:
        return []
    return [(int(sid), str(cat), at) for sid, cat, at in session.execute(
        select(col(CollectionLine.station_id), col(CollectionLine.category),
               col(Collection.happened_at))
        .join(Collection, col(Collection.id) == CollectionLine.collection_id)
        .where(col(CollectionLine.station_id).in_(ids),
               col(Collection.happened_at) >= since)).all()]
