"""A hand-written list of hostile values through every API operation and every route (both
backends): NUL characters, huge numbers, edge dates, long strings, wrong types, deep JSON,
mixed batches. Never a 500; a refused request stores nothing; a batch stores its good items.

Routes are enumerated from the app's URL map; the scope registry (tests/scope.py) gives each
endpoint real URLs with ids of community A's data, and the form fields it posts.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlmodel import Session
from werkzeug.routing import IntegerConverter

from community import clock
from community.auth import services as auth_services
from community.schemas import DATETIME_PATTERN, EARLIEST_YEAR, LATEST_YEAR
from community.stations import services as stations_services
from community.stations.models import Drop
from community.stations.schemas import DeviceIn, DropIn
from tests import builders, scope
from tests.conftest import BACKENDS
from tests.snapshot import every_table

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 8, 30, tzinfo=SH)  # a Friday, inside the 07:00–09:00 window
HUGE = [2**31, 2**63, 10**30, -(2**31) - 1]
EDGE_TIMES = ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "1999-12-31T23:59:59Z",
              "2101-01-01T00:00:00+14:00", "2026-11-20T08:30:00", "2026-02-30T08:00:00Z"]
# Values for any JSON field: the wrong type, NUL, too long, huge, deep.
ANY_VALUE: list = [None, True, 0, -1, 1.5, float(2**64), "", "\x00", "a\x00b", "x" * 10_000,
                   "９９", "１２", [], {}, [1], {"a": 1}, *HUGE, *EDGE_TIMES,
                   [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]
# Values for any form field or query argument (text on the wire), each with where it can
# behave differently (test_every_route_survives_hostile_values runs each where it matters):
# BOTH  on each backend: past SQLite's int64 as well as PostgreSQL's integer types;
# PG    where PostgreSQL refuses what SQLite stores (NUL, past `integer`, too long for the
#       column, dates outside its range; also Python's date arithmetic);
# ONE   refused or accepted in Python before any database sees it (on SQLite).
# Without PostgreSQL every value runs on SQLite.
BOTH, PG, ONE = "both", "postgresql", "sqlite"
FORM_VALUES = [("a\x00b", PG), (str(2**63), BOTH), ("9" * 40, BOTH), ("-99999999999", BOTH),
               ("1e309", ONE), ("0001-01-01", PG), ("9999-12-31T23:59:59-14:00", PG),
               ("x" * 20_000, PG), ("２０２６-１１-２０", ONE)]
QUERY_NAMES = ["page", "q", "month", "before", "community_id", "area_id", "household_id",
               "station_id", "day", "from", "to", "status", "node", "level"]
QUERY_VALUES = [(str(2**31), PG), ("9" * 40, BOTH), ("9999-12-31", PG), ("x" * 500, ONE)]


def _runs_on(where: str, backend: str) -> bool:
    """Whether a value marked `where` (BOTH, PG, ONE) is tried on `backend` in this run."""
    return where in (BOTH, backend) or len(BACKENDS) == 1


@pytest.fixture(autouse=True)
def frozen():
    """Inside the morning window, the steward on duty."""
    with clock.freeze(NOW):
        yield


@pytest.fixture
def scene(session: Session, world: builders.World):
    """A station of community A with its steward on duty, a device token, a card."""
    st = builders.station(session, world.a, "敌意测试点")
    builders.on_duty(session, world.steward_a, st, NOW - timedelta(hours=10),
                     NOW + timedelta(hours=14))
    manager = auth_services.load_actor(session, world.manager_a.id)
    _device, token = stations_services.issue_device(
        session, actor=manager, community_id=world.a.id, data=DeviceIn.parse(name="秤"))
    card = builders.active_card(session, world.households_a[0])
    session.commit()
    return world, st, {"Authorization": f"Bearer {token}"}, card.token


def _drop(station_id: int, n: int, **kw) -> dict:
    return {"client_id": f"hostile-{n:06d}", "station_id": station_id, "category": "kitchen",
            "quality": "correct", "happened_at": NOW.isoformat(), "tally": True} | kw


def _drops(session: Session) -> int:
    session.commit()  # a fresh read (SQLite keeps a reader's snapshot)
    n = session.execute(select(func.count()).select_from(Drop)).scalar_one()
    session.commit()
    return n


def _snapshot(session: Session) -> dict[str, list]:
    return every_table(session, skip=("audit_entry", "login_attempt"))


def _no_crash(resp, what: object) -> None:
    assert resp.status_code < 500, (what, resp.status_code, resp.get_data(as_text=True)[:300])
    resp.close()  # a streamed download's generator ends here


def test_every_field_of_a_drop_refuses_hostile_values(client: FlaskClient, session: Session,
                                                      scene) -> None:
    """Each field of DropIn gets each hostile value: a 4xx with a code, nothing stored."""
    world, st, device, card = scene
    fields = ["client_id", "station_id", "category", "quality", "happened_at", "card", "tally",
              "weight_kg", "note", "unknown_field"]
    n = 0
    for field in fields:
        for value in ANY_VALUE:
            n += 1
            body = _drop(st.id, n, tally=False, card=card) | {field: value}
            resp = client.post("/api/v1/drops", data=json.dumps(body), headers=device,
                               content_type="application/json")
            _no_crash(resp, (field, repr(value)[:40]))
            if resp.status_code >= 400:
                assert resp.get_json()["error"], (field, value)
    # Every refusal stored nothing; the few hostile values that are valid (e.g. a note of
    # "１２") stored one drop each, and no more.
    assert _drops(session) < n // 4


@pytest.mark.parametrize(("field", "value"), [
    ("note", "a\x00b"), ("card", "\x00"), ("client_id", "hostile\x00x"),
    ("station_id", 2**31), ("station_id", 2**63), ("happened_at", "0001-01-01T00:00:00Z"),
    ("happened_at", "9999-12-31T23:59:59-14:00"), ("note", "x" * 201), ("tally", 1),
    ("weight_kg", "1e999"),
])
def test_a_batch_with_one_hostile_item_stores_the_other_499(client: FlaskClient,
                                                            session: Session, scene,
                                                            field: str, value: object) -> None:
    """The bad item gets its own error; the 499 good ones are stored."""
    world, st, device, _card = scene
    items = [_drop(st.id, n) for n in range(500)]
    items[250] = items[250] | {field: value}
    resp = client.post("/api/v1/drops/batch", data=json.dumps({"drops": items}),
                       headers=device, content_type="application/json")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    body = resp.get_json()
    assert (body["stored"], body["failed"]) == (499, 1)
    bad = body["results"][250]
    assert bad["ok"] is False
    assert bad["index"] == 250
    assert bad["error"] in ("invalid", "time_too_old", "station_unknown")
    assert _drops(session) == 499


def test_the_nul_and_range_messages_are_clear_in_both_languages(client: FlaskClient,
                                                                scene) -> None:
    """The per-field message says what is wrong, in Chinese by default and in English."""
    world, st, device, _card = scene
    items = [_drop(st.id, 1, note="a\x00"), _drop(st.id, 2) | {"station_id": 2**31},
             _drop(st.id, 3, happened_at="9999-12-31T23:59:59-14:00")]
    answers = {}
    for lang in ("zh", "en"):
        client.post("/lang", data={"lang": lang, "next": "/"})
        answers[lang] = client.post("/api/v1/drops/batch", json={"drops": items},
                                    headers=device).get_json()["results"]
    assert answers["en"][0]["fields"] == {"note": "Contains a character that is not allowed "
                                                  "(NUL)."}
    assert answers["en"][1]["fields"] == {"station_id": "Out of the allowed range."}
    assert answers["en"][2]["fields"] == {
        "happened_at": "The date must be between the years 2000 and 2100."}
    assert "NUL" in answers["zh"][0]["fields"]["note"]
    assert answers["zh"][0]["fields"]["note"] != answers["en"][0]["fields"]["note"]


def test_hostile_urls_and_bodies_of_the_api(client: FlaskClient, session: Session,
                                            scene) -> None:
    """Ids past the column type are unknown (404), a NUL in the path is 404, a deep or
    broken body is refused with a JSON error."""
    world, st, device, _card = scene
    for url in (f"/api/v1/stations/{2**31}", f"/api/v1/stations/{2**63}",
                f"/api/v1/stations/{10**40}", "/api/v1/stations/-1"):
        resp = client.get(url, headers=device)
        assert resp.status_code == 404, url
        assert resp.get_json()["error"] == "not_found", url
    resp = client.post("/api/v1/drops/hostile%00id/photo", headers=device,
                       data={"photo": (b"x", "a.jpg")}, content_type="multipart/form-data")
    assert resp.status_code == 404
    for body in (b"[" * 100_000, b'{"drops": ' + b"[" * 5000 + b"]" * 5000 + b"}",
                 b'{"client_id": "\\u0000"}', b"\xff\xfe", b'{"a": 1e99999}', b"",
                 json.dumps({"drops": [1, "x", None, [], {"a": "\x00"}]}).encode()):
        for path in ("/api/v1/drops", "/api/v1/drops/batch"):
            resp = client.post(path, data=body, headers=device, content_type="application/json")
            _no_crash(resp, (path, body[:30]))
            assert resp.is_json, (path, body[:30])
    assert _drops(session) == 0
    resp = client.get("/api/v1/stations?x=%00", headers=device)
    assert resp.status_code == 400


def test_the_documented_date_pattern_says_the_same_years_as_the_check() -> None:
    """DATETIME_PATTERN (what the OpenAPI document states) and the model agree on the years."""
    for year, ok in ((EARLIEST_YEAR - 1, False), (EARLIEST_YEAR, True), (LATEST_YEAR, True),
                     (LATEST_YEAR + 1, False)):
        text = f"{year:04d}-06-01T08:00:00+08:00"
        assert bool(re.match(DATETIME_PATTERN, text)) is ok, text
        assert _accepts(text) is ok, text


def _accepts(happened_at: str) -> bool:
    try:
        DropIn.model_validate_json(json.dumps(_drop(1, 1, happened_at=happened_at)))
    except ValidationError:
        return False
    return True


def _fields(client: FlaskClient, url: str, data: dict | None) -> list[str]:
    """The names a form at `url` posts: the case's own and those of the page's inputs."""
    names = set(data or ())
    page = client.get(url)
    if page.status_code == 200 and page.mimetype == "text/html":
        names |= set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"',
                                page.get_data(as_text=True)))
    names.discard("csrf_token")
    return sorted(names)


def _with(url: str, value: str) -> str:
    """`url` with its integer query arguments replaced by `value`."""
    return re.sub(r"=(\d+)", lambda _m: "=" + value, url)


def _endpoint_survives(client: FlaskClient, session: Session, endpoint: str,
                       cases: list[scope.Case], backend: str) -> None:
    """Every case of one endpoint with hostile forms and query arguments (those that can
    behave differently on `backend`): no 500; if every variant was refused, nothing
    changed."""
    before = _snapshot(session)
    accepted = False
    query_values = [v for v, where in QUERY_VALUES if _runs_on(where, backend)]
    form_values = [v for v, where in FORM_VALUES if _runs_on(where, backend)]
    for case in cases:
        if case.method == "GET":
            for value in query_values:
                url = _with(case.url, value)
                resp = client.get(url + ("&" if "?" in url else "?") + "&".join(
                    f"{name}={value}" for name in QUERY_NAMES))
                _no_crash(resp, (endpoint, case.url, value))
            resp = client.get(case.url + ("&" if "?" in case.url else "?") + "q=%00")
            assert resp.status_code == 400, (endpoint, case.url)
            continue
        names = _fields(client, case.url, case.data)
        variants = [dict.fromkeys(names, value) for value in form_values]
        if _runs_on(PG, backend):  # repeated, with NUL and past `integer`
            variants.append({name: ["1", "\x00", str(2**40)] for name in names})
        for data in variants:
            resp = client.open(case.url, method=case.method, data=data)
            _no_crash(resp, (endpoint, case.url, next(iter(data.values()), None)))
            accepted |= resp.status_code < 400
        if _runs_on(PG, backend):  # 2³¹ fits SQLite's integers
            resp = client.open(_with(case.url, str(2**31)), method=case.method,
                               data=case.data or {})
            _no_crash(resp, (endpoint, case.url, "huge id"))
            accepted |= resp.status_code < 400
    if not accepted:
        after = _snapshot(session)
        changed = sorted(t for t in before if before[t] != after[t])
        assert not changed, f"{endpoint}: refused requests changed {changed}"


scope.load_all()


# Routes that work in connections of their own, which this rolled-back harness cannot give
# on SQLite (its open transaction holds the one write lock): 'Run now' runs the job through
# the scheduler's runner (sessions of its own, as the scheduler process does). Its input (the
# job's name in the path) is tried on PostgreSQL here and with real commits on both backends
# in tests/scheduler/test_views.py.
OWN_CONNECTIONS = {"jobs.run"}


@pytest.mark.parametrize("endpoint", sorted(scope.CASES))
def test_every_route_survives_hostile_values(client: FlaskClient, session: Session,
                                             world: builders.World, endpoint: str,
                                             backend: str) -> None:
    """Each registered route (its real URLs from the scope registry), as the city admin:
    every form field NUL-laden, huge, an edge date, too long, repeated; query arguments the
    same; ids past the column type. Never a 500; when every variant was refused, nothing
    changed."""
    if backend == "sqlite" and endpoint in OWN_CONNECTIONS:
        pytest.skip("runs in connections of its own: see OWN_CONNECTIONS")
    cases = scope.CASES[endpoint](world)
    builders.login(client, world.city_admin)
    _endpoint_survives(client, session, endpoint, cases, backend)


def test_ids_past_the_column_type_are_404_everywhere(app: Flask, client: FlaskClient,
                                                     world: builders.World) -> None:
    """Every URL with an integer part, with 2³¹ in it: 404 (or 405), never a 500."""
    builders.login(client, world.city_admin)
    seen = 0
    for rule in app.url_map.iter_rules():
        past = {name: str(conv.max + 1)  # 2³¹ for <int:…>, 2⁶³ for <bigint:…>
                for name, conv in rule._converters.items()  # noqa: SLF001
                if isinstance(conv, IntegerConverter)}
        if not past:
            continue
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(rf"<[^>]*\b{name}>", past.get(name, "x"), url)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            resp = client.open(url, method=method)
            assert resp.status_code in (404, 405), (rule.rule, method, resp.status_code)
            seen += 1
    assert seen > 20
