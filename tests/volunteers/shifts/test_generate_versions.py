"""Rota generation follows the schedule version in force on each shift's day: a version
planned from a later day shapes the shifts from that day only."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session, col

from community.auth import services as auth_services
from community.stations import services as stations_services
from community.stations.manage import services as stations_management
from community.stations.schemas import WeekIn
from community.volunteers.models import Shift
from community.volunteers.shifts import services as shifts
from community.volunteers.shifts.schemas import GenerateIn
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 21)
NOW = datetime(2026, 11, 21, 6, 0, tzinfo=SH)


def test_shifts_follow_the_version_in_force_each_day(session: Session,
                                                     world: builders.World) -> None:
    st = builders.station(session, world.a)
    stations_management.start_history(session, st, world.a.timezone)
    session.commit()
    stations_services.forget_station()
    manager = auth_services.load_actor(session, world.manager_a.id)
    change = TODAY + timedelta(days=3)
    week = WeekIn.model_validate({**{f"weekday_{d}": [["10:00", "12:00"]] for d in range(7)},
                                  "effective_from": change}, strict=False)
    stations_management.set_weekly_windows(session, actor=manager, station_id=st.id,
                                           week=week, now=NOW)
    session.commit()
    shifts.generate_shifts(session, actor=manager, community_id=world.a.id,
                           data=GenerateIn.model_validate({"weeks": 1, "needed": 1}),
                           today=TODAY, now=NOW)
    session.commit()
    rows = session.execute(select(Shift.local_date, Shift.starts_at).where(
        col(Shift.station_id) == st.id).order_by(col(Shift.starts_at))).all()
    hours: dict[date, list[int]] = {}
    for day, starts in rows:
        hours.setdefault(day, []).append(starts.astimezone(SH).hour)
    assert hours[TODAY] == [7, 18]
    assert hours[change - timedelta(days=1)] == [7, 18]
    assert hours[change] == [10]
    assert hours[TODAY + timedelta(days=6)] == [10]
