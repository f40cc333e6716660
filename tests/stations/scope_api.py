"""Scope cases for the stations module (api endpoints); see tests/scope.py.

Manager B tries A's station (record, batch, read) and A's recorded drop (replay its client
id, attach a photo). The API answers 403/404, or 200 without A's data for lists and batches.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image
from sqlalchemy.orm import object_session
from sqlmodel import Session

from community.auth import services as auth_services
from community.households.services import address_label
from community.stations import services as stations_services
from community.stations.schemas import DropIn
from tests import builders
from tests.builders import World
from tests.scope import Case, exempt, foreign

# No area: the caller's own CSRF token, the API document and its docs page.
exempt("api.csrf_token", "api.openapi_document", "api.docs")

MOMENT = datetime(2026, 11, 20, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
A_CLIENT_ID = "scope-a-drop-0001"


@dataclass
class _A:
    station_id: int
    station_name: str
    card: str
    label: str


def _a(w: World) -> _A:
    """A station of A with one recorded drop (created once per test, committed)."""
    owner = object_session(w.a)
    assert owner is not None
    # A session of our own, closed at once: an open SQLite transaction would lock the app out.
    with Session(owner.get_bind()) as session:
        st = builders.station(session, w.a, "玉龙东门投放点")
        card = builders.active_card(session, w.households_a[0])
        builders.on_duty(session, w.steward_a, st, MOMENT - timedelta(hours=10),
                         MOMENT + timedelta(hours=14))
        steward = auth_services.load_actor(session, w.steward_a.id)
        stations_services.record_drop(session, actor=steward, now=MOMENT, item=DropIn(
            client_id=A_CLIENT_ID, station_id=st.id, category="kitchen",
            happened_at=MOMENT, card=card.token))
        session.commit()
        return _A(st.id, st.name, card.token, address_label(w.households_a[0]))


def _body(a: _A, client_id: str) -> dict:
    return {"client_id": client_id, "station_id": a.station_id, "category": "kitchen",
            "happened_at": MOMENT.isoformat(), "card": a.card}


@foreign("api.record_drop")
def _record(w: World) -> list[Case]:
    a = _a(w)
    return [
        Case("POST", "/api/v1/drops", json=_body(a, "scope-b-try-0001")),
        Case("POST", "/api/v1/drops", json=dict(_body(a, "scope-b-try-0002"), card=None,
                                                 tally=True)),
        # Replaying A's client id must not hand out A's drop.
        Case("POST", "/api/v1/drops", json=_body(a, A_CLIENT_ID)),
    ]


@foreign("api.record_drops")
def _batch(w: World) -> list[Case]:
    a = _a(w)
    body = {"drops": [_body(a, "scope-b-try-0003"), _body(a, A_CLIENT_ID)]}
    return [Case("POST", "/api/v1/drops/batch", json=body, expect=(200,),
                 absent=[a.label, '"ok": true', '"ok":true'])]


@foreign("api.attach_photo")
def _photo(w: World) -> list[Case]:
    _a(w)
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    return [Case("POST", f"/api/v1/drops/{A_CLIENT_ID}/photo",
                 data={"photo": (io.BytesIO(png.getvalue()), "p.png")})]


@foreign("api.list_stations")
def _list(w: World) -> list[Case]:
    a = _a(w)
    return [Case("GET", "/api/v1/stations", expect=(200,), absent=[a.station_name])]


@foreign("api.get_station")
def _get(w: World) -> list[Case]:
    a = _a(w)
    return [Case("GET", f"/api/v1/stations/{a.station_id}")]


@foreign("api.void_drop")
def _void(w: World) -> list[Case]:
    _a(w)
    return [Case("POST", f"/api/v1/drops/{A_CLIENT_ID}/void", json={}),
            Case("POST", "/api/v1/drops/scope-no-such-drop/void", json={})]
