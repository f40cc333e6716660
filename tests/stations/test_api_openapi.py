"""The OpenAPI document validates, covers every JSON API route (the drop API's and the
collector's pickup API's), and matches the answers, errors included."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import jsonschema
from flask import Flask
from openapi_spec_validator import validate
from sqlmodel import Session

from community import clock
from community.stations import openapi
from tests import builders

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def _spec_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


# Routes that answer JSON but are a page's helper or a download, not the API: each with why.
NOT_API = {
    "/steward/stations/<int:station_id>/code.json": "the check-in page's rotating code",
    "/me/data.json": "a resident's own data, downloaded as a file",
}


def _json_route(rule: str) -> bool:
    return "/api/" in rule or rule.endswith(".json")


def test_document_validates_and_lists_every_api_route(app: Flask, client) -> None:
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    doc = resp.get_json()
    validate(doc)  # raises on an invalid OpenAPI 3.1 document
    assert doc["openapi"] == "3.1.0"
    # Every route of the api blueprint and every JSON route (an /api/ path or a .json one)
    # outside the page helpers named above, e.g. the collector's pickup API.
    routes = {(_spec_path(r.rule), m.lower()) for r in app.url_map.iter_rules()
              if (r.endpoint.startswith("api.") or _json_route(r.rule))
              and r.rule not in NOT_API for m in r.methods - {"HEAD", "OPTIONS"}}
    documented = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    assert routes, "the api blueprint has no routes"
    assert ("/collector/api/collections", "post") in routes
    assert ("/collector/api/station", "get") in routes
    assert routes == documented
    assert set(NOT_API) <= {r.rule for r in app.url_map.iter_rules()}, "a stale exception"
    # Every operation names its error codes: at least a 401, and 503 for an outage.
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if op.get("security") != []:
                assert {"401", "503"} <= set(op["responses"]), (method, path)
    # The request schema is the pydantic one: strict booleans, no extra fields.
    drop_in = doc["components"]["schemas"]["DropIn"]
    assert drop_in["additionalProperties"] is False
    assert drop_in["properties"]["tally"]["type"] == "boolean"


def _validator(doc: dict, name: str) -> jsonschema.Draft202012Validator:
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    return jsonschema.Draft202012Validator(schema)


def test_answers_match_the_document(client, session: Session, world: builders.World) -> None:
    doc = openapi.document()
    st = builders.station(session, world.a)
    builders.on_duty(session, world.steward_a, st, NOW - timedelta(hours=10),
                     NOW + timedelta(hours=14))
    session.commit()
    card = builders.active_card(session, world.households_a[0])
    builders.login(client, world.steward_a)
    body = {"client_id": "doc-client-0001", "station_id": st.id, "category": "kitchen",
            "happened_at": NOW.isoformat(), "card": card.token, "weight_kg": 0.75}
    with clock.freeze(NOW):
        one = client.post("/api/v1/drops", json=body).get_json()
        batch = client.post("/api/v1/drops/batch", json={"drops": [
            body, dict(body, client_id="doc-client-0002", tally=0)]}).get_json()
        detail = client.get(f"/api/v1/stations/{st.id}").get_json()
        listed = client.get("/api/v1/stations").get_json()
        error = client.post("/api/v1/drops", json={"x": 1}).get_json()
    _validator(doc, "DropOut").validate(one)
    _validator(doc, "BatchOut").validate(batch)
    _validator(doc, "StationDetail").validate(detail)
    _validator(doc, "StationList").validate(listed)
    _validator(doc, "Error").validate(error)
    _validator(doc, "DropIn").validate(body)
    assert not _validator(doc, "DropIn").is_valid(dict(body, tally=0))
    # A schema mismatch would be caught: the answer without a required key fails.
    assert not _validator(doc, "DropOut").is_valid({k: v for k, v in one.items() if k != "id"})


def test_docs_page_is_rendered_from_the_document(client) -> None:
    resp = client.get("/api/docs")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "接口文档" in page
    assert "/api/v1/drops/batch" in page
    assert "/collector/api/collections" in page
    assert 'data-testid="api-schema-CollectionIn"' in page
    assert "收运员" in page
    assert 'data-testid="api-schema-DropIn"' in page
    # Rendered on the server: no documentation viewer, no inline script; only the site's own
    # scripts every page loads (the table cards of base.html).
    assert re.findall(r"<script\b[^>]*>", page) == [
        '<script src="/static/js/table-cards.js" defer>']
    assert "cdn" not in page.lower()
    client.post("/lang", data={"lang": "en", "next": "/api/docs"})
    page = client.get("/api/docs").get_data(as_text=True)
    assert "API documentation" in page
    assert "Request body" in page


def _human_texts(view: dict) -> list[str]:
    """Every text of the docs page's outline a person reads (not codes, paths or types)."""
    out = [view["title"], view["description"]]
    for o in view["operations"]:
        out += [o["summary"], o["description"], *(text for _code, text in o["responses"])]
    for s in view["schemas"]:
        out += [s["description"], *(r["description"] for r in s["rows"]),
                *(r["limits"] for r in s["rows"])]
    return out


def test_docs_page_speaks_the_readers_language(app: Flask, client) -> None:
    """The document stays English; the page shows every human text of it (intro, endpoint
    texts, status meanings, schema and field descriptions, limits) in the reader's language,
    and the `<token>` placeholder as text (QA: only the headings were Chinese, and the
    placeholder was swallowed as an HTML tag)."""
    from flask_babel import force_locale, gettext

    from community.stations.openapi_texts import SCHEMA_TEXTS

    doc = openapi.document()
    assert "Record one drop." in str(doc["paths"]["/api/v1/drops"]["post"]["summary"])
    # The schemas' own texts are all marked for the catalog (a changed one is marked again).
    schema_texts = {t for s in doc["components"]["schemas"].values()
                    for part in s.get("allOf", [s]) for t in [
                        s.get("description"), *(p.get("description") for p in
                                                part.get("properties", {}).values())] if t}
    assert set(SCHEMA_TEXTS) == schema_texts
    english = openapi.outline(doc)
    with app.test_request_context(), force_locale("zh"):
        chinese = openapi.outline(doc, translate=gettext)
    pairs = [(en, zh) for en, zh in zip(_human_texts(english), _human_texts(chinese),
                                        strict=True) if re.search("[a-z]{3}", en)]
    assert len(pairs) > 150
    assert [en for en, zh in pairs if en == zh] == []
    # Parameters are translated too, and the numbers come through.
    assert "记录最多 100 条排队中的收运记录（收运员）。" in _human_texts(chinese)

    page = client.get("/api/docs").get_data(as_text=True)
    assert "记录一次投放。" in page
    assert "Record one drop." not in page
    assert "仅支持 JSON" in page
    assert "≤ 64 个字符" in page
    assert "Authorization: Bearer &lt;token&gt;" in page
    client.post("/lang", data={"lang": "en", "next": "/api/docs"})
    page = client.get("/api/docs").get_data(as_text=True)
    assert "Record one drop." in page
    assert "JSON only." in page
    assert "Authorization: Bearer &lt;token&gt;" in page
    assert "记录一次投放" not in page
    # The machine document is English whatever the reader's language.
    assert client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/drops"]["post"][
        "summary"] == "Record one drop."


def _answers(doc: dict, path: str, method: str, resp) -> None:
    """The answer's status is documented for the operation and its body matches the schema."""
    responses = doc["paths"][path][method]["responses"]
    assert str(resp.status_code) in responses, (path, method, resp.status_code)
    schema = responses[str(resp.status_code)]["content"]["application/json"]["schema"]
    jsonschema.Draft202012Validator(schema | {"components": doc["components"]}).validate(
        resp.get_json())


def test_the_collector_answers_match_the_document(app: Flask, client, session: Session,
                                                  world: builders.World) -> None:
    from tests.collection import helpers as h

    doc = openapi.document()
    st = h.tagged_station(session, world.a, "收运文档投放点")
    collector = h.collector(session, world.street_a)
    outsider = h.collector(session, world.street_b)
    session.commit()
    tag = h.token(session, st)
    batch, find = "/collector/api/collections", "/collector/api/station"
    photo = {"category": "kitchen", "bins": 2, "kg": 80, "contaminated_bins": 1,
             "photo": h.photo_url()}
    body = {"collections": [h.pickup(tag, NOW - timedelta(hours=2), photo),
                            h.pickup(tag, NOW, {"category": "kitchen", "bins": 1, "kg": -1}),
                            h.pickup("Z" * 32, NOW)]}
    # Without a login: a JSON 401, whatever the Accept header.
    _answers(doc, find, "get", client.get(find, query_string={"code": tag}))
    _answers(doc, batch, "post", client.post(batch, json=body))
    builders.login(client, collector)
    with clock.freeze(NOW):
        stored = client.post(batch, json=body)
        _answers(doc, batch, "post", stored)
        assert [r.get("error") for r in stored.get_json()["results"]] == [
            None, "invalid", "station_unknown"]
        _answers(doc, batch, "post", client.post(batch, json=body))  # replays
        _answers(doc, batch, "post", client.post(batch, json={"collections": []}))
        _answers(doc, batch, "post", client.post(batch, data="{}", content_type="text/plain"))
        found = client.get(find, query_string={"code": tag})
        _answers(doc, find, "get", found)
        assert found.get_json() == {"id": st.id, "name": "收运文档投放点"}
        _answers(doc, find, "get", client.get(find, query_string={"code": "ZZZZ-ZZZZ"}))
    # Each item's schema is the document's CollectionIn.
    _validator(doc, "CollectionIn").validate(body["collections"][0])
    assert not _validator(doc, "CollectionIn").is_valid(dict(body["collections"][0], x=1))
    client.post("/logout")
    builders.login(client, outsider)
    outside = client.get(find, query_string={"code": tag})
    _answers(doc, find, "get", outside)
    assert (outside.status_code, outside.get_json()["error"]) == (403, "station_outside_area")
    client.post("/logout")
    builders.login(client, world.steward_a)  # not a collector
    _answers(doc, batch, "post", client.post(batch, json=body))
    _answers(doc, find, "get", client.get(find, query_string={"code": tag}))
