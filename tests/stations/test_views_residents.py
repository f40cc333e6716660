"""Residents' home lists their community's stations: open now (until …) or the next window."""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from community import clock
from community.households.models import HouseholdMember
from community.stations.models import StationException
from tests import builders
from tests.stations.helpers import english

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def linked(session: Session, world: builders.World):
    """resident_a linked to a household of A; A has two stations, B one."""
    session.add(HouseholdMember(community_id=world.households_a[0].community_id,
                                household_id=world.households_a[0].id,
                                account_id=world.resident_a.id, status="approved"))
    st1 = builders.station(session, world.a, "一号点")
    st2 = builders.station(session, world.a, "夜间点", ranges=((22, 1),))
    builders.station(session, world.b, "金浦一号")
    session.commit()
    return world, st1, st2


def _states(page: str) -> list[str]:
    return [p.split(">", 1)[1].split("<", 1)[0]
            for p in page.split('data-testid="station-state"')[1:]]


def _by_name(page: str) -> dict[str, str]:
    names = [p.split("<strong>", 1)[1].split("<", 1)[0]
             for p in page.split('data-testid="my-station"')[1:]]
    return dict(zip(names, _states(page), strict=True))


@pytest.mark.parametrize(("moment", "expected"), [
    (datetime(2026, 11, 20, 8, 0, tzinfo=SH), ["开放中（至 09:00）", "下次开放 22:00"]),
    (datetime(2026, 11, 20, 12, 0, tzinfo=SH), ["下次开放 18:00", "下次开放 22:00"]),
    (datetime(2026, 11, 20, 23, 30, tzinfo=SH), ["下次开放 11-21 07:00", "开放中（至 01:00）"]),
    (datetime(2026, 11, 21, 0, 30, tzinfo=SH), ["下次开放 07:00", "开放中（至 01:00）"]),
])
def test_open_now_and_next_window(client, linked, moment: datetime, expected: list) -> None:
    world, _st1, _st2 = linked
    builders.login(client, world.resident_a)
    with clock.freeze(moment):
        page = client.get("/me/").get_data(as_text=True)
    assert 'data-testid="my-stations"' in page
    assert _by_name(page) == dict(zip(["一号点", "夜间点"], expected, strict=True))
    assert "金浦一号" not in page


def test_exception_and_suspension(client, session: Session, linked) -> None:
    world, st1, st2 = linked
    session.add(StationException(station_id=st1.id, day=date(2026, 11, 20)))  # closed
    st2.status = "suspended"
    session.add(st2)
    session.commit()
    builders.login(client, world.resident_a)
    with clock.freeze(datetime(2026, 11, 20, 8, 0, tzinfo=SH)):
        page = client.get("/me/").get_data(as_text=True)
        assert _by_name(page) == {"一号点": "下次开放 11-21 07:00", "夜间点": "已暂停"}
        english(client, "/me/")
        page = client.get("/me/").get_data(as_text=True)
        assert _by_name(page) == {"一号点": "Next window at 11-21 07:00", "夜间点": "Suspended"}


def test_special_hours_and_english(client, session: Session, linked) -> None:
    world, st1, _st2 = linked
    session.add(StationException(station_id=st1.id, day=date(2026, 11, 20),
                                 start_time=time(10), end_time=time(11, 30)))
    session.commit()
    builders.login(client, world.resident_a)
    english(client, "/me/")
    with clock.freeze(datetime(2026, 11, 20, 10, 15, tzinfo=SH)):
        page = client.get("/me/").get_data(as_text=True)
    assert _by_name(page)["一号点"] == "Open now (until 11:30)"


def test_unlinked_resident_sees_no_stations(client, linked) -> None:
    world, _st1, _st2 = linked
    builders.login(client, world.resident_b)  # has a role in B but no linked household
    page = client.get("/me/").get_data(as_text=True)
    assert 'data-testid="my-stations"' not in page
    assert "金浦一号" not in page
