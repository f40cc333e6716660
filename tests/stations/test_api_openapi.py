"""The OpenAPI document validates, covers every route of the api blueprint, and matches answers."""
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


def test_document_validates_and_lists_every_api_route(app: Flask, client) -> None:
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    doc = resp.get_json()
    validate(doc)  # raises on an invalid OpenAPI 3.1 document
    assert doc["openapi"] == "3.1.0"
    routes = {(_spec_path(r.rule), m.lower()) for r in app.url_map.iter_rules()
              if r.endpoint.startswith("api.") for m in r.methods - {"HEAD", "OPTIONS"}}
    documented = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    assert routes, "the api blueprint has no routes"
    assert routes == documented
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
