"""What the shift pages show: a steward's shifts and the open ones, the managers' roster,
one shift with its stewards, the coverage calendar and the at-risk list, and the iCal feed.

Read-only use cases: they authorize and load, never write (the calendar key a steward's
first visit creates is made by `services.calendar_keys`, which the page calls first).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session, col

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.auth import policy
from community.auth.models import Account
from community.errors import NotFound
from community.rows import pk
from community.stations.models import Station
from community.volunteers.models import Shift, ShiftAssignment, Steward
from community.volunteers.shifts import rules

OPEN_DAYS = 14            # how far ahead a steward sees open shifts
RECENT_DAYS = 30          # how far back "My shifts" lists past ones
AT_RISK_HOURS = 48
FEED_PAST_DAYS = 60       # how far back the calendar feed reaches
FEED_LIMIT = 500


def _tz(area: Area) -> ZoneInfo:
    return ZoneInfo(area.timezone)


def _signed(session: Session, shift_ids: Sequence[int]) -> dict[int, int]:
    """Stewards holding a place, per shift."""
    if not shift_ids:
        return {}
    return dict(session.execute(
        select(col(ShiftAssignment.shift_id), func.count()).where(
            col(ShiftAssignment.shift_id).in_(shift_ids),
            col(ShiftAssignment.status).in_(rules.ACTIVE))
        .group_by(col(ShiftAssignment.shift_id))).all())


def _presences(session: Session, shift_ids: Sequence[int]) -> dict[int, list[rules.Presence]]:
    """Check-ins (and check-outs) per shift, for coverage."""
    out: dict[int, list[rules.Presence]] = {}
    if not shift_ids:
        return out
    for shift_id, came, left in session.execute(
            select(col(ShiftAssignment.shift_id), col(ShiftAssignment.checked_in_at),
                   col(ShiftAssignment.checked_out_at)).where(
                col(ShiftAssignment.shift_id).in_(shift_ids),
                col(ShiftAssignment.status) != "cancelled",
                col(ShiftAssignment.checked_in_at).is_not(None))).all():
        out.setdefault(shift_id, []).append(rules.Presence(came, left))
    return out


def _states(session: Session, rows: Sequence[Shift], now: datetime) -> dict[int, rules.ShiftState]:
    ids = [pk(s) for s in rows if s.status == "open"]
    signed = _signed(session, ids)
    presences = _presences(session, ids)
    return {pk(s): rules.shift_state(s.starts_at, s.ends_at, s.needed, signed.get(pk(s), 0),
                                     presences.get(pk(s), []), now)
            for s in rows if s.status == "open"}


# --- The steward's phone pages ------------------------------------------------------------

@dataclass
class MyShift:
    """One of the steward's assignments with its shift, station and local times."""

    assignment: ShiftAssignment
    shift: Shift
    station_name: str
    community: Area
    can_cancel: bool = False

    @property
    def start(self) -> datetime:
        """Local start."""
        return self.shift.starts_at.astimezone(_tz(self.community))

    @property
    def end(self) -> datetime:
        """Local end."""
        return self.shift.ends_at.astimezone(_tz(self.community))


@dataclass
class MyShifts:
    """The steward's upcoming shifts (soonest first) and recent ones (latest first)."""

    stewards: list[tuple[Steward, Area]]
    upcoming: list[MyShift] = field(default_factory=list)
    recent: list[MyShift] = field(default_factory=list)


def steward_rows(session: Session, *, account_id: int) -> list[tuple[Steward, Area]]:
    """The account's approved steward rows with their communities, oldest first."""
    rows = session.execute(
        select(Steward, Area).join(Area, col(Area.id) == Steward.community_id)
        .where(col(Steward.account_id) == account_id, col(Steward.status) == "approved")
        .order_by(col(Steward.id))).all()
    return [(s, a) for s, a in rows]


def my_shifts(session: Session, *, account_id: int, now: datetime) -> MyShifts:
    """The account's steward rows and assignments, upcoming then recent.

    The calendar keys the page links to are made beforehand (`services.calendar_keys`).
    """
    stewards = steward_rows(session, account_id=account_id)
    out = MyShifts(stewards)
    if not stewards:
        return out
    areas = {a.id: a for _s, a in stewards}
    rows = session.execute(
        select(ShiftAssignment, Shift, col(Station.name))
        .join(Shift, col(Shift.id) == ShiftAssignment.shift_id)
        .join(Station, col(Station.id) == Shift.station_id)
        .where(col(ShiftAssignment.steward_id).in_([s.id for s, _a in stewards]),
               col(ShiftAssignment.status) != "cancelled",
               col(Shift.ends_at) > now - timedelta(days=RECENT_DAYS))
        .order_by(col(Shift.starts_at))).all()
    for a, s, name in rows:
        item = MyShift(a, s, name, areas[s.community_id])
        if s.ends_at > now:
            item.can_cancel = (a.status == "signed_up" and a.checked_in_at is None
                               and s.status == "open"
                               and now < s.starts_at - rules.SIGNUP_CUTOFF)
            out.upcoming.append(item)
        else:
            out.recent.append(item)
    out.recent.reverse()
    return out


@dataclass
class OpenShift:
    """A shift a steward could take: free places, and whether sign-up is still open."""

    shift: Shift
    station_name: str
    community: Area
    signed_up: int
    mine: bool
    bookable: bool

    @property
    def free(self) -> int:
        """Places left."""
        return max(0, self.shift.needed - self.signed_up)

    @property
    def start(self) -> datetime:
        """Local start."""
        return self.shift.starts_at.astimezone(_tz(self.community))

    @property
    def end(self) -> datetime:
        """Local end."""
        return self.shift.ends_at.astimezone(_tz(self.community))


@dataclass
class OpenShifts:
    """Open shifts of the steward's communities for the next two weeks, by local date."""

    is_steward: bool
    days: list[tuple[date, list[OpenShift]]] = field(default_factory=list)
    # The filter's choices and what was chosen (station id; free places only; fits my
    # availability only), and how many shifts the filters left out.
    stations: list[tuple[int, str]] = field(default_factory=list)
    station_id: int | None = None
    free_only: bool = False
    fits_only: bool = False
    hidden: int = 0


def open_shifts(session: Session, *, account_id: int, now: datetime,
                days: int = OPEN_DAYS, station_id: int | None = None,
                free_only: bool = False, fits_only: bool = False) -> OpenShifts:
    """Shifts starting in the next `days` days in the communities where the account stewards,
    by local day; optionally one station's, only those with free places, only those inside
    the steward's weekly availability."""
    stewards = list(session.execute(
        select(Steward, Area).join(Area, col(Area.id) == Steward.community_id)
        .where(col(Steward.account_id) == account_id,
               col(Steward.status) == "approved")).all())
    if not stewards:
        return OpenShifts(False)
    areas = {a.id: a for _s, a in stewards}
    rows = list(session.execute(
        select(Shift, col(Station.name)).join(Station, col(Station.id) == Shift.station_id)
        .where(col(Shift.community_id).in_(list(areas)), col(Shift.status) == "open",
               col(Shift.starts_at) > now, col(Shift.starts_at) <= now + timedelta(days=days))
        .order_by(col(Shift.starts_at), col(Station.name))).all())
    ids = [s.id for s, _n in rows]
    signed = _signed(session, ids)
    mine = set(session.execute(select(col(ShiftAssignment.shift_id)).where(
        col(ShiftAssignment.shift_id).in_(ids),
        col(ShiftAssignment.steward_id).in_([s.id for s, _a in stewards]),
        col(ShiftAssignment.status).in_(rules.ACTIVE))).scalars()) if ids else set()
    out = OpenShifts(True, station_id=station_id, free_only=free_only, fits_only=fits_only)
    out.stations = sorted({(s.station_id, name) for s, name in rows}, key=lambda x: x[1])
    available = {st.community_id: st.availability or [] for st, _a in stewards}
    by_day: dict[date, list[OpenShift]] = {}
    for s, name in rows:
        n = signed.get(s.id, 0)
        item = OpenShift(s, name, areas[s.community_id], n, s.id in mine,
                         now < s.starts_at - rules.SIGNUP_CUTOFF and n < s.needed)
        if ((station_id is not None and s.station_id != station_id)
                or (free_only and item.free == 0 and not item.mine)
                or (fits_only and not rules.fits_availability(
                    available.get(s.community_id, []), item.start, item.end))):
            out.hidden += 1
            continue
        by_day.setdefault(item.start.date(), []).append(item)
    out.days = sorted(by_day.items())
    return out


# --- The iCal feed ------------------------------------------------------------------------

@dataclass
class FeedEvent:
    """One shift of the steward, as the calendar feed shows it."""

    shift: Shift
    station_name: str
    location: str
    cancelled: bool


@dataclass
class Feed:
    """A steward's calendar: whose it is and the events."""

    steward: Steward
    community: Area
    events: list[FeedEvent]


def steward_by_key(session: Session, key: str) -> tuple[Steward, Area]:
    """The approved steward a calendar key belongs to (NotFound for an unknown or old key)."""
    if not key or len(key) > 64:
        raise NotFound()
    row = session.execute(
        select(Steward, Area).join(Area, col(Area.id) == Steward.community_id)
        .where(col(Steward.calendar_key) == key, col(Steward.status) == "approved")).first()
    if row is None:
        raise NotFound()
    return row[0], row[1]


def calendar_feed(session: Session, *, key: str, now: datetime) -> Feed:
    """The shifts of the steward owning `key`, from 60 days back; cancelled ones marked."""
    steward, area = steward_by_key(session, key)
    rows = session.execute(
        select(col(ShiftAssignment.status), Shift, col(Station.name), col(Station.location))
        .join(Shift, col(Shift.id) == ShiftAssignment.shift_id)
        .join(Station, col(Station.id) == Shift.station_id)
        .where(col(ShiftAssignment.steward_id) == steward.id,
               col(Shift.starts_at) >= now - timedelta(days=FEED_PAST_DAYS))
        .order_by(col(Shift.starts_at)).limit(FEED_LIMIT)).all()
    return Feed(steward, area, [
        FeedEvent(s, name, location, status == "cancelled" or s.status == "cancelled")
        for status, s, name, location in rows])


# --- Managers: roster and one shift -------------------------------------------------------

@dataclass
class RosterShift:
    """A shift in the roster with its stewards (display names) and coverage state."""

    shift: Shift
    station_name: str
    stewards: list[tuple[ShiftAssignment, str]]
    state: rules.ShiftState | None


@dataclass
class Roster:
    """One week of a community's shifts, by day and station."""

    communities: list[Area]
    community: Area
    stations: list[Station]
    station_id: int | None
    week: date
    days: list[tuple[date, list[RosterShift]]]

    @property
    def prev_week(self) -> date:
        """The Monday before."""
        return self.week - timedelta(days=7)

    @property
    def next_week(self) -> date:
        """The Monday after."""
        return self.week + timedelta(days=7)


def _week(area: Area, week: date | None, now: datetime) -> date:
    return rules.week_start(week or clock.local_today(area.timezone, now))


def _steward_names(session: Session, shift_ids: Sequence[int]
                   ) -> dict[int, list[tuple[ShiftAssignment, str]]]:
    out: dict[int, list[tuple[ShiftAssignment, str]]] = {}
    if not shift_ids:
        return out
    for a, name in session.execute(
            select(ShiftAssignment, col(Account.display_name))
            .join(Steward, col(Steward.id) == ShiftAssignment.steward_id)
            .join(Account, col(Account.id) == Steward.account_id)
            .where(col(ShiftAssignment.shift_id).in_(shift_ids),
                   col(ShiftAssignment.status).in_(rules.ACTIVE))
            .order_by(col(ShiftAssignment.id))).all():
        out.setdefault(a.shift_id, []).append((a, name))
    return out


def roster(session: Session, *, actor: policy.Actor, community_id: int | None,
           week: date | None, station_id: int | None, now: datetime) -> Roster:
    """A week of shifts (Monday to Sunday, local) with their stewards (steward:manage)."""
    area = areas_services.community_for(session, actor=actor, community_id=community_id,
                                        action="steward:manage")
    monday = _week(area, week, now)
    stations = list(session.execute(select(Station).where(
        col(Station.community_id) == area.id).order_by(col(Station.name))).scalars())
    if station_id not in {s.id for s in stations}:
        station_id = None
    stmt = (select(Shift, col(Station.name)).join(Station, col(Station.id) == Shift.station_id)
            .where(col(Shift.community_id) == area.id,
                   col(Shift.local_date).between(monday, monday + timedelta(days=6)))
            .order_by(col(Shift.local_date), col(Shift.starts_at), col(Station.name)))
    if station_id is not None:
        stmt = stmt.where(col(Shift.station_id) == station_id)
    rows = list(session.execute(stmt).all())
    states = _states(session, [s for s, _n in rows], now)
    names = _steward_names(session, [s.id for s, _n in rows])
    by_day: dict[date, list[RosterShift]] = {monday + timedelta(days=i): [] for i in range(7)}
    for s, name in rows:
        by_day[s.local_date].append(RosterShift(s, name, names.get(s.id, []), states.get(s.id)))
    return Roster(areas_services.communities_for(session, actor, "steward:manage"), area,
                  stations, station_id, monday, sorted(by_day.items()))


@dataclass
class ShiftDetail:
    """One shift for its manager: stewards on it, who could be assigned, its state."""

    shift: Shift
    station: Station
    community: Area
    stewards: list[tuple[ShiftAssignment, str]]
    candidates: list[tuple[Steward, str]]
    state: rules.ShiftState | None

    @property
    def start(self) -> datetime:
        """Local start."""
        return self.shift.starts_at.astimezone(_tz(self.community))

    @property
    def end(self) -> datetime:
        """Local end."""
        return self.shift.ends_at.astimezone(_tz(self.community))


def shift_detail(session: Session, *, actor: policy.Actor, shift_id: int,
                 now: datetime) -> ShiftDetail:
    """One shift with its stewards and the approved stewards who could be assigned."""
    shift = session.get(Shift, shift_id)
    if shift is None:
        raise NotFound()
    area = areas_services.community_for(session, actor=actor, community_id=shift.community_id,
                                        action="steward:manage")
    station = session.get(Station, shift.station_id)
    if station is None:  # a foreign key: only a concurrent delete could get here
        raise NotFound()
    on_it = _steward_names(session, [shift_id]).get(shift_id, [])
    taken = {a.steward_id for a, _n in on_it}
    candidates = [(s, name) for s, name in session.execute(
        select(Steward, col(Account.display_name))
        .join(Account, col(Account.id) == Steward.account_id)
        .where(col(Steward.community_id) == area.id, col(Steward.status) == "approved")
        .order_by(col(Account.display_name), col(Steward.id))).all() if s.id not in taken]
    return ShiftDetail(shift, station, area, on_it, candidates,
                       _states(session, [shift], now).get(shift_id))


# --- Managers: coverage calendar and at-risk list ----------------------------------------

@dataclass
class CoverageCell:
    """The shifts of one station on one day, each with its state."""

    day: date
    shifts: list[tuple[Shift, rules.ShiftState]]


@dataclass
class CoverageRow:
    """One station across the week."""

    station: Station
    cells: list[CoverageCell]


@dataclass
class CoverageWeek:
    """The coverage calendar: rows stations, columns the days of one week, and the rate."""

    communities: list[Area]
    community: Area
    week: date
    days: list[date]
    rows: list[CoverageRow]
    rate: rules.Rate

    @property
    def prev_week(self) -> date:
        """The Monday before."""
        return self.week - timedelta(days=7)

    @property
    def next_week(self) -> date:
        """The Monday after."""
        return self.week + timedelta(days=7)


def coverage_week(session: Session, *, actor: policy.Actor, community_id: int | None,
                  week: date | None, now: datetime) -> CoverageWeek:
    """Each open shift of a week, staffed or not (DOMAIN.md), and the week's coverage rate."""
    area = areas_services.community_for(session, actor=actor, community_id=community_id,
                                        action="steward:manage")
    monday = _week(area, week, now)
    days = [monday + timedelta(days=i) for i in range(7)]
    stations = list(session.execute(select(Station).where(
        col(Station.community_id) == area.id).order_by(col(Station.name))).scalars())
    rows = list(session.execute(select(Shift).where(
        col(Shift.community_id) == area.id, col(Shift.status) == "open",
        col(Shift.local_date).between(days[0], days[-1]))
        .order_by(col(Shift.starts_at))).scalars())
    states = _states(session, rows, now)
    grid: dict[tuple[int, date], list[tuple[Shift, rules.ShiftState]]] = {}
    for s in rows:
        grid.setdefault((s.station_id, s.local_date), []).append((s, states[s.id]))
    return CoverageWeek(
        areas_services.communities_for(session, actor, "steward:manage"), area, monday, days,
        [CoverageRow(st, [CoverageCell(d, grid.get((st.id, d), [])) for d in days])
         for st in stations],
        rules.coverage_rate(states.values()))


@dataclass
class AtRisk:
    """Open shifts starting in the next 48 hours with fewer stewards than needed."""

    communities: list[Area]
    community: Area
    rows: list[tuple[Shift, str, rules.ShiftState]]


def at_risk(session: Session, *, actor: policy.Actor, community_id: int | None,
            now: datetime) -> AtRisk:
    """The at-risk list of one community (steward:manage), soonest first."""
    area = areas_services.community_for(session, actor=actor, community_id=community_id,
                                        action="steward:manage")
    rows = list(session.execute(
        select(Shift, col(Station.name)).join(Station, col(Station.id) == Shift.station_id)
        .where(col(Shift.community_id) == area.id, col(Shift.status) == "open",
               col(Shift.starts_at) > now,
               col(Shift.starts_at) <= now + timedelta(hours=AT_RISK_HOURS))
        .order_by(col(Shift.starts_at), col(Station.name))).all())
    states = _states(session, [s for s, _n in rows], now)
    return AtRisk(areas_services.communities_for(session, actor, "steward:manage"), area,
                  [(s, name, states[s.id]) for s, name in rows
                   if rules.needs_help(states[s.id])])
