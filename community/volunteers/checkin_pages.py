"""Managers' read models of check-ins: the no-shows list and a shift's detail page.

No-shows are listed by local week (Monday to Sunday, the shifts' stored local dates) and
optionally one station, for one community (steward:manage). A shift's detail shows its
stewards with their actual times and how they checked in and out, their logs and the drops
they recorded during the shift (steward:read: managers and the community's station chiefs).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session, col

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.auth import policy
from community.auth import services as auth_services
from community.auth.models import Account
from community.errors import NotFound
from community.stations.models import Station
from community.volunteers import checkins, supervision
from community.volunteers.models import Shift, ShiftAssignment, Steward, SupervisionLog
from community.web.pagination import Page, paginate


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
    today = (now or clock.now()).astimezone(ZoneInfo(community.timezone)).date()
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

    attendance: checkins.Attendance
    log: SupervisionLog | None
    drops: supervision.LinkedDrops


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
    people = checkins.attendance(session, [shift], now)[0].people
    logs = {log.assignment_id: log for log in session.execute(select(SupervisionLog).where(
        col(SupervisionLog.assignment_id).in_([p.assignment.id for p in people]))).scalars()}
    return ShiftDetail(shift, station, area, [
        PersonDetail(p, logs.get(p.assignment.id),
                     supervision.linked_drops(session, assignment=p.assignment, shift=shift,
                                              account_id=p.steward_account_id, now=now))
        for p in people])
