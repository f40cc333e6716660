"""The managers' station use cases: stations, weekly windows, date exceptions (both backends).

The pure schedule helpers are tested without a database: range parsing in test_forms.py,
overlaps in test_windows.py.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlmodel import Session, select

from community.auth import services as auth_services
from community.errors import Conflict, Forbidden, InvalidInput
from community.stations.manage import queries, services
from community.stations.models import StationException, StationWindow
from community.stations.schemas import ExceptionIn, StationIn
from tests import builders

T = time


# --- use cases (both backends) ----------------------------------------------------------------

def _actor(session: Session, account):
    actor = auth_services.load_actor(session, account.id)
    session.commit()
    return actor


def test_create_station_gets_default_windows_and_audit(session: Session,
                                                       world: builders.World) -> None:
    manager = _actor(session, world.manager_a)
    st = services.create_station(session, actor=manager, community_id=world.a.id,
                                 data=StationIn.parse(name=" 3号投放点 ",
                                                            categories=["other", "kitchen"]))
    session.commit()
    assert st.name == "3号投放点"
    assert st.categories == "kitchen,other"  # canonical order
    windows = session.exec(select(StationWindow).where(StationWindow.station_id == st.id)).all()
    assert len(windows) == 14
    assert {(w.start_time, w.end_time) for w in windows} == {(T(7), T(9)), (T(18), T(20))}
    with pytest.raises(Conflict):
        services.create_station(session, actor=manager, community_id=world.a.id,
                                data=StationIn.parse(name="3号投放点"))
    session.rollback()
    with pytest.raises(Forbidden):
        services.create_station(session, actor=_actor(session, world.manager_b),
                                community_id=world.a.id,
                                data=StationIn.parse(name="外来"))


@pytest.mark.parametrize(("changes", "field"), [
    ({"name": " "}, "name"),
    ({"latitude": 91.0, "longitude": 120.0}, "latitude"),
    ({"latitude": 31.0, "longitude": -181.0}, "longitude"),
    ({"latitude": 31.0}, "longitude"),
    ({"categories": []}, "categories"),
    ({"categories": ["kitchen", "bulky"]}, "categories"),
    ({"status": "closed"}, "status"),
    ({"grace_minutes": 121}, "grace_minutes"),
    ({"grace_minutes": -1}, "grace_minutes"),
])
def test_station_validation(session: Session, world: builders.World, changes: dict,
                            field: str) -> None:
    manager = _actor(session, world.manager_a)
    with pytest.raises(InvalidInput) as err:
        services.create_station(session, actor=manager, community_id=world.a.id,
                                data=StationIn.parse({"name": "站"} | changes))
    assert err.value.details["field"] == field


def test_chief_must_be_a_steward_of_the_community(session: Session,
                                                  world: builders.World) -> None:
    manager = _actor(session, world.manager_a)
    st = builders.station(session, world.a, "一号点")
    session.commit()
    assert [a.id for a in queries.chief_candidates(session, world.a.id)] == [world.steward_a.id]
    with pytest.raises(InvalidInput):
        services.update_station(session, actor=manager, station_id=st.id,
                                data=StationIn.parse(name="一号点",
                                                           chief_id=world.resident_a.id))
    session.rollback()
    services.update_station(session, actor=manager, station_id=st.id,
                            data=StationIn.parse(name="一号点",
                                                       chief_id=world.steward_a.id))
    session.commit()
    assert st.chief_id == world.steward_a.id


def test_weekly_windows_replace_and_refuse_overlaps(session: Session,
                                                    world: builders.World) -> None:
    manager = _actor(session, world.manager_a)
    st = builders.station(session, world.a)
    session.commit()
    services.set_weekly_windows(session, actor=manager, station_id=st.id,
                                week=builders.week({0: [(T(22), T(1))],
                                                    2: [(T(6), T(8)), (T(17), T(19))]}))
    session.commit()
    rows = session.exec(select(StationWindow).where(StationWindow.station_id == st.id)
                        .order_by(StationWindow.weekday, StationWindow.start_time)).all()
    assert [(w.weekday, w.start_time, w.end_time) for w in rows] == [
        (0, T(22), T(1)), (2, T(6), T(8)), (2, T(17), T(19))]
    with pytest.raises(services.WindowsOverlap) as err:
        services.set_weekly_windows(
            session, actor=manager, station_id=st.id,
            week=builders.week({3: [(T(7), T(9)), (T(8, 30), T(10))]}))
    assert err.value.details == {"field": "weekday_3", "ranges": "07:00–09:00 / 08:30–10:00"}
    session.rollback()
    with pytest.raises(InvalidInput):
        services.set_weekly_windows(session, actor=manager, station_id=st.id,
                                    week=builders.week({3: [(T(7), T(7))]}))
    session.rollback()
    assert session.exec(select(StationWindow).where(StationWindow.station_id == st.id)
                        ).all().__len__() == 3  # refused edits changed nothing


def test_exceptions(session: Session, world: builders.World) -> None:
    manager = _actor(session, world.manager_a)
    st = builders.station(session, world.a)
    session.commit()
    now = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    day = date(2026, 11, 25)
    kw = {"actor": manager, "station_id": st.id, "now": now}
    add = ExceptionIn.parse
    services.add_exception(session, data=add(day=day, start=T(8), end=T(10), note="活动"), **kw)
    services.add_exception(session, data=add(day=day, start=T(18), end=T(19)), **kw)
    with pytest.raises(services.WindowsOverlap):
        services.add_exception(session, data=add(day=day, start=T(9), end=T(11)), **kw)
    with pytest.raises(services.ExceptionConflict):
        # closed, but special hours exist
        services.add_exception(session, data=add(day=day), **kw)
    with pytest.raises(InvalidInput) as err:
        services.add_exception(session, data=add(day=date(2026, 11, 19)), **kw)
    assert err.value.details["field"] == "day"
    closed = services.add_exception(session, data=add(day=date(2026, 11, 20), note="停电"),
                                    **kw)
    with pytest.raises(services.ExceptionConflict):
        services.add_exception(session, data=add(day=date(2026, 11, 20), start=T(8), end=T(9)),
                               **kw)
    session.commit()
    assert len(queries.list_exceptions(session, st.id, date(2026, 11, 20))) == 3
    later = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # 00:00 on 11-21 in Shanghai
    with pytest.raises(InvalidInput):  # 11-20 has been lived with that exception
        services.remove_exception(session, actor=manager, exception_id=closed.id, now=later)
    services.remove_exception(session, actor=manager, exception_id=closed.id, now=now)
    session.commit()
    assert session.get(StationException, closed.id) is None
    with pytest.raises(Forbidden):
        services.add_exception(session, actor=_actor(session, world.manager_b),
                               station_id=st.id, data=ExceptionIn.parse(day=day), now=now)
