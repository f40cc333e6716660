"""Check-in and check-out at the station, the station code display and the chief's page.

A steward proves presence by scanning the station's rotating code (`codes`), or by typing
its 8 digits; the station chief or a manager may confirm presence by hand instead. The
service finds the steward's assignment on a shift of THAT station whose time contains now
(check-in opens 30 minutes before the start and closes at the end; check-out is accepted
until 15 minutes after the end). Every refusal raises before anything is written, and the
writes are conditional UPDATEs, so a double tap or a race with the end-of-shift job changes
a row once.

The code key is passed in by the caller (derived from the app's secret): services never
read configuration.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlmodel import Session, col

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.audit import services as audit
from community.auth import policy
from community.auth.models import Account
from community.errors import DomainError, Forbidden, NotFound
from community.rows import pk, table_of
from community.stations.models import Station
from community.volunteers import codes
from community.volunteers.models import Shift, ShiftAssignment, Steward

CHECK_IN_EARLY = timedelta(minutes=30)
CHECK_OUT_LATE = timedelta(minutes=15)


class CodeMalformed(DomainError):
    """The text is neither a station QR code nor 8 digits."""

    code, status, message = "station_code_malformed", 422, _l(
        "This is not a station code. Scan the QR code on the station's screen, or type its "
        "8 digits.")


class CodeExpired(DomainError):
    """A real code of the station, but older than its step plus one step of tolerance."""

    code, status, message = "station_code_expired", 409, _l(
        "This station code has expired. Scan the code on the station's screen again.")


class CodeWrong(DomainError):
    """Digits that are not the station's code (a typo, or a forged code)."""

    code, status, message = "station_code_wrong", 422, _l(
        "This code does not match the station's code. Check the 8 digits and try again.")


class CodeForeign(DomainError):
    """A valid code of a station where the steward has no shift now (but has one elsewhere)."""

    code, status, message = "station_code_foreign", 409, _l(
        "This code belongs to another station. Check in with the code of your shift's station.")


class NoShiftNow(DomainError):
    """No assignment of the steward at that station is open for check-in now."""

    code, status, message = "no_shift_now", 409, _l(
        "You have no shift at this station now. Check-in opens 30 minutes before your shift "
        "starts and closes when it ends.")


class AlreadyCheckedIn(DomainError):
    """The assignment is already checked in."""

    code, status, message = "already_checked_in", 409, _l(
        "You are already checked in for this shift.")


class NotCheckedIn(DomainError):
    """Check-out without an open check-in at that station."""

    code, status, message = "not_checked_in", 409, _l(
        "You are not checked in for a shift at this station now, so there is nothing to check "
        "out of.")


class ShiftClosed(DomainError):
    """The end-of-shift job (or a check-out) already closed the assignment."""

    code, status, message = "shift_closed", 409, _l(
        "This shift is already closed: the check-out was recorded (automatically at the "
        "shift's end if nobody checked out).")


class ConfirmNotNow(DomainError):
    """A chief may confirm presence only while check-in is open for the shift."""

    code, status, message = "confirm_not_now", 409, _l(
        "Presence can only be confirmed from 30 minutes before the shift starts until it ends.")


_REFUSALS: dict[str, type[DomainError]] = {
    codes.MALFORMED: CodeMalformed,
    codes.EXPIRED: CodeExpired,
    codes.WRONG: CodeWrong,
    codes.OTHER_STATION: CodeForeign,
}
CODE_REFUSALS = (CodeMalformed, CodeExpired, CodeWrong, CodeForeign, NoShiftNow,
                 AlreadyCheckedIn, NotCheckedIn, ShiftClosed)


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


def minutes_between(start: datetime, end: datetime) -> int:
    """Whole minutes from `start` to `end` (never negative)."""
    return max(0, int((end - start).total_seconds() // 60))


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


def _check_in_open(session: Session, account_id: int | None, now: datetime) -> list[ShiftRow]:
    """Assignments not yet checked in whose check-in period contains `now`."""
    return _rows(session, _mine(account_id).where(
        col(Shift.starts_at) <= now + CHECK_IN_EARLY, col(Shift.ends_at) >= now))


def _check_out_open(session: Session, account_id: int | None, now: datetime) -> list[ShiftRow]:
    """Checked-in assignments that may still be checked out at `now`."""
    return _rows(session, _mine(account_id).where(
        col(ShiftAssignment.checked_in_at).is_not(None),
        col(ShiftAssignment.checked_out_at).is_(None),
        col(ShiftAssignment.checked_in_at) <= now,
        col(Shift.ends_at) >= now - CHECK_OUT_LATE))


def _resolve(key: bytes, text: str, now: datetime, candidates: list[ShiftRow],
             none: type[DomainError] = NoShiftNow) -> ShiftRow:
    """The candidate whose station the code proves; raise the clearest refusal otherwise
    (`none` when the steward has no candidate at that station or at all)."""
    parsed = codes.parse(text)
    if parsed is None:
        raise CodeMalformed(field="code")
    if parsed.station_id is None:
        # Typed digits: try the stations of the steward's open shifts (usually one).
        reasons = []
        for station_id in dict.fromkeys(r.shift.station_id for r in candidates):
            verdict = codes.verify(key, text, now, station_id=station_id)
            if verdict.ok:
                return next(r for r in candidates if r.shift.station_id == station_id)
            reasons.append(verdict.reason)
        if not candidates:
            raise NoShiftNow(field="code")
        raise (CodeExpired if codes.EXPIRED in reasons else CodeWrong)(field="code")
    verdict = codes.verify(key, text, now)
    if not verdict.ok:
        raise _REFUSALS[verdict.reason or codes.WRONG](field="code")
    here = [r for r in candidates if r.shift.station_id == verdict.station_id]
    if here:
        return here[0]
    raise (CodeForeign if candidates else none)(field="code")


def check_in(session: Session, *, actor: policy.Actor, key: bytes, text: str,
             now: datetime | None = None) -> ShiftRow:
    """Check the acting steward in on their shift at the station the code proves (flushes)."""
    now = _now(now)
    candidates = _check_in_open(session, actor.account_id, now)
    pending = [r for r in candidates if r.assignment.checked_in_at is None]
    try:
        row = _resolve(key, text, now, pending)
    except (NoShiftNow, CodeForeign):
        # Already checked in at the station the code names? Say so rather than "no shift".
        parsed = codes.parse(text)
        done = [r for r in candidates if r.assignment.checked_in_at is not None
                and (parsed is None or parsed.station_id in (None, r.shift.station_id))]
        if done and codes.verify(key, text, now, station_id=done[0].shift.station_id).ok:
            raise AlreadyCheckedIn(field="code") from None
        raise
    changed = session.exec(
        update(ShiftAssignment)
        .where(col(ShiftAssignment.id) == row.assignment.id,
               col(ShiftAssignment.status) == "signed_up",
               col(ShiftAssignment.checked_in_at).is_(None))
        .values(checked_in_at=now, check_in_method="code")
        .execution_options(synchronize_session=False))
    if not changed.rowcount:
        raise AlreadyCheckedIn(field="code")
    return _reload(session, row)


def check_out(session: Session, *, actor: policy.Actor, key: bytes, text: str,
              now: datetime | None = None) -> ShiftRow:
    """Check the acting steward out of their checked-in shift at the code's station (flushes).

    Records the minutes and marks the assignment done with hours pending approval.
    """
    now = _now(now)
    row = _resolve(key, text, now, _check_out_open(session, actor.account_id, now),
                   NotCheckedIn)
    checked_in = row.assignment.checked_in_at or now  # never None: _check_out_open wants it
    changed = session.exec(
        update(ShiftAssignment)
        .where(col(ShiftAssignment.id) == row.assignment.id,
               col(ShiftAssignment.status) == "signed_up",
               col(ShiftAssignment.checked_out_at).is_(None))
        .values(checked_out_at=now, check_out_method="code", status="done",
                minutes=minutes_between(checked_in, now),
                hours_status="pending")
        .execution_options(synchronize_session=False))
    if not changed.rowcount:
        raise ShiftClosed(field="code")
    return _reload(session, row)


def _reload(session: Session, row: ShiftRow) -> ShiftRow:
    session.flush()
    fresh = session.execute(select(ShiftAssignment).where(
        col(ShiftAssignment.id) == row.assignment.id)
        .execution_options(populate_existing=True)).scalar_one()
    return ShiftRow(fresh, row.shift, row.station_name, row.tz)


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
    checked_in = _check_out_open(session, actor.account_id, now)
    due = [r for r in _check_in_open(session, actor.account_id, now)
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
    zone = ZoneInfo(area.timezone)
    day = now.astimezone(zone).date()
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = start + timedelta(days=1)
    shifts = list(session.execute(select(Shift).where(
        col(Shift.station_id) == station.id, col(Shift.status) == "open",
        col(Shift.ends_at) > start, col(Shift.starts_at) < end)
        .order_by(col(Shift.starts_at))).scalars())
    return StationToday(station, area, day, attendance(session, shifts, now))


def confirm_presence(session: Session, *, actor: policy.Actor, assignment_id: int,
                     now: datetime | None = None, ip: str | None = None) -> ShiftRow:
    """The chief (or a manager) confirms by hand that a steward is at the station (flushes)."""
    now = _now(now)
    assignment = session.get(ShiftAssignment, assignment_id)
    if assignment is None:
        raise NotFound()
    shift = session.get(Shift, assignment.shift_id)
    if shift is None:
        raise NotFound()
    station, area = station_for(session, actor=actor, station_id=shift.station_id)
    if assignment.status != "signed_up" or shift.status != "open":
        raise ShiftClosed()
    if assignment.checked_in_at is not None:
        raise AlreadyCheckedIn(message=_l("This steward is already checked in."))
    if not shift.starts_at - CHECK_IN_EARLY <= now <= shift.ends_at:
        raise ConfirmNotNow()
    changed = session.exec(
        update(ShiftAssignment)
        .where(col(ShiftAssignment.id) == assignment.id,
               col(ShiftAssignment.status) == "signed_up",
               col(ShiftAssignment.checked_in_at).is_(None))
        .values(checked_in_at=now, check_in_method="chief", confirmed_by=actor.account_id)
        .execution_options(synchronize_session=False))
    if not changed.rowcount:
        raise AlreadyCheckedIn(message=_l("This steward is already checked in."))
    audit.record(session, actor_id=actor.account_id, action="shift.confirm_presence", area=area,
                 target_type="shift_assignment", target_id=assignment.id, ip=ip,
                 shift_id=shift.id, station_id=station.id)
    return _reload(session, ShiftRow(assignment, shift, station.name, area.timezone))
