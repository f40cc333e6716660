"""Schedule versions and status events on both backends: edits take effect from a chosen day
(never a past one), the scan path classifies a drop against the version in force on its
device-time day, suspensions are recorded, and nothing marks a past day dirty."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlmodel import Session, col

from community.auth import services as auth_services
from community.dirty.models import DirtyDay
from community.errors import InvalidInput
from community.stations import services
from community.stations.manage import services as manage
from community.stations.models import (
    ScheduleVersion,
    Station,
    StationStatusEvent,
    StationWindow,
)
from community.stations.schemas import DropIn, WeekIn
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 21)  # a Saturday
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=SH)


def at(day: date, h: int, m: int = 0, s: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, h, m, s, tzinfo=SH)


def _week(ranges: str, effective_from: date | None = None) -> WeekIn:
    start, end = ranges.split("-")
    r = [[start, end]]
    return WeekIn.model_validate({**{f"weekday_{d}": r for d in range(7)},
                                  "effective_from": effective_from}, strict=False)


@pytest.fixture
def scene(session: Session, world: builders.World):
    """A station of A since 11-01 (07–09 and 18–20, grace 10) with its first history."""
    st = builders.station(session, world.a, created_at=at(date(2026, 11, 1), 9))
    manage.start_history(session, st, world.a.timezone)
    session.commit()
    manager = auth_services.load_actor(session, world.manager_a.id)
    steward = builders.recorder(session, world.a)
    services.forget_station()
    return world, st, manager, steward


def _drop(session: Session, steward, st: Station, card: str, moment: datetime, n: int):
    item = DropIn.model_validate({"client_id": f"hist-{n:04d}", "station_id": st.id,
                                  "category": "kitchen", "quality": "correct",
                                  "happened_at": moment, "card": card}, strict=False)
    return services.record_drop(session, actor=steward, item=item, now=NOW)


def _dirty(session: Session) -> int:
    return session.execute(select(func.count()).select_from(DirtyDay)).scalar_one()


def test_an_edit_from_a_later_day_leaves_earlier_days_alone(session: Session, scene) -> None:
    world, st, manager, steward = scene
    later = TODAY + timedelta(days=2)
    manage.set_weekly_windows(session, actor=manager, station_id=st.id,
                              week=_week("10:00-12:00", later), now=NOW)
    session.commit()
    infos = services.load_station_schedules(session, {st.id}, {TODAY, later})
    info = infos[st.id]
    assert info.in_force(TODAY).weekly[TODAY.weekday()] == ((time(7), time(9)),
                                                            (time(18), time(20)))
    assert info.in_force(later).weekly[later.weekday()] == ((time(10), time(12)),)
    assert info.in_force(later).grace_minutes == 10  # the grace in force that day is kept
    card = builders.active_card(session, world.households_a[0])
    session.commit()
    # Today still classifies against 07–09 (+10 minutes): 09:10 in, 09:10:01 out.
    assert "out_of_window" not in _drop(session, steward, st, card.token, at(TODAY, 9, 10),
                                        1).warnings
    assert "out_of_window" in _drop(session, steward, st, card.token, at(TODAY, 9, 10, 1),
                                    2).warnings
    # The pages show the newest schedule.
    assert {(w.start_time, w.end_time) for w in session.execute(
        select(StationWindow).where(col(StationWindow.station_id) == st.id)).scalars()} == {
        (time(10), time(12))}
    assert _dirty(session) == 0


def test_a_late_drop_is_classified_against_the_version_of_its_day(session: Session,
                                                                   scene) -> None:
    world, st, manager, steward = scene
    manage.set_weekly_windows(session, actor=manager, station_id=st.id,
                              week=_week("10:00-12:00"), now=NOW)  # from today
    session.commit()
    card = builders.active_card(session, world.households_a[0])
    session.commit()
    three_days_ago = TODAY - timedelta(days=3)
    late = _drop(session, steward, st, card.token, at(three_days_ago, 8, 0), 1)
    assert "out_of_window" not in late.warnings
    session.commit()
    assert "out_of_window" in _drop(session, steward, st, card.token, at(TODAY, 8, 0),
                                    2).warnings
    assert "out_of_window" not in _drop(session, steward, st, card.token, at(TODAY, 9, 55),
                                        3).warnings  # 10:00 − 10 minutes, inclusive


def test_past_days_are_refused_and_same_day_edits_replace(session: Session, scene) -> None:
    _world, st, manager, _steward = scene
    with pytest.raises(InvalidInput) as err:
        manage.set_weekly_windows(session, actor=manager, station_id=st.id,
                                  week=_week("10:00-12:00", TODAY - timedelta(days=1)), now=NOW)
    assert err.value.details.get("field") == "effective_from"
    session.rollback()
    later = TODAY + timedelta(days=5)
    for ranges in ("10:00-12:00", "11:00-13:00"):
        manage.set_weekly_windows(session, actor=manager, station_id=st.id,
                                  week=_week(ranges, later), now=NOW)
    session.commit()
    versions = session.execute(select(ScheduleVersion.effective_from).where(
        col(ScheduleVersion.station_id) == st.id).order_by(
        col(ScheduleVersion.effective_from))).scalars().all()
    assert versions == [date(2026, 11, 1), later]
    info = services.load_station_schedules(session, {st.id}, set())[st.id]
    assert info.in_force(later).weekly[later.weekday()] == ((time(11), time(13)),)


def test_a_version_more_than_a_year_ahead_is_refused(session: Session, scene) -> None:
    _world, st, manager, _steward = scene
    manage.set_weekly_windows(session, actor=manager, station_id=st.id,
                              week=_week("10:00-12:00", TODAY + manage.PLAN_AHEAD), now=NOW)
    with pytest.raises(InvalidInput) as err:
        manage.set_weekly_windows(session, actor=manager, station_id=st.id, now=NOW, week=_week(
            "10:00-12:00", TODAY + manage.PLAN_AHEAD + timedelta(days=1)))
    assert err.value.details.get("field") == "effective_from"


def test_a_grace_change_is_a_version_from_today(session: Session, scene) -> None:
    world, st, manager, _steward = scene
    from community.stations.schemas import StationIn

    data = StationIn.model_validate({"name": st.name, "categories": st.category_list(),
                                     "status": "open", "grace_minutes": 0}, strict=False)
    manage.update_station(session, actor=manager, station_id=st.id, data=data, now=NOW)
    session.commit()
    info = services.load_station_schedules(session, {st.id}, set())[st.id]
    assert info.in_force(TODAY - timedelta(days=1)).grace_minutes == 10
    assert info.in_force(TODAY).grace_minutes == 0
    assert info.in_force(TODAY).weekly == info.in_force(TODAY - timedelta(days=1)).weekly
    assert _dirty(session) == 0


def test_suspending_and_reopening_are_recorded(session: Session, scene) -> None:
    _world, st, manager, _steward = scene
    manage.set_station_status(session, actor=manager, station_id=st.id, status="suspended",
                              now=NOW)
    session.commit()
    tomorrow = TODAY + timedelta(days=1)
    info = services.load_station_schedules(session, {st.id}, set())[st.id]
    assert info.in_force(TODAY).open  # open this morning
    assert not info.in_force(tomorrow).open
    from community.stations import windows

    assert [w.start for w in windows.windows_on(info.schedule, {}, TODAY)] == [at(TODAY, 7)]
    manage.set_station_status(session, actor=manager, station_id=st.id, status="open",
                              now=NOW + timedelta(days=1))
    session.commit()
    events = session.execute(select(StationStatusEvent.status, StationStatusEvent.effective_at)
                             .where(col(StationStatusEvent.station_id) == st.id)
                             .order_by(col(StationStatusEvent.effective_at))).all()
    assert events == [("open", at(date(2026, 11, 1), 0).astimezone(UTC)),
                      ("suspended", NOW.astimezone(UTC)),
                      ("open", (NOW + timedelta(days=1)).astimezone(UTC))]
    assert _dirty(session) == 0


def test_a_new_station_exists_from_its_creation_day(session: Session, world) -> None:
    manager = auth_services.load_actor(session, world.manager_a.id)
    from community.stations.schemas import StationIn

    data = StationIn.model_validate({"name": "新站", "categories": ["kitchen"],
                                     "status": "open", "grace_minutes": 10}, strict=False)
    st = manage.create_station(session, actor=manager, community_id=world.a.id, data=data)
    session.commit()
    info = services.load_station_schedules(session, {pk_of(st)}, set())[pk_of(st)]
    created = st.created_at.astimezone(SH).date()
    assert info.schedule.version_on(created) is not None
    assert info.in_force(created).open
    assert not info.in_force(created - timedelta(days=1)).open


def test_past_days_are_marked_only_when_an_edit_reaches_them(session: Session, world) -> None:
    # Edits never take effect in the past, so this is the rule kept for completeness.
    manage._mark_past_days(session, world.a.id, TODAY, TODAY, NOW)
    assert _dirty(session) == 0
    manage._mark_past_days(session, world.a.id, TODAY - timedelta(days=2), TODAY, NOW)
    days = session.execute(select(DirtyDay.local_date, DirtyDay.schedule)).all()
    assert sorted(days) == [(TODAY - timedelta(days=2), 1), (TODAY - timedelta(days=1), 1)]


def pk_of(st: Station) -> int:
    assert st.id is not None
    return st.id


def test_the_page_plans_a_version_and_refuses_a_past_day(client, session: Session,
                                                         world: builders.World) -> None:
    st = builders.station(session, world.a)
    session.commit()
    builders.login(client, world.manager_a)
    url = f"/manage/stations/{st.id}/schedule"
    days = {f"weekday_{d}": "10:00-12:00" for d in range(7)}
    past = (TODAY - timedelta(days=1)).isoformat()
    resp = client.post(url, data={**days, "effective_from": past})
    assert resp.status_code == 422
    assert "不能修改过去的日期。" in resp.get_data(as_text=True)
    later = (TODAY + timedelta(days=3)).isoformat()
    assert client.post(url, data={**days, "effective_from": later}).status_code == 302
    page = client.get(f"/manage/stations/{st.id}").get_data(as_text=True)
    assert 'data-testid="version-table"' in page
    assert later in page
    assert "待生效" in page  # planned
    assert "生效中" in page  # the first version, in force today
