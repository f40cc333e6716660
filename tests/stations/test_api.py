"""The drop API over HTTP (both backends): replays, status codes, field errors, auth, batches."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, func, select

from community import clock
from community.auth import services as auth_services
from community.households import services as hh_services
from community.stations import services as stations_services
from community.stations.models import Drop, StationException
from community.stations.schemas import DeviceIn
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 8, 30, tzinfo=SH)  # a Friday, inside 07:00–09:00


@pytest.fixture(autouse=True)
def frozen():
    """The API reads clock.now(): freeze it inside the morning window."""
    with clock.freeze(NOW):
        yield


@pytest.fixture
def scene(session: Session, world: builders.World):
    """Community A with one station (all categories, 07–09 and 18–20, grace 10)."""
    st = builders.station(session, world.a, "东门投放点")
    # The steward is on a shift there all around NOW (stewards record only on duty).
    builders.on_duty(session, world.steward_a, st, NOW - timedelta(hours=10),
                     NOW + timedelta(hours=14))
    session.commit()
    return world, st


def _drop(station_id: int, card: str | None = None, n: int = 1, **kw) -> dict:
    body = {"client_id": f"api-client-{n:06d}", "station_id": station_id, "category": "kitchen",
            "quality": "correct", "happened_at": NOW.isoformat()}
    if card is not None:
        body["card"] = card
    return body | kw


def _count(session: Session) -> int:
    session.commit()  # a fresh transaction: SQLite readers keep their start snapshot
    n = session.exec(select(func.count()).select_from(Drop)).one()
    session.commit()  # end the read so the app can write (SQLite)
    return n


def _english(client: FlaskClient) -> None:
    client.post("/lang", data={"lang": "en", "next": "/"})


def test_single_drop_is_created_then_replayed(client, session: Session, scene) -> None:
    world, st = scene
    card = builders.active_card(session, world.households_a[0])
    builders.login(client, world.steward_a)
    resp = client.post("/api/v1/drops", json=_drop(st.id, card.token))
    assert resp.status_code == 201, resp.get_json()
    first = resp.get_json()
    assert first["replay"] is False
    assert first["source"] == "scan"
    assert first["in_window"] is True
    assert first["household_id"] == world.households_a[0].id
    assert first["household_label"] == "1栋1单元101室"
    assert first["warnings"] == []
    assert first["points"] == 2  # kitchen, correct, in window
    assert first["happened_at"] == "2026-11-20T00:30:00Z"

    again = client.post("/api/v1/drops", json=_drop(st.id, card.token))
    assert again.status_code == 200
    body = again.get_json()
    assert body["replay"] is True
    assert body["id"] == first["id"]
    assert {k: v for k, v in body.items() if k != "replay"} == {
        k: v for k, v in first.items() if k != "replay"}
    assert _count(session) == 1


def test_short_code_tally_and_out_of_window(client, session: Session, scene) -> None:
    world, st = scene
    card = builders.active_card(session, world.households_a[1])
    builders.login(client, world.steward_a)
    typed = f"{card.short_code[:4].lower()}-{card.short_code[4:]}"
    late = (NOW + timedelta(hours=3)).isoformat()
    with clock.freeze(NOW + timedelta(hours=3)):
        resp = client.post("/api/v1/drops", json=_drop(st.id, typed, happened_at=late))
        tally = client.post("/api/v1/drops", json=_drop(st.id, None, n=2, tally=True))
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["source"] == "manual"
    assert body["in_window"] is False
    assert body["warnings"] == ["out_of_window"]
    assert tally.status_code == 201
    assert tally.get_json()["source"] == "tally"
    assert tally.get_json()["household_id"] is None
    assert _count(session) == 2


def test_non_json_is_415(client, session: Session, scene) -> None:
    world, st = scene
    builders.login(client, world.steward_a)
    for kwargs in ({"data": "client_id=x", "content_type": "application/x-www-form-urlencoded"},
                   {"data": '{"client_id": "x"}', "content_type": "text/plain"},
                   {}):
        resp = client.post("/api/v1/drops", **kwargs)
        assert resp.status_code == 415, kwargs
        assert resp.get_json()["error"] == "unsupported_media_type"
        assert resp.get_json()["message"] == "不支持的内容类型。"
    assert client.post("/api/v1/drops/batch", data="[]", content_type="text/csv"
                       ).status_code == 415
    assert _count(session) == 0


def test_oversized_body_is_413(client, session: Session, scene) -> None:
    world, st = scene
    builders.login(client, world.steward_a)
    item = _drop(st.id, None, tally=True, note="x" * 200)
    drops = [dict(item, client_id=f"big-client-{i:06d}") for i in range(500)]
    import json

    huge = json.dumps({"drops": drops, "pad": "y" * (1024 * 1024)})
    resp = client.post("/api/v1/drops/batch", data=huge, content_type="application/json")
    assert resp.status_code == 413
    assert resp.get_json()["error"] == "too_large"
    resp = client.post("/api/v1/drops", data=json.dumps(item | {"x": "z" * 2_000_000}),
                       content_type="application/json")
    assert resp.status_code == 413
    assert _count(session) == 0


def test_schema_errors_are_422_with_fields(client, session: Session, scene) -> None:
    world, st = scene
    card = builders.active_card(session, world.households_a[0])
    builders.login(client, world.steward_a)
    bad = _drop(st.id, card.token, tally=0, category="glass", happened_at="2026-11-20T08:30:00",
                colour="red")
    resp = client.post("/api/v1/drops", json=bad)
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["error"] == "invalid"
    assert body["message"] == "部分字段无效。"
    assert body["fields"] == {
        "tally": "须为 true 或 false。",
        "category": "不是允许的取值。",
        "happened_at": "时间须包含时区偏移，例如 +08:00。",
        "colour": "未知字段。",
    }
    missing = client.post("/api/v1/drops", json={"station_id": "1"}).get_json()["fields"]
    assert missing["client_id"] == "此项必填。"
    assert missing["station_id"] == "须为整数。"
    assert client.post("/api/v1/drops", data="{oops", content_type="application/json"
                       ).get_json()["fields"] == {"body": "请求体不是有效的 JSON。"}
    weight = client.post("/api/v1/drops", json=_drop(st.id, card.token, weight_kg=51))
    assert weight.get_json()["fields"] == {"weight_kg": "超出允许范围。"}
    _english(client)
    body = client.post("/api/v1/drops", json=bad).get_json()
    assert body["message"] == "Some fields are not valid."
    assert body["fields"]["tally"] == "Must be true or false."
    assert body["fields"]["happened_at"] == "The time must include a time-zone offset, e.g. +08:00."
    assert _count(session) == 0


def test_domain_errors_name_their_field(client, session: Session, scene) -> None:
    world, st = scene
    card = builders.active_card(session, world.households_a[0])
    bins = builders.station(session, world.a, "厨余其他投放点", categories="kitchen,other")
    session.commit()
    builders.login(client, world.steward_a)
    cases = [
        (_drop(9999, card.token), 404, "station_unknown", "station_id", "该投放点不存在。"),
        (_drop(st.id, "Z" * 24), 404, "card_unknown", "card", None),
        (_drop(st.id, card.token, happened_at=(NOW + timedelta(hours=1)).isoformat()),
         422, "time_in_future", "happened_at", None),
        (_drop(st.id, builders.active_card(session, world.households_b[0]).token),
         404, "card_unknown", "card", None),
        (_drop(st.id, card.token, tally=True), 422, "tally_with_card", "card", None),
        (_drop(st.id), 422, "card_required", "card", None),
        (_drop(st.id, card.token, happened_at=(NOW - timedelta(days=31)).isoformat()),
         422, "time_too_old", "happened_at", None),
        (_drop(bins.id, card.token, category="hazardous"), 422, "category_not_accepted",
         "category", "该投放点没有此类垃圾的投放桶。"),
        (_drop(st.id, "Z" * 65), 422, "invalid", "card", "部分字段无效。"),
    ]
    for body, status, code, field, zh in cases:
        resp = client.post("/api/v1/drops", json=body)
        assert resp.status_code == status, (code, resp.get_json())
        out = resp.get_json()
        assert out["error"] == code
        assert set(out["fields"]) == {field}
        if code != "invalid":
            assert out["fields"][field] == out["message"]
        if zh:
            assert out["message"] == zh
    assert _count(session) == 0


def test_revoked_card_never_stores_a_drop(client, session: Session, scene) -> None:
    world, st = scene
    hh = world.households_a[0]
    old = builders.active_card(session, hh)
    manager = auth_services.load_actor(session, world.manager_a.id)
    with clock.freeze(NOW - timedelta(hours=1)):  # revoked before the drops happened
        hh_services.reissue_card(session, actor=manager, household_id=hh.id)
    session.commit()
    builders.login(client, world.steward_a)
    resp = client.post("/api/v1/drops", json=_drop(st.id, old.token))
    assert resp.status_code == 409
    assert resp.get_json()["error"] == "card_revoked"
    assert resp.get_json()["message"] == "此卡已作废，请使用该户的新卡。"
    resp = client.post("/api/v1/drops", json=_drop(st.id, old.short_code, n=2))
    assert resp.status_code == 409
    batch = client.post("/api/v1/drops/batch", json={"drops": [_drop(st.id, old.token, n=3)]})
    assert batch.get_json()["results"][0]["error"] == "card_revoked"
    assert _count(session) == 0
    # The new card works.
    new = builders.active_card(session, hh)
    assert client.post("/api/v1/drops", json=_drop(st.id, new.token, n=4)).status_code == 201
    assert _count(session) == 1


def test_missing_credentials_are_401(client, session: Session, scene) -> None:
    world, st = scene
    for method, url in (("POST", "/api/v1/drops"), ("POST", "/api/v1/drops/batch"),
                        ("GET", "/api/v1/stations"), ("GET", f"/api/v1/stations/{st.id}"),
                        ("GET", "/api/v1/csrf"),
                        ("POST", "/api/v1/drops/api-client-000001/photo")):
        resp = client.open(url, method=method, json=_drop(st.id, None, tally=True))
        assert resp.status_code == 401, url
        assert resp.get_json() == {"error": "unauthorized", "message": "请先登录。"}
    assert _count(session) == 0


def test_device_token_records_and_revoked_token_is_401(client, session: Session, scene) -> None:
    world, st = scene
    manager = auth_services.load_actor(session, world.manager_a.id)
    device, token = stations_services.issue_device(
        session, actor=manager, community_id=world.a.id,
        data=DeviceIn.parse(name="智能秤1号", station_id=st.id))
    session.commit()
    card = builders.active_card(session, world.households_a[0])
    auth = {"Authorization": f"Bearer {token}"}
    resp = client.post("/api/v1/drops", json=_drop(st.id, card.token, weight_kg=1.25),
                       headers=auth)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["source"] == "device"
    assert client.get(f"/api/v1/stations/{st.id}", headers=auth).status_code == 200
    session.commit()
    row = session.exec(select(Drop)).one()
    session.commit()
    assert row.device_id == device.id
    assert row.recorded_by is None
    assert str(row.weight_kg) == "1.250"

    for header in (f"Bearer {token}x", "Bearer ", f"Basic {token}", "Bearer"):
        resp = client.post("/api/v1/drops", json=_drop(st.id, card.token, n=2),
                           headers={"Authorization": header})
        assert resp.status_code == 401, header
        assert resp.get_json()["error"] == "device_unauthorized"
    stations_services.revoke_device(session, actor=manager, device_id=device.id)
    session.commit()
    resp = client.post("/api/v1/drops", json=_drop(st.id, card.token, n=3), headers=auth)
    assert resp.status_code == 401
    assert resp.get_json()["error"] == "device_unauthorized"
    assert client.get("/api/v1/stations", headers=auth).status_code == 401
    assert _count(session) == 1


def test_device_of_another_community_is_403(client, session: Session, scene) -> None:
    world, st = scene
    manager_b = auth_services.load_actor(session, world.manager_b.id)
    _device, token = stations_services.issue_device(session, actor=manager_b,
                                                    community_id=world.b.id,
                                                    data=DeviceIn.parse(name="B kiosk"))
    session.commit()
    resp = client.post("/api/v1/drops", json=_drop(st.id, None, tally=True),
                       headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 403
    assert resp.get_json()["error"] == "forbidden"
    assert _count(session) == 0


def test_steward_of_another_community_is_403(client, session: Session, scene) -> None:
    world, st = scene
    steward_b = builders.account(session, "steward", world.b, username="stewardb")
    session.commit()
    card = builders.active_card(session, world.households_a[0])
    builders.login(client, steward_b)
    resp = client.post("/api/v1/drops", json=_drop(st.id, card.token))
    assert resp.status_code == 403
    assert resp.get_json() == {"error": "forbidden", "message": "您没有执行此操作的权限。",
                               "details": {"action": "drop:record"}}
    assert client.get(f"/api/v1/stations/{st.id}").status_code == 403
    batch = client.post("/api/v1/drops/batch", json={"drops": [_drop(st.id, card.token)]})
    assert batch.status_code == 200
    assert batch.get_json()["results"][0]["error"] == "forbidden"
    assert batch.get_json()["failed"] == 1
    # A resident (no recording role) of A itself is refused too.
    client.post("/logout")
    builders.login(client, world.resident_a)
    assert client.post("/api/v1/drops", json=_drop(st.id, card.token)).status_code == 403
    assert _count(session) == 0


def _csrf_from_login_page(client: FlaskClient) -> str:
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "login page has no CSRF token"
    return match.group(1)


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_session_posts_need_the_csrf_header(client, session: Session, scene) -> None:
    world, st = scene
    card = builders.active_card(session, world.households_a[0])
    resp = client.post("/login", data={"login": "stewarda", "password": builders.PASSWORD,
                                       "csrf_token": _csrf_from_login_page(client)})
    assert resp.status_code == 302
    body = _drop(st.id, card.token)
    resp = client.post("/api/v1/drops", json=body)
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "csrf"
    assert client.post("/api/v1/drops", json=body,
                       headers={"X-CSRFToken": "forged"}).status_code == 400
    assert client.post("/api/v1/drops/batch", json={"drops": [body]}).status_code == 400
    assert _count(session) == 0

    token = client.get("/api/v1/csrf").get_json()["csrf_token"]
    resp = client.post("/api/v1/drops", json=body, headers={"X-CSRFToken": token})
    assert resp.status_code == 201
    # GETs need no token; devices never need one.
    assert client.get("/api/v1/stations").status_code == 200
    manager = auth_services.load_actor(session, world.manager_a.id)
    _device, device_token = stations_services.issue_device(session, actor=manager,
                                                           community_id=world.a.id,
                                                           data=DeviceIn.parse(name="亭1"))
    session.commit()
    resp = client.application.test_client().post(
        "/api/v1/drops", json=_drop(st.id, card.token, n=2, category="other"),
        headers={"Authorization": f"Bearer {device_token}"})
    assert resp.status_code == 201
    assert _count(session) == 2


def test_batch_stores_good_items_and_reports_bad_ones(client, session: Session, scene) -> None:
    world, st = scene
    cards = [builders.active_card(session, hh) for hh in world.households_a]
    hh = world.households_a[2]
    manager = auth_services.load_actor(session, world.manager_a.id)
    with clock.freeze(NOW - timedelta(hours=1)):  # cards[2] revoked before the drops
        hh_services.reissue_card(session, actor=manager, household_id=hh.id)
    session.commit()
    builders.login(client, world.steward_a)
    drops = [
        _drop(st.id, cards[0].token, n=1),                        # 0 stored
        _drop(st.id, cards[1].token, n=2, tally=0),               # 1 schema error
        _drop(st.id, cards[2].token, n=3),                        # 2 revoked card
        _drop(9999, cards[1].token, n=4),                         # 3 unknown station
        _drop(st.id, None, n=5, tally=True, category="other"),    # 4 stored
        _drop(st.id, cards[0].token, n=1),                        # 5 repeated in the batch
        {"client_id": "short"},                                   # 6 schema errors
    ]
    resp = client.post("/api/v1/drops/batch", json={"drops": drops})
    assert resp.status_code == 200
    out = resp.get_json()
    assert (out["stored"], out["replays"], out["failed"]) == (2, 1, 4)
    res = out["results"]
    assert [r["index"] for r in res] == list(range(7))
    assert [r["ok"] for r in res] == [True, False, False, False, True, True, False]
    assert res[1]["error"] == "invalid"
    assert res[1]["client_id"] == "api-client-000002"
    assert res[1]["fields"] == {"tally": "须为 true 或 false。"}
    assert res[2]["error"] == "card_revoked"
    assert res[3]["error"] == "station_unknown"
    assert res[3]["fields"] == {"station_id": "该投放点不存在。"}
    assert res[5]["drop"]["replay"] is True
    assert res[5]["drop"]["id"] == res[0]["drop"]["id"]
    assert set(res[6]["fields"]) >= {"client_id", "station_id", "category", "happened_at"}
    assert _count(session) == 2

    again = client.post("/api/v1/drops/batch", json={"drops": drops}).get_json()
    assert (again["stored"], again["replays"], again["failed"]) == (0, 3, 4)
    assert again["results"][0]["drop"]["id"] == res[0]["drop"]["id"]
    assert _count(session) == 2


def test_malformed_batches_store_nothing(client, session: Session, scene) -> None:
    world, st = scene
    builders.login(client, world.steward_a)
    good = _drop(st.id, None, tally=True)
    too_many = [dict(good, client_id=f"many-client-{i:05d}") for i in range(501)]
    for body, field in (({"drops": too_many}, "drops"), ({"drops": []}, "drops"),
                        ({"drops": [good, 1]}, "drops.1"), ({"drops": good}, "drops"),
                        ({}, "drops"), ({"drops": [good], "x": 1}, "x"), ([good], "body")):
        resp = client.post("/api/v1/drops/batch", json=body)
        assert resp.status_code == 422, field
        assert field in resp.get_json()["fields"], (field, resp.get_json())
    assert _count(session) == 0
    ok = client.post("/api/v1/drops/batch", json={"drops": too_many[:500]})
    assert ok.get_json()["stored"] == 500
    assert _count(session) == 500


def test_stations_list_and_detail(client, session: Session, scene) -> None:
    world, st = scene
    other = builders.station(session, world.b, "金浦投放点")
    closed = builders.station(session, world.a, "停用投放点")
    closed.status = "suspended"
    tomorrow = NOW.date() + timedelta(days=1)
    session.add_all([closed, StationException(station_id=st.id, day=tomorrow, note="检修"),
                     StationException(station_id=st.id, day=NOW.date() + timedelta(days=30))])
    session.commit()
    builders.login(client, world.steward_a)
    listed = client.get("/api/v1/stations").get_json()["stations"]
    assert [s["name"] for s in listed] == ["东门投放点"]
    assert listed[0]["categories"] == ["kitchen", "recyclable", "hazardous", "other"]
    assert listed[0]["timezone"] == "Asia/Shanghai"

    detail = client.get(f"/api/v1/stations/{st.id}").get_json()
    assert detail["name"] == "东门投放点"
    assert detail["grace_minutes"] == 10
    assert len(detail["windows"]) == 14
    assert detail["windows"][0] == {"weekday": 0, "start": "07:00", "end": "09:00"}
    assert detail["exceptions"] == [{"day": tomorrow.isoformat(), "closed": True,
                                     "note": "检修", "ranges": []}]
    assert detail["open_now"] is True
    assert detail["current_window_end"] == "2026-11-20T09:00:00+08:00"
    assert detail["next_window_start"] == "2026-11-20T18:00:00+08:00"
    with clock.freeze(NOW.replace(hour=21)):
        late = client.get(f"/api/v1/stations/{st.id}").get_json()
    assert late["open_now"] is False
    # Tomorrow is closed, so the next window is the day after.
    assert late["next_window_start"] == "2026-11-22T07:00:00+08:00"

    assert client.get(f"/api/v1/stations/{other.id}").status_code == 403
    assert client.get("/api/v1/stations/99999").get_json()["error"] == "station_unknown"
    suspended = client.get(f"/api/v1/stations/{closed.id}").get_json()
    assert suspended["status"] == "suspended"
    assert (suspended["open_now"], suspended["next_window_start"]) == (False, None)
