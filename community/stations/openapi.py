"""The OpenAPI 3.1 document of the drop API (`/api/v1`), built from the pydantic schemas.

Request and drop schemas come from `model_json_schema()`, so the document cannot drift
from what the API validates; the small response envelopes are written out here. Pure:
no Flask, no database; `document()` is built once per process.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from community.stations.models import CATEGORIES, QUALITIES, SOURCES
from community.stations.schemas import MAX_BATCH, BatchIn, DropIn, DropOut

PREFIX = "/api/v1"
DOCS_PATH = "/api/docs"
MAX_JSON_BYTES = 1024 * 1024
MAX_PHOTO_BYTES = 5 * 1024 * 1024
REF = "#/components/schemas/{model}"
WARNINGS = ("out_of_window", "recent_duplicate")


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _schemas() -> dict[str, Any]:
    drop_in = DropIn.model_json_schema(ref_template=REF)
    drop_out = DropOut.model_json_schema(ref_template=REF, mode="serialization")
    drop_out["properties"]["source"]["enum"] = list(SOURCES)
    drop_out["properties"]["category"]["enum"] = list(CATEGORIES)
    drop_out["properties"]["quality"]["enum"] = list(QUALITIES)
    drop_out["properties"]["warnings"]["items"]["enum"] = list(WARNINGS)
    batch_in = BatchIn.model_json_schema(ref_template=REF)
    # The batch is parsed in two steps (envelope, then each item) so one bad item cannot
    # sink the others; the document states the item type the second step applies.
    batch_in["properties"]["drops"]["items"] = _ref("DropIn")
    hhmm = {"type": "string", "pattern": r"^\d{2}:\d{2}$", "examples": ["07:00"]}
    station = {
        "type": "object",
        "required": ["id", "community_id", "name", "location", "latitude", "longitude",
                     "categories", "status", "grace_minutes", "timezone"],
        "properties": {
            "id": {"type": "integer"},
            "community_id": {"type": "integer"},
            "name": {"type": "string"},
            "location": {"type": "string"},
            "latitude": {"type": ["number", "null"]},
            "longitude": {"type": ["number", "null"]},
            "categories": {"type": "array", "items": {"enum": list(CATEGORIES)}},
            "status": {"enum": ["open", "suspended"]},
            "grace_minutes": {"type": "integer", "minimum": 0, "maximum": 120},
            "timezone": {"type": "string", "examples": ["Asia/Shanghai"]},
        },
    }
    detail = {
        "allOf": [_ref("Station"), {
            "type": "object",
            "required": ["windows", "exceptions", "open_now", "current_window_end",
                         "next_window_start"],
            "properties": {
                "windows": {
                    "type": "array",
                    "description": "Weekly ranges (weekday 0 = Monday, local time); an end "
                                   "not after the start runs past midnight.",
                    "items": {"type": "object", "required": ["weekday", "start", "end"],
                              "properties": {"weekday": {"type": "integer", "minimum": 0,
                                                         "maximum": 6},
                                             "start": hhmm, "end": hhmm}},
                },
                "exceptions": {
                    "type": "array",
                    "description": "Dates of the next 14 days with special hours, or closed.",
                    "items": {
                        "type": "object", "required": ["day", "closed", "ranges", "note"],
                        "properties": {
                            "day": {"type": "string", "format": "date"},
                            "closed": {"type": "boolean"},
                            "ranges": {"type": "array", "items": {
                                "type": "object", "required": ["start", "end"],
                                "properties": {"start": hhmm, "end": hhmm}}},
                            "note": {"type": "string"},
                        },
                    },
                },
                "open_now": {"type": "boolean"},
                "current_window_end": {"type": ["string", "null"], "format": "date-time"},
                "next_window_start": {"type": ["string", "null"], "format": "date-time"},
            },
        }],
    }
    failed = {
        "type": "object", "required": ["index", "ok", "client_id", "error", "message"],
        "properties": {
            "index": {"type": "integer", "minimum": 0},
            "ok": {"const": False},
            "client_id": {"type": ["string", "null"]},
            "error": {"type": "string"},
            "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }
    stored = {
        "type": "object", "required": ["index", "ok", "drop"],
        "properties": {"index": {"type": "integer", "minimum": 0}, "ok": {"const": True},
                       "drop": _ref("DropOut")},
    }
    return {
        "DropIn": drop_in,
        "DropOut": drop_out,
        "BatchIn": batch_in,
        "BatchOut": {
            "type": "object", "required": ["results", "stored", "replays", "failed"],
            "properties": {
                "results": {"type": "array", "items": {"oneOf": [stored, failed]}},
                "stored": {"type": "integer", "minimum": 0},
                "replays": {"type": "integer", "minimum": 0},
                "failed": {"type": "integer", "minimum": 0},
            },
        },
        "Station": station,
        "StationList": {"type": "object", "required": ["stations"],
                        "properties": {"stations": {"type": "array", "items": _ref("Station")}}},
        "StationDetail": detail,
        "Error": {
            "type": "object", "required": ["error", "message"],
            "description": "`error` is a stable code; `message` is in the user's language "
                           "(Chinese by default); `fields` maps field names to messages.",
            "properties": {
                "error": {"type": "string", "examples": ["invalid", "card_revoked"]},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                "details": {"type": "object"},
            },
        },
    }


_AUTH_ERRORS = {
    "401": _error("No or invalid credentials (`unauthorized`, `device_unauthorized`)."),
    "403": _error("The station belongs to a community outside the caller's scope "
                  "(`forbidden`)."),
}
_BODY_ERRORS = {
    "400": _error("Missing or expired CSRF token for a session caller (`csrf`), or a "
                  "malformed body."),
    "413": _error(f"Body larger than {MAX_JSON_BYTES // 1024} KB (`too_large`)."),
    "415": _error("Content-Type is not application/json (`unsupported_media_type`)."),
    "422": _error("Schema errors (`invalid`, with `fields`) or a refused drop "
                  "(`category_not_accepted`, `card_foreign`, `time_in_future`, "
                  "`time_too_old`, `tally_with_card`, `card_required`)."),
}
_DROP_DESCRIPTION = (
    "A steward (session cookie + `X-CSRFToken` header) or a device (`Authorization: Bearer`) "
    "records one drop. `client_id` is made by the client: sending it again returns the stored "
    "drop with `replay: true` and status 200, and stores nothing."
)


def _paths() -> dict[str, Any]:
    station_id = {"name": "station_id", "in": "path", "required": True,
                  "schema": {"type": "integer", "minimum": 1}}
    client_id = {"name": "client_id", "in": "path", "required": True,
                 "schema": {"type": "string", "minLength": 8, "maxLength": 64}}
    return {
        f"{PREFIX}/csrf": {"get": {
            "operationId": "getCsrfToken", "tags": ["auth"],
            "summary": "A fresh CSRF token for session callers (e.g. before an offline replay).",
            "security": [{"session": []}],
            "responses": {"200": _json({"type": "object", "required": ["csrf_token"],
                                        "properties": {"csrf_token": {"type": "string"}}},
                                       "The token for the X-CSRFToken header."),
                          "401": _AUTH_ERRORS["401"]},
        }},
        f"{PREFIX}/drops": {"post": {
            "operationId": "recordDrop", "tags": ["drops"], "summary": "Record one drop.",
            "description": _DROP_DESCRIPTION,
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": _ref("DropIn")}}},
            "responses": {
                "201": _json(_ref("DropOut"), "Stored."),
                "200": _json(_ref("DropOut"), "A replay: the drop stored earlier."),
                **_AUTH_ERRORS, **_BODY_ERRORS,
                "404": _error("`station_unknown` or `card_unknown`."),
                "409": _error("`card_revoked` or `station_suspended`."),
            },
        }},
        f"{PREFIX}/drops/batch": {"post": {
            "operationId": "recordDrops", "tags": ["drops"],
            "summary": f"Record up to {MAX_BATCH} drops in one transaction.",
            "description": "Each item gets a result in order. Bad items are reported and "
                           "skipped; the good ones are stored. Replays are reported as such.",
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": _ref("BatchIn")}}},
            "responses": {"200": _json(_ref("BatchOut"), "One result per item."),
                          **_AUTH_ERRORS, **_BODY_ERRORS},
        }},
        f"{PREFIX}/drops/{{client_id}}/photo": {"post": {
            "operationId": "attachPhoto", "tags": ["drops"],
            "summary": "Attach a photo (JPEG, PNG or WebP, at most 5 MB) to a recorded drop.",
            "parameters": [client_id],
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["photo"],
                "properties": {"photo": {"type": "string", "contentMediaType": "image/jpeg"}},
            }}}},
            "responses": {
                "200": _json({"type": "object", "required": ["photo"],
                              "properties": {"photo": {"const": True}}}, "Stored."),
                **_AUTH_ERRORS,
                "404": _error("No drop with this client id (`drop_unknown`)."),
                "413": _error("Larger than 5 MB (`too_large`, `photo_too_large`)."),
                "415": _error("Not multipart/form-data (`unsupported_media_type`)."),
                "422": _error("Not a valid image (`photo_invalid`) or no `photo` part."),
            },
        }},
        f"{PREFIX}/stations": {"get": {
            "operationId": "listStations", "tags": ["stations"],
            "summary": "The open stations of the caller's community (or scope).",
            "responses": {"200": _json(_ref("StationList"), "Stations."), **_AUTH_ERRORS},
        }},
        f"{PREFIX}/stations/{{station_id}}": {"get": {
            "operationId": "getStation", "tags": ["stations"],
            "summary": "A station with its weekly windows, grace, exceptions of the next "
                       "14 days, whether it is open now and when the next window starts.",
            "parameters": [station_id],
            "responses": {"200": _json(_ref("StationDetail"), "The station."),
                          **_AUTH_ERRORS,
                          "404": _error("`station_unknown`.")},
        }},
        f"{PREFIX}/openapi.json": {"get": {
            "operationId": "getOpenApi", "tags": ["meta"], "summary": "This document.",
            "security": [],
            "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1 document.")},
        }},
        DOCS_PATH: {"get": {
            "operationId": "getDocs", "tags": ["meta"],
            "summary": "Human-readable documentation rendered from this document.",
            "security": [],
            "responses": {"200": {"description": "HTML page.",
                                  "content": {"text/html": {"schema": {"type": "string"}}}}},
        }},
    }


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (a fresh structure is built once; treat it as read-only)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Community waste sorting — drop API",
            "version": "1.0.0",
            "description": (
                "Stations, fixed-time windows and drops (三定一督). JSON only. Errors are "
                "`{error, message, fields?}` with `message` in the caller's language. Times "
                "are ISO 8601 with an offset; naive times are refused. Validation is strict: "
                "`0` is not a boolean and unknown fields are refused."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"session": [], "csrfHeader": []}, {"device": []}],
        "tags": [{"name": "drops"}, {"name": "stations"}, {"name": "auth"}, {"name": "meta"}],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": "A steward's login session."},
                "csrfHeader": {"type": "apiKey", "in": "header", "name": "X-CSRFToken",
                               "description": "Required on POST with a session; get one "
                                              "from GET /api/v1/csrf."},
                "device": {"type": "http", "scheme": "bearer",
                           "description": "A device token issued (and revoked) by a manager."},
            },
        },
    }


def _type_text(schema: dict[str, Any]) -> str:
    """A short human description of a JSON schema's type ("string | null", "DropIn[]")."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema or "oneOf" in schema:
        return " | ".join(_type_text(s) for s in schema.get("anyOf", schema.get("oneOf", [])))
    if "const" in schema:
        return json_literal(schema["const"])
    if "enum" in schema:
        return " | ".join(json_literal(v) for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"{_type_text(schema.get('items', {}))}[]"
    if isinstance(kind, list):
        return " | ".join(kind)
    fmt = schema.get("format")
    return f"{kind} ({fmt})" if fmt else str(kind)


def json_literal(value: Any) -> str:
    """A value as it is written in JSON (true, null, "kitchen")."""
    return json.dumps(value, ensure_ascii=False)


_LIMITS = (("minLength", "≥ {} chars"), ("maxLength", "≤ {} chars"), ("minimum", "≥ {}"),
           ("exclusiveMinimum", "> {}"), ("maximum", "≤ {}"), ("minItems", "≥ {} items"),
           ("maxItems", "≤ {} items"), ("pattern", "pattern {}"))


def _limits(schema: dict[str, Any]) -> str:
    found = []
    for part in [schema, *schema.get("anyOf", [])]:
        found += [text.format(part[key]) for key, text in _LIMITS if key in part]
    if "default" in schema:
        found.append(f"default {json_literal(schema['default'])}")
    return ", ".join(found)


def outline(doc: dict[str, Any]) -> dict[str, Any]:
    """Flatten the document for the docs page: operations and schema property rows."""
    operations = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            body = op.get("requestBody", {}).get("content", {})
            operations.append({
                "method": method.upper(), "path": path, "id": op["operationId"],
                "summary": op.get("summary", ""), "description": op.get("description", ""),
                "body": [f"{mime}: {_type_text(c['schema'])}" for mime, c in body.items()],
                "params": [f"{p['name']} ({p['in']}): {_type_text(p['schema'])}"
                           for p in op.get("parameters", [])],
                "responses": [(code, r["description"]) for code, r in op["responses"].items()],
            })
    schemas = []
    for name, schema in doc["components"]["schemas"].items():
        parts = schema.get("allOf", [schema])
        rows = []
        for part in parts:
            if "$ref" in part:
                rows.append({"name": "…", "type": _type_text(part), "required": False,
                             "limits": ""})
                continue
            required = set(part.get("required", []))
            for prop, sub in part.get("properties", {}).items():
                rows.append({"name": prop, "type": _type_text(sub), "required": prop in required,
                             "limits": _limits(sub)})
        schemas.append({"name": name, "description": schema.get("description", ""),
                        "rows": rows})
    return {"operations": operations, "schemas": schemas}
