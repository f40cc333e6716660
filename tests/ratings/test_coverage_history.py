"""Steward coverage from the stations' history (DOMAIN.md "Scheduled windows", "A steward
checked in during a window"): a station counts from its creation day, a suspension removes
its windows, a later schedule edit leaves past days alone, a presence never checked out lasts
to its shift's end, and a month without an open station is not available."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from community.auth import services as auth_services
from community.ratings import metrics, rollups
from community.stations import services as stations_services
from community.stations.manage import services as manage
from community.stations.models import StationStatusEvent
from community.stations.schemas import WeekIn
from community.volunteers.models import Shift, ShiftAssignment, Steward
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
OCT = date(2026, 10, 1)
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=SH)


def at(day: date, h: int, m: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, h, m, tzinfo=SH)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]


def _coverage(session: Session, community_id: int, first: date, last: date):
    for day in _days(first, last):
        rollups.build_day(session, day, now=NOW)
    session.commit()
    t = rollups.community_totals(session, [community_id], first, last, now=NOW)[community_id]
    return t.windows_scheduled, t.windows_staffed


@pytest.fixture(autouse=True)
def _fresh_cache():
    stations_services.forget_station()
    yield
    stations_services.forget_station()


def _station(session: Session, community, created: datetime, name: str | None = None):
    st = builders.station(session, community, name, created_at=created)
    manage.start_history(session, st, community.timezone)
    session.flush()
    return st


def test_a_station_opened_mid_month_counts_from_its_first_day(session: Session,
                                                              world: builders.World) -> None:
    _station(session, world.a, at(date(2026, 10, 15), 16))  # created in the afternoon
    session.commit()
    # 17 days (15–31 October) × 2 windows; the 15th's morning window counts (it exists
    # from its creation day), none of the 14 days before.
    assert _coverage(session, world.a.id, OCT, date(2026, 10, 31)) == (34, 0)


def test_a_suspension_removes_its_windows(session: Session, world: builders.World) -> None:
    st = _station(session, world.a, at(date(2026, 9, 1), 9))
    session.add_all([
        StationStatusEvent(station_id=st.id, effective_at=at(date(2026, 10, 10), 12),
                           status="suspended"),
        StationStatusEvent(station_id=st.id, effective_at=at(date(2026, 10, 12), 12),
                           status="open")])
    session.commit()
    # 10th: 07:00 (before the suspension); 11th: none; 12th: 18:00 (after the reopening).
    assert _coverage(session, world.a.id, date(2026, 10, 10), date(2026, 10, 12)) == (2, 0)
    assert _coverage(session, world.a.id, date(2026, 10, 9), date(2026, 10, 9)) == (2, 0)


def test_a_later_schedule_edit_leaves_past_days_alone(session: Session,
                                                      world: builders.World) -> None:
    st = _station(session, world.a, at(date(2026, 9, 1), 9))
    session.commit()
    day = date(2026, 11, 18)
    before = _coverage(session, world.a.id, day, day)
    manager = auth_services.load_actor(session, world.manager_a.id)
    week = WeekIn.model_validate({"weekday_0": [["10:00", "12:00"]]}, strict=False)
    manage.set_weekly_windows(session, actor=manager, station_id=st.id, week=week, now=NOW)
    session.commit()
    stations_services.forget_station()
    assert before == (2, 0)
    assert _coverage(session, world.a.id, day, day) == before  # rebuilt: the same


def test_a_presence_never_checked_out_lasts_to_the_shift_end(session: Session,
                                                             world: builders.World) -> None:
    st = _station(session, world.a, at(date(2026, 9, 1), 9))
    steward = Steward(community_id=world.a.id, account_id=world.steward_a.id, status="approved")
    session.add(steward)
    session.flush()
    day = date(2026, 10, 20)

    def shift(start: datetime, end: datetime, checked_in: datetime) -> None:
        s = Shift(community_id=world.a.id, station_id=st.id, local_date=day,
                  starts_at=start, ends_at=end)
        session.add(s)
        session.flush()
        session.add(ShiftAssignment(shift_id=s.id, steward_id=steward.id,
                                    checked_in_at=checked_in, status="signed_up"))

    # Morning: in at 06:30, never out, the shift ended at 07:00 sharp → not staffed.
    shift(at(day, 6), at(day, 7), at(day, 6, 30))
    # Evening: in at 17:00, never out, the shift ends at 18:30 → staffed.
    shift(at(day, 17), at(day, 18, 30), at(day, 17))
    session.commit()
    assert _coverage(session, world.a.id, day, day) == (2, 1)


def test_a_month_without_an_open_station_is_not_available(session: Session,
                                                          world: builders.World) -> None:
    _station(session, world.b, datetime(2026, 11, 5, tzinfo=UTC))
    session.commit()
    for day in _days(OCT, date(2026, 10, 31)):
        rollups.build_day(session, day, now=NOW)
    session.commit()
    totals = rollups.community_totals(session, [world.b.id], OCT, date(2026, 10, 31), now=NOW)
    values = metrics.all_metrics(totals[world.b.id])
    assert values["steward_coverage"] is None
    assert values["out_of_window_rate"] is None
