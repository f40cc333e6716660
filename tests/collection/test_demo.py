"""The demo's collection (community/demo/collection.py): collectors on two streets, their
stations tagged with pickup windows, daily pickups up to today's, and the collector's pages
with demo data."""
from __future__ import annotations

from collections import Counter

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlmodel import Session

from community import demo
from community.areas.models import Area
from community.auth.models import Account, RoleGrant
from community.collection.models import Collection, CollectionLine, StationTag
from community.db import open_session
from community.demo.context import DEMO_PASSWORD
from community.stations.models import Station
from tests.conftest import DEFAULT_NOW

DEMO = pytest.mark.demo_db


@DEMO
def test_collectors_on_two_streets_with_daily_pickups(app: Flask, session: Session,
                                                      client: FlaskClient) -> None:
    with open_session(app) as s:
        demo.build(s, seed=7, echo=lambda _line: None, days=4)
    grants = session.execute(select(Account.username, Area.name).join(
        RoleGrant, RoleGrant.account_id == Account.id).join(Area, Area.id == RoleGrant.area_id)
        .where(RoleGrant.role == "collector")).all()
    assert sorted(grants) == [("collector1", "玉山镇"), ("collector2", "周市镇")]
    pickups = list(session.execute(select(Collection)).scalars())
    lines = list(session.execute(select(CollectionLine)).scalars())
    streets = {a.id: a.parent_id for a in session.execute(select(Area)).scalars()}
    assert len({streets[p.community_id] for p in pickups}) == 2
    stations = {p.station_id for p in pickups}
    tagged = set(session.execute(select(StationTag.station_id)).scalars())
    assert stations <= tagged
    per_station = Counter(p.station_id for p in pickups)
    # At most one a day: the 4 days before today, and today's (built at 10:00, after the
    # 06:00–07:30 window) once recorded by then.
    assert all(1 <= n <= 5 for n in per_station.values())
    today = DEFAULT_NOW.date()
    todays = [p for p in pickups if p.local_date == today]
    assert todays
    assert all(p.received_at <= DEFAULT_NOW for p in todays)
    assert {line.collection_id for line in lines} == {p.id for p in pickups}
    assert all(line.kg > 0 for line in lines)
    assert any(p.on_time for p in pickups)
    # Every station of the two streets' communities is served.
    communities = {p.community_id for p in pickups}
    assert stations == set(session.execute(select(Station.id).where(
        Station.community_id.in_(communities))).scalars()) - {None}
    session.commit()
    resp = client.post("/login", data={"login": "collector1", "password": DEMO_PASSWORD})
    assert resp.status_code == 302
    day = client.get("/collector/")
    assert day.status_code == 200
    assert day.get_data(as_text=True).count('data-testid="stop"') >= 2
    assert 'data-testid="stop-done"' in day.get_data(as_text=True)  # today's, done
