"""What the check-in pages show: the steward's shifts around now, a station's code and the
chief's page, a supervision log with the drops linked to the shift, and the managers'
no-shows and shift detail.

Read-only: these authorize and load, never write. The write use cases (check-in, check-out,
confirming presence, saving a log) are in `services`, which loads through the helpers here
(`check_in_open`, `check_out_open`, `station_for`, `log_context`).

No-shows are listed by local week (Monday to Sunday, the shifts' stored local dates) and
optionally one station, for one community (steward:manage). A shift's detail shows its
stewards with their actual times and how they checked in and out, their logs and the drops
they recorded during the shift (steward:read: managers and the community's station chiefs).

"Drops linked to a shift" are a query, not a column on the hot drop table: the drops the
steward's account recorded at the shift's station between check-in and check-out.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.auth import policy
from community.auth import services as auth_services
from community.auth.models import Account
from community.errors import Forbidden, NotFound
from community.households import services as households_services
from community.households.models import Household
from community.rows import pk, table_of
from community.stations import duty
from community.stations.models import Drop, Station
from community.volunteers.checkins import codes
from community.volunteers.checkins.rules import CHECK_IN_EARLY, CHECK_OUT_LATE
from community.volunteers.models import Shift, ShiftAssignment, Steward, SupervisionLog
from community.web.pagination import Page, paginate


@dataclass
class ShiftRow:
    """An assignment with its shift, station and the community's time zone."""

    assignment: ShiftAssignment
    shift: Shift
    station_name: str
    tz: str

    def local(self, moment: datetime | None) -> datetime | None:
        """A stored UTC moment in the community's local time."""
        return moment.astimezone(ZoneInfo(self.tz)) if moment else None


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


def _mine(account_id: int | None):
    """Base query: the actor's active assignments on open shifts, with station and zone."""
    return (
        select(ShiftAssignment, Shift, col(Station.name), col(Area.timezone))
        .join(Shift, col(Shift.id) == ShiftAssignment.shift_id)
        .join(Steward, col(Steward.id) == ShiftAssignment.steward_id)
        .join(Station, col(Station.id) == Shift.station_id)
        .join(Area, col(Area.id) == Shift.community_id)
        .where(col(Steward.account_id) == account_id, col(Steward.status) == "approved",
               col(ShiftAssignment.status) == "signed_up", col(Shift.status) == "open")
        .order_by(col(Shift.starts_at), col(ShiftAssignment.id))
    )


def _rows(session: Session, stmt) -> list[ShiftRow]:
    return [ShiftRow(a, s, name, tz) for a, s, name, tz in session.execute(stmt).all()]


def check_in_open(session: Session, account_id: int | None, now: datetime) -> list[ShiftRow]:
    """Assignments not yet checked in whose check-in period contains `now`."""
    return _rows(session, _mine(account_id).where(
        col(Shift.starts_at) <= now + CHECK_IN_EARLY, col(Shift.ends_at) >= now))


def check_out_open(session: Session, account_id: int | None, now: datetime) -> list[ShiftRow]:
    """Checked-in assignments that may still be checked out at `now`."""
    return _rows(session, _mine(account_id).where(
        col(ShiftAssignment.checked_in_at).is_not(None),
        col(ShiftAssignment.checked_out_at).is_(None),
        col(ShiftAssignment.checked_in_at) <= now,
        col(Shift.ends_at) >= now - CHECK_OUT_LATE))


# --- The steward's check-in page ---------------------------------------------------------

@dataclass
class CheckInPage:
    """What the steward's check-in page shows: shifts to check in to or out of, and the next."""

    checked_in: list[ShiftRow]
    due: list[ShiftRow]
    next_shift: ShiftRow | None

    @property
    def mode(self) -> str:
        """"out" when a shift is waiting for check-out, else "in"."""
        return "out" if self.checked_in else "in"


def check_in_page(session: Session, *, actor: policy.Actor,
                  now: datetime | None = None) -> CheckInPage:
    """The acting steward's shifts around now (no authorization needed: only their own)."""
    now = _now(now)
    checked_in = check_out_open(session, actor.account_id, now)
    due = [r for r in check_in_open(session, actor.account_id, now)
           if r.assignment.checked_in_at is None]
    later = _rows(session, _mine(actor.account_id).where(
        col(Shift.starts_at) > now + CHECK_IN_EARLY).limit(1))
    return CheckInPage(checked_in, due, later[0] if later else None)


# --- Stations a chief or manager runs: code display and the chief's page -----------------

def _may_run(actor: policy.Actor, station: Station, area: Area) -> bool:
    """The station's own chief, or a manager/admin of its community."""
    if policy.allowed(actor, "steward:manage", area):
        return True
    return (station.chief_id is not None and station.chief_id == actor.account_id
            and policy.allowed(actor, "shift:confirm", area))


def station_for(session: Session, *, actor: policy.Actor, station_id: int) -> tuple[Station, Area]:
    """A station and its community, if the actor is its chief or manages the community."""
    station = session.get(Station, station_id)
    if station is None:
        raise NotFound()
    area = session.get(Area, station.community_id)
    if area is None:
        raise NotFound()
    if not _may_run(actor, station, area):
        raise Forbidden(action="shift:confirm")
    return station, area


@dataclass
class CodeView:
    """A station's current code as the display page and its JSON show it."""

    station: Station
    community: Area
    code: codes.StationCode
    seconds_left: int


def station_code(session: Session, *, actor: policy.Actor, station_id: int, key: bytes,
                 now: datetime | None = None) -> CodeView:
    """The code a station shows now (its chief, or managers of its community)."""
    now = _now(now)
    station, area = station_for(session, actor=actor, station_id=station_id)
    code = codes.current(key, pk(station), now)
    return CodeView(station, area, code, code.seconds_left(now))


@dataclass
class RunnableStations:
    """Stations whose code and chief's page the actor may open."""

    community: Area | None
    communities: list[Area]
    stations: list[Station]


def runnable_stations(session: Session, *, actor: policy.Actor,
                      community_id: int | None) -> RunnableStations:
    """The stations the actor is chief of, plus (for managers) one community's stations."""
    communities = areas_services.communities_for(session, actor, "steward:manage")
    community = None
    if communities or community_id is not None:
        community = areas_services.community_for(session, actor=actor, community_id=community_id,
                                                 action="steward:manage")
    cond = col(Station.chief_id) == actor.account_id
    if community is not None:
        cond = or_(cond, col(Station.community_id) == community.id)
    candidates = session.execute(select(Station, Area).join(
        Area, col(Area.id) == Station.community_id).where(cond)
        .order_by(col(Station.community_id), col(Station.name))).all()
    return RunnableStations(community, communities,
                            [s for s, a in candidates if _may_run(actor, s, a)])


@dataclass
class Attendance:
    """One steward on one shift, as the chief's and manager's pages list them."""

    assignment: ShiftAssignment
    steward_name: str
    steward_account_id: int
    confirmed_by_name: str | None
    can_confirm: bool


@dataclass
class ShiftAttendance:
    """A shift with its stewards."""

    shift: Shift
    people: list[Attendance]


@dataclass
class StationToday:
    """The chief's page: today's shifts of a station with their stewards."""

    station: Station
    community: Area
    day: date
    shifts: list[ShiftAttendance]

    def local(self, moment: datetime | None) -> datetime | None:
        """A stored UTC moment in the community's local time."""
        return moment.astimezone(ZoneInfo(self.community.timezone)) if moment else None


def _confirmable(shift: Shift, assignment: ShiftAssignment, now: datetime) -> bool:
    return (assignment.status == "signed_up" and assignment.checked_in_at is None
            and shift.status == "open"
            and shift.starts_at - CHECK_IN_EARLY <= now <= shift.ends_at)


def attendance(session: Session, shifts: list[Shift], now: datetime) -> list[ShiftAttendance]:
    """The stewards of each shift (cancelled sign-ups left out), with display names."""
    if not shifts:
        return []
    confirmer = table_of(Account).alias("confirmer")
    rows = session.execute(
        select(ShiftAssignment, col(Account.display_name), col(Account.id),
               confirmer.c.display_name)
        .join(Steward, col(Steward.id) == ShiftAssignment.steward_id)
        .join(Account, col(Account.id) == Steward.account_id)
        .outerjoin(confirmer, confirmer.c.id == ShiftAssignment.confirmed_by)
        .where(col(ShiftAssignment.shift_id).in_([s.id for s in shifts]),
               col(ShiftAssignment.status) != "cancelled")
        .order_by(col(Account.display_name), col(ShiftAssignment.id))).all()
    by_shift: dict[int, list[Attendance]] = {pk(s): [] for s in shifts}
    shift_of = {s.id: s for s in shifts}
    for a, name, account_id, confirmed in rows:
        by_shift[a.shift_id].append(Attendance(a, name, account_id, confirmed,
                                               _confirmable(shift_of[a.shift_id], a, now)))
    return [ShiftAttendance(s, by_shift[pk(s)]) for s in shifts]


def station_today(session: Session, *, actor: policy.Actor, station_id: int,
                  now: datetime | None = None) -> StationToday:
    """Today's shifts (local date) of a station, and any still running from yesterday."""
    now = _now(now)
    station, area = station_for(session, actor=actor, station_id=station_id)
    day = clock.local_today(area.timezone, now)
    start = datetime.combine(day, time(0), tzinfo=ZoneInfo(area.timezone))
    end = start + timedelta(days=1)
    shifts = list(session.execute(select(Shift).where(
        col(Shift.station_id) == station.id, col(Shift.status) == "open",
        col(Shift.ends_at) > start, col(Shift.starts_at) < end)
        .order_by(col(Shift.starts_at))).scalars())
    return StationToday(station, area, day, attendance(session, shifts, now))


# --- Supervision logs --------------------------------------------------------------------

LINKED_DROPS_SHOWN = 50


@dataclass
class LinkedDrop:
    """One drop the steward recorded during the shift."""

    id: int
    happened_at: datetime
    category: str
    quality: str
    source: str
    address: str | None
    voided: bool = False  # undone by the steward: listed (it happened), counted nowhere


@dataclass
class LinkedDrops:
    """How many drops the steward recorded during the shift (undone ones not counted), and
    the latest of them (undone ones listed, marked)."""

    count: int
    rows: list[LinkedDrop]
    undone: int = 0  # the steward's scans of the shift they undid

    @property
    def total(self) -> int:
        """Every scan of the shift, undone ones too (what `rows` is the latest of)."""
        return self.count + self.undone


@dataclass
class LogContext:
    """An assignment with everything the log pages need to authorize and show it."""

    assignment: ShiftAssignment
    shift: Shift
    steward: Steward
    station: Station
    community: Area
    log: SupervisionLog | None

    def local(self, moment: datetime | None) -> datetime | None:
        """A stored UTC moment in the community's local time."""
        return moment.astimezone(ZoneInfo(self.community.timezone)) if moment else None


@dataclass
class LogPage:
    """The log page: the context, the linked drops and whether the actor may edit."""

    ctx: LogContext
    drops: LinkedDrops
    own: bool
    editable: bool


def log_context(session: Session, assignment_id: int) -> LogContext:
    """An assignment with its shift, steward, station, community and log (NotFound)."""
    row = session.execute(
        select(ShiftAssignment, Shift, Steward, Station, Area)
        .join(Shift, col(Shift.id) == ShiftAssignment.shift_id)
        .join(Steward, col(Steward.id) == ShiftAssignment.steward_id)
        .join(Station, col(Station.id) == Shift.station_id)
        .join(Area, col(Area.id) == Shift.community_id)
        .where(col(ShiftAssignment.id) == assignment_id)).first()
    if row is None:
        raise NotFound()
    log = session.execute(select(SupervisionLog).where(
        col(SupervisionLog.assignment_id) == assignment_id)
        .execution_options(populate_existing=True)).scalar_one_or_none()
    assignment, shift, steward, station, community = row
    return LogContext(assignment, shift, steward, station, community, log)


def owns_log(actor: policy.Actor, ctx: LogContext) -> bool:
    """Whether the actor is the assignment's steward (the only one who writes the log)."""
    return actor.account_id is not None and ctx.steward.account_id == actor.account_id


def _may_read(actor: policy.Actor, ctx: LogContext) -> bool:
    """The steward, the community's chiefs and managers (steward:read)."""
    return owns_log(actor, ctx) or policy.allowed(actor, "steward:read", ctx.community)


def log_editable(ctx: LogContext) -> bool:
    """Whether the log is open: checked in, not cancelled or missed, hours not approved."""
    a = ctx.assignment
    return (a.checked_in_at is not None and a.status in ("signed_up", "done")
            and a.hours_status != "approved")


def linked_drops(session: Session, *, assignment: ShiftAssignment, shift: Shift,
                 account_id: int, now: datetime | None = None,
                 limit: int = LINKED_DROPS_SHOWN) -> LinkedDrops:
    """Drops `account_id` recorded at the shift's station between check-in and check-out.

    Before check-out the period runs to now (at most 15 minutes past the shift's end).
    Uses the (station_id, happened_at) index of the drop table.
    """
    if assignment.checked_in_at is None:
        return LinkedDrops(0, [])
    until = assignment.checked_out_at or min(now or clock.now(), shift.ends_at + CHECK_OUT_LATE)
    conds = (col(Drop.station_id) == shift.station_id,
             col(Drop.happened_at) >= assignment.checked_in_at,
             col(Drop.happened_at) <= until,
             col(Drop.recorded_by) == account_id)
    undone = col(Drop.voided_at).is_not(None)
    count, voided = session.execute(
        select(func.count(), func.count().filter(undone)).select_from(Drop).where(*conds)).one()
    rows = session.execute(
        select(col(Drop.id), col(Drop.happened_at), col(Drop.category), col(Drop.quality),
               col(Drop.source), col(Household.building), col(Household.unit),
               col(Household.room), undone.label("voided"))
        .outerjoin(Household, col(Household.id) == Drop.household_id)
        .where(*conds).order_by(col(Drop.happened_at).desc(), col(Drop.id).desc())
        .limit(limit)).all()
    return LinkedDrops(int(count) - int(voided), [
        LinkedDrop(r.id, r.happened_at, r.category, r.quality, r.source,
                   households_services.format_address(r.building, r.unit, r.room)
                   if r.building is not None else None, bool(r.voided))
        for r in rows], int(voided))


def log_page(session: Session, *, actor: policy.Actor, assignment_id: int,
             now: datetime | None = None) -> LogPage:
    """A shift's log as its steward (editable) or the community's chiefs/managers see it."""
    ctx = log_context(session, assignment_id)
    if not _may_read(actor, ctx):
        raise Forbidden(action="steward:read")
    own = owns_log(actor, ctx)
    drops = linked_drops(session, assignment=ctx.assignment, shift=ctx.shift,
                         account_id=ctx.steward.account_id, now=now)
    return LogPage(ctx, drops, own, own and log_editable(ctx))


def log_photo(session: Session, *, actor: policy.Actor, assignment_id: int, name: str) -> str:
    """The stored path of one photo of a log, for those who may read the log."""
    ctx = log_context(session, assignment_id)
    if not _may_read(actor, ctx):
        raise Forbidden(action="steward:read")
    for path in ctx.log.photos if ctx.log else []:
        if path.rsplit("/", 1)[-1] == name:
            return path
    raise NotFound()


# --- Managers: no-shows and a shift's detail ---------------------------------------------

def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


@dataclass
class NoShowRow:
    """One missed shift of one steward."""

    assignment_id: int
    shift_id: int
    local_date: date
    starts_at: datetime
    ends_at: datetime
    station_name: str
    steward_name: str
    phone: str


@dataclass
class NoShowList:
    """The no-shows page: the filter as applied, the station choices and one page of rows."""

    community: Area
    communities: list[Area]
    stations: list[Station]
    week: date
    station_id: int | None
    page: Page

    @property
    def week_end(self) -> date:
        """The Sunday of the week shown."""
        return self.week + timedelta(days=6)

    @property
    def prev_week(self) -> date:
        """The Monday before."""
        return self.week - timedelta(days=7)

    @property
    def next_week(self) -> date:
        """The Monday after."""
        return self.week + timedelta(days=7)

    def local(self, moment: datetime) -> datetime:
        """A stored UTC moment in the community's local time."""
        return moment.astimezone(ZoneInfo(self.community.timezone))


def list_no_shows(session: Session, *, actor: policy.Actor, community_id: int | None,
                  week: date | None = None, station_id: int | None = None, page: int = 1,
                  per_page: int = 50, now: datetime | None = None) -> NoShowList:
    """A community's no-shows in one local week (default: this week), optionally one station."""
    community = areas_services.community_for(session, actor=actor, community_id=community_id,
                                             action="steward:manage")
    communities = areas_services.communities_for(session, actor, "steward:manage")
    today = clock.local_today(community.timezone, now)
    monday = week_start(week or today)
    stations = list(session.execute(select(Station).where(
        col(Station.community_id) == community.id).order_by(col(Station.name))).scalars())
    if station_id is not None and station_id not in {s.id for s in stations}:
        station_id = None  # a filter of another community is junk: show the whole community
    stmt = (
        select(col(ShiftAssignment.id), col(Shift.id), col(Shift.local_date), col(Shift.starts_at),
               col(Shift.ends_at), col(Station.name), col(Account.display_name),
               col(Account.phone))
        .join(Shift, col(Shift.id) == ShiftAssignment.shift_id)
        .join(Station, col(Station.id) == Shift.station_id)
        .join(Steward, col(Steward.id) == ShiftAssignment.steward_id)
        .join(Account, col(Account.id) == Steward.account_id)
        .where(col(Shift.community_id) == community.id,
               col(ShiftAssignment.status) == "no_show",
               col(Shift.local_date) >= monday,
               col(Shift.local_date) <= monday + timedelta(days=6))
        .order_by(col(Shift.starts_at), col(Station.name), col(Account.display_name)))
    if station_id is not None:
        stmt = stmt.where(col(Shift.station_id) == station_id)
    result = paginate(session, stmt, page=page, per_page=per_page)
    result.items = [NoShowRow(a, s, day, start, end, station, name, auth_services.mask_phone(phone))
                    for a, s, day, start, end, station, name, phone in result.items]
    return NoShowList(community, communities, stations, monday, station_id, result)


@dataclass
class PersonDetail:
    """One steward on the shift: attendance, log and the drops recorded during the shift."""

    attendance: Attendance
    log: SupervisionLog | None
    drops: LinkedDrops


@dataclass
class ShiftDetail:
    """A shift's detail page."""

    shift: Shift
    station: Station
    community: Area
    people: list[PersonDetail]

    def local(self, moment: datetime | None) -> datetime | None:
        """A stored UTC moment in the community's local time."""
        return moment.astimezone(ZoneInfo(self.community.timezone)) if moment else None


def shift_detail(session: Session, *, actor: policy.Actor, shift_id: int,
                 now: datetime | None = None) -> ShiftDetail:
    """A shift with its stewards, times, check-in methods, logs and linked drops."""
    now = now or clock.now()
    shift = session.get(Shift, shift_id)
    if shift is None:
        raise NotFound()
    area = session.get(Area, shift.community_id)
    station = session.get(Station, shift.station_id)
    if area is None or station is None:
        raise NotFound()
    policy.require(actor, "steward:read", area)
    people = attendance(session, [shift], now)[0].people
    logs = {log.assignment_id: log for log in session.execute(select(SupervisionLog).where(
        col(SupervisionLog.assignment_id).in_([p.assignment.id for p in people]))).scalars()}
    return ShiftDetail(shift, station, area, [
        PersonDetail(p, logs.get(p.assignment.id),
                     linked_drops(session, assignment=p.assignment, shift=shift,
                                              account_id=p.steward_account_id, now=now))
        for p in people])


def duty_posts(session: Session, account_id: int, earliest: datetime,
               latest: datetime) -> list[duty.Post]:
    """The account's shifts it checked in to that overlap [earliest, latest]: where and when
    it may record drops as a steward (`community.stations.duty`, registered at start-up).

    A shift cancelled after the check-in still counts for the drops made while on it.
    """
    rows = session.execute(
        select(col(Shift.station_id), col(Shift.starts_at), col(Shift.ends_at))
        .join(ShiftAssignment, col(ShiftAssignment.shift_id) == Shift.id)
        .join(Steward, col(Steward.id) == ShiftAssignment.steward_id)
        .where(col(Steward.account_id) == account_id,
               col(ShiftAssignment.checked_in_at).is_not(None),
               col(ShiftAssignment.status).in_(("signed_up", "done")),
               col(Shift.starts_at) <= latest, col(Shift.ends_at) >= earliest))
    return [duty.Post(station, start, end) for station, start, end in rows]


# How far ahead the scan page looks for the steward's next shift to preselect its station.
NEXT_SHIFT_HORIZON = timedelta(hours=12)


def shift_station(session: Session, account_id: int, now: datetime) -> int | None:
    """The station of the account's shift running now (or about to: check-in opens early),
    else of its next one within NEXT_SHIFT_HORIZON, or None: the scan page preselects it
    (`community.stations.duty`, registered at start-up). Cancelled shifts and cancelled
    sign-ups do not count."""
    row = session.execute(
        select(col(Shift.station_id))
        .join(ShiftAssignment, col(ShiftAssignment.shift_id) == Shift.id)
        .join(Steward, col(Steward.id) == ShiftAssignment.steward_id)
        .where(col(Steward.account_id) == account_id,
               col(ShiftAssignment.status).in_(("signed_up", "done")),
               col(Shift.status) == "open",
               col(Shift.ends_at) >= now, col(Shift.starts_at) <= now + NEXT_SHIFT_HORIZON)
        .order_by(col(Shift.starts_at), col(Shift.id)).limit(1)).first()
    return row[0] if row else None
