"""The phone walkthrough's defects of the scan loop (issue 17, item 1), server side: an
incorrect verdict always carries a reason (devices and batches too, refused per item), a
late undo is refused in both languages, and the scan page knows the steward's recent scans
(undo after a reload), the server's clock and the station to start on."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from pydantic import ValidationError
from sqlmodel import Session, func, select

from community import clock
from community.auth import services as auth_services
from community.stations import services as stations_services
from community.stations.models import Drop
from community.stations.schemas import DeviceIn, DropIn
from tests import builders
from tests.stations.test_api import NOW, _drop


@pytest.fixture(autouse=True)
def frozen():
    """Inside the station's morning window."""
    with clock.freeze(NOW):
        yield


@pytest.fixture
def scene(session: Session, world: builders.World):
    """Community A with one station; the steward on a shift there around NOW."""
    st = builders.station(session, world.a, "东门投放点")
    builders.on_duty(session, world.steward_a, st, NOW - timedelta(hours=1),
                     NOW + timedelta(hours=1))
    session.commit()
    return world, st


def _count(session: Session) -> int:
    session.commit()
    n = session.exec(select(func.count()).select_from(Drop)).one()
    session.commit()
    return n


def _config(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="scan-config">(.*?)</script>', html,
                      re.S)
    assert match, html[:500]
    return json.loads(match.group(1))


# --- An incorrect verdict needs its reason ---------------------------------------------------

def test_the_drop_model_refuses_an_incorrect_verdict_without_reason() -> None:
    base = {"client_id": "schema-0001", "station_id": 1, "category": "kitchen",
            "happened_at": NOW.isoformat(), "card": "ABCD-EFGH"}
    with pytest.raises(ValidationError) as err:
        DropIn.model_validate_json(json.dumps(base | {"quality": "incorrect"}))
    assert [e["loc"] for e in err.value.errors()] == [("reason_code",)]
    # Named, it parses; the other verdicts need none.
    DropIn.model_validate_json(json.dumps(base | {"quality": "incorrect",
                                                  "reason_code": "kitchen_plastic_bag"}))
    for quality in ("correct", "ungraded"):
        DropIn.model_validate_json(json.dumps(base | {"quality": quality}))


def test_a_device_batch_refuses_only_the_incorrect_item_without_reason(
        client: FlaskClient, session: Session, scene) -> None:
    world, st = scene
    manager = auth_services.load_actor(session, world.manager_a.id)
    _device, token = stations_services.issue_device(
        session, actor=manager, community_id=world.a.id,
        data=DeviceIn.parse(name="智能桶", station_id=st.id))
    cards = [builders.active_card(session, hh).token for hh in world.households_a]
    session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    resp = client.post("/api/v1/drops/batch", headers=auth, json={"drops": [
        _drop(st.id, cards[0], n=1),
        _drop(st.id, cards[1], n=2, quality="incorrect"),
        _drop(st.id, cards[2], n=3, quality="incorrect", reason_code="residual_in_kitchen"),
    ]})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert [r["ok"] for r in body["results"]] == [True, False, True]
    refused = body["results"][1]
    assert refused["error"] == "invalid"
    assert refused["client_id"] == "api-client-000002"
    assert "原因" in refused["fields"]["reason_code"], refused  # in Chinese by default
    assert (body["stored"], body["failed"]) == (2, 1)
    assert _count(session) == 2

    # One drop alone: a 422 naming the field, nothing stored, in the caller's language.
    client.post("/lang", data={"lang": "en", "next": "/"})
    one = client.post("/api/v1/drops", headers=auth,
                      json=_drop(st.id, cards[1], n=4, quality="incorrect"))
    assert one.status_code == 422, one.get_json()
    assert one.get_json()["error"] == "invalid"
    assert "reason" in one.get_json()["fields"]["reason_code"]
    assert _count(session) == 2


def test_a_steward_batch_refuses_it_too(client: FlaskClient, session: Session, scene) -> None:
    world, st = scene
    card = builders.active_card(session, world.households_a[0]).token
    session.commit()
    builders.login(client, world.steward_a)
    resp = client.post("/api/v1/drops/batch", json={"drops": [
        _drop(st.id, card, n=1, quality="incorrect")]})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["results"][0]["error"] == "invalid"
    assert "reason_code" in resp.get_json()["results"][0]["fields"]
    assert _count(session) == 0


# --- A late undo is refused with a clear message in both languages ---------------------------

def test_a_late_undo_is_refused_in_chinese_and_english(client: FlaskClient, session: Session,
                                                       scene) -> None:
    world, st = scene
    card = builders.active_card(session, world.households_a[0]).token
    session.commit()
    builders.login(client, world.steward_a)
    assert client.post("/api/v1/drops", json=_drop(st.id, card, n=1)).status_code == 201
    with clock.freeze(NOW + timedelta(minutes=5, seconds=1)):
        zh = client.post("/api/v1/drops/api-client-000001/void")
        assert zh.status_code == 409
        assert zh.get_json()["error"] == "void_too_late"
        assert "5分钟内撤销" in zh.get_json()["message"]
        client.post("/lang", data={"lang": "en", "next": "/"})
        en = client.post("/api/v1/drops/api-client-000001/void")
        assert en.status_code == 409
        assert "within 5 minutes" in en.get_json()["message"]
    session.commit()
    assert session.exec(select(Drop)).one().voided_at is None
    session.commit()


# --- The scan page: recent scans, the server's clock, the station to start on ----------------

def test_the_page_lists_the_stewards_own_scans_of_the_last_5_minutes(
        client: FlaskClient, session: Session, scene) -> None:
    world, st = scene
    cards = [builders.active_card(session, hh).token for hh in world.households_a]
    chief = builders.recorder(session, world.a)
    session.commit()
    builders.login(client, world.steward_a)
    with clock.freeze(NOW - timedelta(minutes=6)):  # too old to undo by now
        assert client.post("/api/v1/drops", json=_drop(
            st.id, cards[0], n=1, happened_at=clock.now().isoformat())).status_code == 201
    with clock.freeze(NOW - timedelta(minutes=2)):
        assert client.post("/api/v1/drops", json=_drop(
            st.id, cards[1], n=2, quality="incorrect", reason_code="kitchen_plastic_bag",
            happened_at=clock.now().isoformat())).status_code == 201
        assert client.post("/api/v1/drops", json=_drop(
            st.id, cards[2], n=3, happened_at=clock.now().isoformat())).status_code == 201
        assert client.post("/api/v1/drops/api-client-000003/void").status_code == 200
    # Another recorder's scan of the same minute is not the steward's to undo.
    stations_services.record_drop(session, actor=chief, item=DropIn.model_validate(
        _drop(st.id, cards[0], n=9, happened_at=NOW - timedelta(minutes=1)), strict=False))
    session.commit()

    config = _config(client.get("/steward/scan").get_data(as_text=True))
    assert config["server_now"] == int(NOW.timestamp() * 1000)
    recent = config["recent"]
    assert [r["client_id"] for r in recent] == ["api-client-000003", "api-client-000002"]
    undone, wrong = recent
    assert undone["voided"] is True
    assert wrong["voided"] is False
    assert (wrong["category"], wrong["quality"]) == ("kitchen", "incorrect")
    assert wrong["household_label"] == "1栋1单元102室"
    at = NOW - timedelta(minutes=2)
    assert wrong["happened_at"] == int(at.timestamp() * 1000)
    assert wrong["void_until"] == int((at + timedelta(minutes=5)).timestamp() * 1000)
    assert "13800000001" not in json.dumps(config)  # no phone numbers on the page

    # Three minutes later the window of both has closed: nothing left to undo.
    with clock.freeze(NOW + timedelta(minutes=3, seconds=1)):
        later = _config(client.get("/steward/scan").get_data(as_text=True))
    assert later["recent"] == []


def test_the_page_starts_on_the_station_of_the_current_or_next_shift(
        client: FlaskClient, session: Session, world: builders.World) -> None:
    east = builders.station(session, world.a, "东门投放点")
    west = builders.station(session, world.a, "西门投放点")
    session.commit()
    builders.login(client, world.steward_a)
    # No shift and two stations: the phone's last choice decides.
    assert _config(client.get("/steward/scan").get_data(as_text=True))["preselect"] is None
    # The next shift, in two hours, is at the west gate.
    builders.on_duty(session, world.steward_a, west, NOW + timedelta(hours=2),
                     NOW + timedelta(hours=4))
    session.commit()
    assert _config(client.get("/steward/scan").get_data(as_text=True))["preselect"] == west.id
    # A shift running now, at the east gate, comes first.
    builders.on_duty(session, world.steward_a, east, NOW - timedelta(minutes=30),
                     NOW + timedelta(minutes=60))
    session.commit()
    assert _config(client.get("/steward/scan").get_data(as_text=True))["preselect"] == east.id


def test_the_only_station_is_preselected(client: FlaskClient, session: Session,
                                         world: builders.World) -> None:
    st = builders.station(session, world.a, "东门投放点")
    session.commit()
    builders.login(client, world.steward_a)
    assert _config(client.get("/steward/scan").get_data(as_text=True))["preselect"] == st.id
