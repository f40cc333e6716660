"""What the hours pages show: the manager's pending hours and one assignment's, the
steward's own hours and points (积分银行), a certificate's data and its public check, and the
manager's hours report; and the loaders the approval services share.

Read-only: these authorize and load, never write (`services` approves hours and records
exports).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, case, cast, func, literal, or_, select
from sqlmodel import Session, col

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.auth import policy
from community.auth.models import Account
from community.auth.services import mask_phone
from community.errors import InvalidInput, NotFound
from community.points import facts as drop_rows
from community.points import services as points_services
from community.points.models import LedgerEntry
from community.rows import pk
from community.stations.models import Station
from community.volunteers.hours import rules as hours_rules
from community.volunteers.models import Shift, ShiftAssignment, Steward
from community.web.pagination import Page, paginate


class PeriodInvalid(InvalidInput):
    """A period must have both days, in order, and at most about ten years."""

    code, message = "period_invalid", _l(
        "Choose a start and an end date (the start on or before the end).")


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


def community_area(session: Session, community_id: int) -> Area:
    """An area by id (NotFound when unknown)."""
    area = session.get(Area, community_id)
    if area is None:
        raise NotFound()
    return area


def load_assignment(session: Session,
                    assignment_id: int) -> tuple[ShiftAssignment, Shift, Area]:
    """An assignment with its shift and the shift's community (NotFound when unknown)."""
    row = session.execute(
        select(ShiftAssignment, Shift, Area)
        .join(Shift, col(Shift.id) == ShiftAssignment.shift_id)
        .join(Area, col(Area.id) == Shift.community_id)
        .where(col(ShiftAssignment.id) == assignment_id)).one_or_none()
    if row is None:
        raise NotFound()
    return row[0], row[1], row[2]


# --- The manager's pending list --------------------------------------------------------------

@dataclass(frozen=True)
class PendingRow:
    """One assignment whose hours wait for approval (or, on its own page, any assignment)."""

    assignment_id: int
    steward_id: int
    steward: str
    phone: str
    station: str
    local_date: date
    starts_at: datetime
    ends_at: datetime
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    check_out_method: str | None
    minutes: int | None
    hours_status: str | None
    approved_minutes: int | None
    correction_reason: str
    points: int  # what approving the recorded minutes credits (or what was credited)


@dataclass
class PendingPage:
    """A community's pending hours, oldest shift first, paged."""

    communities: list[Area]
    community: Area
    page: Page
    total_minutes: int


def _row_select():
    return (select(ShiftAssignment, col(Shift.local_date), col(Shift.starts_at), col(Shift.ends_at),
                   col(Station.name), col(Account.display_name), col(Account.phone))
            .join(Shift, col(Shift.id) == ShiftAssignment.shift_id)
            .join(Station, col(Station.id) == Shift.station_id)
            .join(Steward, col(Steward.id) == ShiftAssignment.steward_id)
            .join(Account, col(Account.id) == Steward.account_id))


def _rates(session: Session, community_id: int, days: set[date]) -> dict[date, int]:
    return {d: points_services.current_rules(session, community_id, d).steward_points_per_hour
            for d in days}


def _pending_row(r, points: int) -> PendingRow:
    a, day, starts, ends, station, name, phone = r
    return PendingRow(a.id, a.steward_id, name, mask_phone(phone), station, day, starts, ends,
                      a.checked_in_at, a.checked_out_at, a.check_out_method, a.minutes,
                      a.hours_status, a.approved_minutes, a.correction_reason, points)


def pending_hours(session: Session, *, actor: policy.Actor, community_id: int | None,
                  page: int = 1, per_page: int = 50) -> PendingPage:
    """The community's assignments with hours waiting for approval (steward:manage)."""
    area = areas_services.community_for(session, actor=actor, community_id=community_id,
                                        action="steward:manage")
    where = and_(col(Shift.community_id) == area.id,
                 col(ShiftAssignment.hours_status) == "pending")
    stmt = _row_select().where(where).order_by(col(Shift.starts_at), col(ShiftAssignment.id))
    got = paginate(session, stmt, page=page, per_page=per_page)
    rates = _rates(session, pk(area), {r[1] for r in got.items})
    got.items = [_pending_row(r, hours_rules.points_for_minutes(r[0].minutes or 0, rates[r[1]]))
                 for r in got.items]
    total = session.execute(
        select(func.coalesce(func.sum(ShiftAssignment.minutes), 0))
        .join(Shift, col(Shift.id) == ShiftAssignment.shift_id).where(where)).scalar_one()
    return PendingPage(areas_services.communities_for(session, actor, "steward:manage"), area,
                       got, int(total))


def assignment_hours(session: Session, *, actor: policy.Actor,
                     assignment_id: int) -> tuple[PendingRow, Area]:
    """One assignment's hours for the approval page (steward:manage)."""
    _a, shift, area = load_assignment(session, assignment_id)
    policy.require(actor, "steward:manage", area)
    row = session.execute(_row_select().where(col(ShiftAssignment.id) == assignment_id)).one()
    a = row[0]
    if a.hours_status == "approved":
        points = points_credited(session, [a.id]).get(a.id, 0)
    else:
        rate = _rates(session, pk(area), {shift.local_date})[shift.local_date]
        points = hours_rules.points_for_minutes(a.minutes or 0, rate)
    return _pending_row(row, points), area


def points_credited(session: Session, assignment_ids: Sequence[int]) -> dict[int, int]:
    """Points the ledger credited for each assignment's hours (source "shift:<id>")."""
    if not assignment_ids:
        return {}
    sources = {f"shift:{i}": i for i in assignment_ids}
    rows = session.execute(
        select(col(LedgerEntry.source), func.sum(LedgerEntry.amount))
        .where(col(LedgerEntry.source).in_(sources), col(LedgerEntry.kind) == "earn")
        .group_by(LedgerEntry.source))
    return {sources[s]: int(t or 0) for s, t in rows}


# --- The steward's own page -----------------------------------------------------------------

@dataclass(frozen=True)
class MyShift:
    """One of the steward's shifts with hours (approved or pending)."""

    assignment_id: int
    local_date: date
    station: str
    minutes: int | None
    approved_minutes: int | None
    hours_status: str | None
    correction_reason: str


@dataclass
class MyHours:
    """The steward's hours this month, this year and in all, points and history, pending."""

    stewards: list[tuple[Steward, Area]]
    steward: Steward
    community: Area
    today: date
    month_minutes: int
    year_minutes: int
    all_minutes: int
    approved_shifts: int
    balance: int
    entries: list[points_services.HistoryRow]
    next_before: str | None
    pending: list[MyShift]
    recent: list[MyShift]


def _my_stewards(session: Session, account_id: int) -> list[tuple[Steward, Area]]:
    rows = session.execute(
        select(Steward, Area).join(Area, col(Area.id) == Steward.community_id)
        .where(col(Steward.account_id) == account_id,
               col(Steward.status).in_(("approved", "retired")))
        .order_by(col(Steward.id))).all()
    return [(s, a) for s, a in rows]


def _own_steward(session: Session, account_id: int,
                 steward_id: int | None) -> tuple[list[tuple[Steward, Area]], Steward, Area] | None:
    """The account's steward record (the chosen one, else the first); None when it has none.

    A steward id that is not the account's own is NotFound: no one reads another's hours here.
    """
    mine = _my_stewards(session, account_id)
    if steward_id is not None:
        chosen = next(((s, a) for s, a in mine if s.id == steward_id), None)
        if chosen is None:
            raise NotFound()
        return mine, chosen[0], chosen[1]
    if not mine:
        return None
    return mine, mine[0][0], mine[0][1]


def _approved_minutes(session: Session, steward_id: int, first: date | None = None,
                      last: date | None = None) -> tuple[int, int]:
    """(approved minutes, approved shifts) of a steward, optionally within local dates."""
    stmt = (select(func.coalesce(func.sum(ShiftAssignment.approved_minutes), 0), func.count())
            .join(Shift, col(Shift.id) == ShiftAssignment.shift_id)
            .where(col(ShiftAssignment.steward_id) == steward_id,
                   col(ShiftAssignment.hours_status) == "approved"))
    if first is not None:
        stmt = stmt.where(col(Shift.local_date) >= first)
    if last is not None:
        stmt = stmt.where(col(Shift.local_date) <= last)
    total, n = session.execute(stmt).one()
    return int(total), int(n)


def _my_shifts(session: Session, steward_id: int, status: str, limit: int) -> list[MyShift]:
    rows = session.execute(
        select(ShiftAssignment, col(Shift.local_date), col(Station.name))
        .join(Shift, col(Shift.id) == ShiftAssignment.shift_id)
        .join(Station, col(Station.id) == Shift.station_id)
        .where(col(ShiftAssignment.steward_id) == steward_id,
               col(ShiftAssignment.hours_status) == status)
        .order_by(col(Shift.starts_at).desc()).limit(limit)).all()
    return [MyShift(a.id, day, name, a.minutes, a.approved_minutes, a.hours_status,
                    a.correction_reason) for a, day, name in rows]


def my_hours(session: Session, *, account_id: int, steward_id: int | None = None,
             before: str | None = None, now: datetime | None = None,
             limit: int = points_services.HISTORY_LIMIT) -> MyHours | None:
    """The logged-in steward's own hours and points (积分银行); None for a non-steward."""
    own = _own_steward(session, account_id, steward_id)
    if own is None:
        return None
    mine, steward, area = own
    today = clock.local_today(area.timezone, now)
    month, _n = _approved_minutes(session, pk(steward), *hours_rules.month_bounds(today))
    year, _n = _approved_minutes(session, pk(steward), *hours_rules.year_bounds(today))
    total, shifts = _approved_minutes(session, pk(steward))
    entries = points_services.steward_history(session, steward_id=pk(steward),
                                              limit=limit + 1, before=before)
    more = len(entries) > limit
    entries = entries[:limit]
    return MyHours(mine, steward, area, today, month, year, total, shifts,
                   points_services.steward_balance(session, pk(steward)),
                   entries, drop_rows.encode_cursor(entries[-1].at, entries[-1].id)
                   if more and entries else None,
                   _my_shifts(session, pk(steward), "pending", 50),
                   _my_shifts(session, pk(steward), "approved", 10))


# --- The certificate and its public check ---------------------------------------------------

@dataclass(frozen=True)
class CertificateData:
    """A steward's approved shifts of a period, as the certificate prints them."""

    steward_id: int
    name: str
    community: str
    day_from: date
    day_to: date
    shifts: list[tuple[date, str, int]]  # (local date, station, approved minutes)
    total_minutes: int
    issued_on: date


def _period(day_from: date | None, day_to: date | None) -> tuple[date, date]:
    if day_from is None or day_to is None or not hours_rules.valid_period(day_from, day_to):
        raise PeriodInvalid(field="day_from")
    return day_from, day_to


def _certificate(session: Session, steward: Steward, area: Area, day_from: date, day_to: date,
                 now: datetime) -> CertificateData:
    name = session.execute(select(col(Account.display_name)).where(
        col(Account.id) == steward.account_id)).scalar_one()
    rows = session.execute(
        select(col(Shift.local_date), col(Station.name), col(ShiftAssignment.approved_minutes))
        .join(Shift, col(Shift.id) == ShiftAssignment.shift_id)
        .join(Station, col(Station.id) == Shift.station_id)
        .where(col(ShiftAssignment.steward_id) == steward.id,
               col(ShiftAssignment.hours_status) == "approved",
               col(Shift.local_date) >= day_from, col(Shift.local_date) <= day_to)
        .order_by(col(Shift.starts_at), col(ShiftAssignment.id))).all()
    shifts = [(d, s, int(m or 0)) for d, s, m in rows]
    return CertificateData(pk(steward), name, area.name, day_from, day_to,
                           shifts, sum(m for _d, _s, m in shifts),
                           clock.local_today(area.timezone, now))


def my_certificate(session: Session, *, account_id: int, steward_id: int | None,
                   day_from: date | None, day_to: date | None,
                   now: datetime | None = None) -> CertificateData:
    """The certificate data of the logged-in steward's own approved hours of a period."""
    own = _own_steward(session, account_id, steward_id)
    if own is None:
        raise NotFound()
    first, last = _period(day_from, day_to)
    return _certificate(session, own[1], own[2], first, last, _now(now))


def steward_certificate(session: Session, *, actor: policy.Actor, steward_id: int,
                        day_from: date | None, day_to: date | None,
                        now: datetime | None = None) -> CertificateData:
    """The certificate data of a steward of the manager's community (steward:manage)."""
    steward = session.get(Steward, steward_id)
    if steward is None:
        raise NotFound()
    area = community_area(session, steward.community_id)
    policy.require(actor, "steward:manage", area)
    first, last = _period(day_from, day_to)
    return _certificate(session, steward, area, first, last, _now(now))


@dataclass(frozen=True)
class Verification:
    """What the public page shows of a genuine certificate: recomputed, name masked."""

    community: str
    masked_name: str
    day_from: date
    day_to: date
    shifts: int
    total_minutes: int


def verify_certificate(session: Session, *, steward_id: int, day_from: date,
                       day_to: date) -> Verification | None:
    """Recompute a (signature-checked) certificate's hours from the database; None if the
    steward no longer exists. Public: shows only the community, a masked name and totals."""
    steward = session.get(Steward, steward_id)
    if steward is None:
        return None
    area = community_area(session, steward.community_id)
    name = session.execute(select(col(Account.display_name)).where(
        col(Account.id) == steward.account_id)).scalar_one()
    total, shifts = _approved_minutes(session, steward_id, day_from, day_to)
    return Verification(area.name, hours_rules.mask_name(name), day_from, day_to, shifts, total)


# --- The manager's hours report -------------------------------------------------------------

@dataclass(frozen=True)
class ReportRow:
    """One steward's figures of the period (or the total row, steward_id 0)."""

    steward_id: int
    name: str
    phone: str
    status: str
    shifts: int           # assignments of the period not cancelled
    done: int             # assignments completed (checked out)
    no_shows: int
    approved_minutes: int
    pending_minutes: int
    points: int           # points credited for the period's shifts


@dataclass
class HoursReport:
    """Per steward of a community for a period: shifts, no-shows, hours, points."""

    communities: list[Area]
    community: Area
    day_from: date
    day_to: date
    rows: list[ReportRow]
    total: ReportRow


def default_period(session: Session, *, actor: policy.Actor, community_id: int | None,
                   now: datetime | None = None) -> tuple[date, date]:
    """The current local month of the report's community (the report's default period)."""
    area = areas_services.community_for(session, actor=actor, community_id=community_id,
                                        action="steward:manage")
    return hours_rules.month_bounds(clock.local_today(area.timezone, now))


def hours_report(session: Session, *, actor: policy.Actor, community_id: int | None,
                 day_from: date | None, day_to: date | None) -> HoursReport:
    """Each steward's shifts, no-shows, approved and pending hours and points credited for
    shifts on the period's local dates (steward:manage). Approved stewards appear even
    with nothing in the period; others only when they have assignments in it."""
    area = areas_services.community_for(session, actor=actor, community_id=community_id,
                                        action="steward:manage")
    first, last = _period(day_from, day_to)
    in_period = and_(col(Shift.community_id) == area.id, col(Shift.local_date) >= first,
                     col(Shift.local_date) <= last)
    a = ShiftAssignment
    figures = {r[0]: r[1:] for r in session.execute(
        select(col(a.steward_id),
               func.sum(case((col(a.status) != "cancelled", 1), else_=0)),
               func.sum(case((col(a.status) == "done", 1), else_=0)),
               func.sum(case((col(a.status) == "no_show", 1), else_=0)),
               func.sum(case((col(a.hours_status) == "approved", a.approved_minutes), else_=0)),
               func.sum(case((col(a.hours_status) == "pending", a.minutes), else_=0)))
        .join(Shift, col(Shift.id) == a.shift_id).where(in_period)
        .group_by(col(a.steward_id)))}
    # Points credited for the period's shifts: the ledger entries "shift:<assignment id>".
    source = literal("shift:") + cast(a.id, String)
    points: dict[int, int] = dict(session.execute(
        select(col(a.steward_id), func.sum(LedgerEntry.amount))
        .join(Shift, col(Shift.id) == a.shift_id)
        .join(LedgerEntry, and_(col(LedgerEntry.source) == source,
                                col(LedgerEntry.kind) == "earn"))
        .where(in_period).group_by(col(a.steward_id))).all())
    stewards = session.execute(
        select(col(Steward.id), col(Steward.status), col(Account.display_name), col(Account.phone))
        .join(Account, col(Account.id) == Steward.account_id)
        .where(col(Steward.community_id) == area.id,
               or_(col(Steward.status) == "approved", col(Steward.id).in_(list(figures))))
        .order_by(Account.display_name, col(Steward.id))).all()
    rows = []
    for sid, status, name, phone in stewards:
        f = figures.get(sid, (0, 0, 0, 0, 0))
        shifts, done, no_shows, approved, pending = (int(x or 0) for x in f)
        rows.append(ReportRow(sid, name, mask_phone(phone), status, shifts, done, no_shows,
                              approved, pending, int(points.get(sid) or 0)))
    total = ReportRow(0, "", "", "", *(sum(getattr(r, k) for r in rows) for k in (
        "shifts", "done", "no_shows", "approved_minutes", "pending_minutes", "points")))
    return HoursReport(areas_services.communities_for(session, actor, "steward:manage"), area,
                       first, last, rows, total)
