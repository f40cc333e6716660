"""The OpenAPI 3.1 document of the JSON API: the drop API (`/api/v1`) and the operations
modules above stations add to it (`register`: the collector's pickup API, documented by
`community.collection.openapi`), as the inbox lets them word their own messages.

Every schema is generated from the pydantic models of each module's `schemas`, the one place
a field rule lives; these files hold only the operations: summaries, security, status codes.
The document is English (clients read it); each human text is marked with `_` so the catalog
holds it and the docs page (`outline`) shows it in the reader's language (the schemas' own
texts are marked in `openapi_texts`).
Pure: no Flask, no database; `document()` is built once per process (again after a part is
registered).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema

from community.images import MAX_PHOTO_BYTES
from community.stations import schemas as io

PREFIX = "/api/v1"
DOCS_PATH = "/api/docs"
MAX_JSON_BYTES = 1024 * 1024
REF = "#/components/schemas/{model}"
INPUTS = (io.DropIn, io.BatchIn, io.PhotoIn)
OUTPUTS = (io.DropOut, io.BatchOut, io.StationListOut, io.StationDetailOut, io.CsrfOut,
           io.PhotoOut, io.VoidOut, io.ErrorOut)
# Components keep the names published in 1.0 (clients generate types from them): a model
# whose title differs from its class name is published under its title.
PUBLISHED = {m.__name__: m.model_config.get("title") or m.__name__
             for m in (io.StationOut, io.StationListOut, io.StationDetailOut, io.ErrorOut)}


@dataclass(frozen=True)
class Part:
    """Operations a module above stations adds to the document: its tag, the models its
    schemas come from, and its paths (made from the document's schemas)."""

    tag: str
    inputs: tuple[type[BaseModel], ...]
    outputs: tuple[type[BaseModel], ...]
    paths: Callable[[dict[str, Any]], dict[str, Any]]


PARTS: dict[str, Part] = {}


class Text(str):
    """A human text of the document: the English the document holds, with its msgid and
    parameters kept for the docs page's translation."""

    msgid: str
    params: dict[str, Any]


def _(msgid: str, **params: Any) -> Text:
    """Mark a human text (extracted into the catalog like gettext): English, formatted."""
    text = Text(msgid % params if params else msgid)
    text.msgid, text.params = msgid, params
    return text


def say(text: str, translate: Callable[[str], str]) -> str:
    """A document text in the reader's language: its msgid translated, then formatted with
    its (translated) parameters; a text not marked with `_` is looked up as it is."""
    if not isinstance(text, Text):
        return translate(text) if text else text
    found = translate(text.msgid)
    if not text.params:
        return found
    return found % {k: say(v, translate) if isinstance(v, str) else v
                    for k, v in text.params.items()}


def register(part: Part) -> None:
    """Add a module's operations (once per tag; the document is built again)."""
    PARTS[part.tag] = part
    document.cache_clear()


class _PublishedNames(GenerateJsonSchema):
    def normalize_name(self, name: str) -> str:
        return PUBLISHED.get(name, super().normalize_name(name))


def _schemas() -> dict[str, Any]:
    inputs: list[type[BaseModel]] = [*INPUTS, *(m for p in PARTS.values() for m in p.inputs)]
    outputs: list[type[BaseModel]] = [*OUTPUTS,
                                      *(m for p in PARTS.values() for m in p.outputs)]
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        *((m, "validation") for m in inputs), *((m, "serialization") for m in outputs)]
    _keys, top = models_json_schema(models, ref_template=REF, schema_generator=_PublishedNames)
    return top["$defs"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def answer(model: str, description: str, mime: str = "application/json") -> dict[str, Any]:
    """A response whose body is the schema `model`."""
    return {"description": description, "content": {mime: {"schema": _ref(model)}}}


def error(description: str) -> dict[str, Any]:
    """An error response (`{error, message, fields?}`)."""
    return answer("Error", description)


def _param(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def op(op_id: str, tag: str, summary: str, responses: dict[str, Any], *,
       body: str | None = None, mime: str = "application/json", **extra: Any) -> dict[str, Any]:
    """One operation; every one may answer 503 while the database cannot be reached."""
    out: dict[str, Any] = {"operationId": op_id, "tags": [tag], "summary": summary, **extra}
    if body:
        out["requestBody"] = {"required": True, "content": {mime: {"schema": _ref(body)}}}
    return out | {"responses": responses | {"503": _UNAVAILABLE}}


_UNAVAILABLE = error(_("The database cannot be reached right now (`unavailable`): try again "
                        "after the `Retry-After` header's seconds; nothing was stored."))
_AUTH_ERRORS = {
    "401": error(_("No or invalid credentials (`unauthorized`, `device_unauthorized`).")),
    "403": error(_("The station belongs to a community outside the caller's scope "
                    "(`forbidden`).")),
}
_BODY_ERRORS = {
    "400": error(_("Missing or expired CSRF token for a session caller (`csrf`), or a "
                    "malformed body.")),
    "413": error(_("Body larger than %(kb)s KB (`too_large`).", kb=MAX_JSON_BYTES // 1024)),
    "415": error(_("Content-Type is not application/json (`unsupported_media_type`).")),
    "422": error(_("Schema errors (`invalid`, with `fields`) or a refused drop "
                    "(`category_not_accepted`, `time_in_future`, "
                    "`time_too_old`, `tally_with_card`, `card_required`, `reason_unknown`, "
                    "`reason_needs_note`, `reason_not_incorrect`).")),
}
_DROP_DESCRIPTION = _(
    "A steward (session cookie + `X-CSRFToken` header) or a device (`Authorization: Bearer`) "
    "records one drop. `client_id` is made by the client: sending it again returns the stored "
    "drop with `replay: true` and status 200, and stores nothing."
)
_PHOTO_MB = MAX_PHOTO_BYTES // (1024 * 1024)


def _paths(drop_in: dict[str, Any]) -> dict[str, Any]:
    station_id = _param("station_id", drop_in["properties"]["station_id"])
    client_id = _param("client_id", drop_in["properties"]["client_id"])
    return {
        f"{PREFIX}/csrf": {"get": op(
            "getCsrfToken", "auth",
            _("A fresh CSRF token for session callers (e.g. before an offline replay)."),
            {"200": answer("CsrfOut", _("The token for the X-CSRFToken header.")),
             "401": _AUTH_ERRORS["401"]},
            security=[{"session": []}])},
        f"{PREFIX}/drops": {"post": op(
            "recordDrop", "drops", _("Record one drop."),
            {"201": answer("DropOut", _("Stored.")),
             "200": answer("DropOut", _("A replay: the drop stored earlier.")),
             **_AUTH_ERRORS, **_BODY_ERRORS,
             "404": error(_("`station_unknown` or `card_unknown`.")),
             "409": error(_("`card_revoked` or `station_suspended`."))},
            body="DropIn", description=_DROP_DESCRIPTION)},
        f"{PREFIX}/drops/batch": {"post": op(
            "recordDrops", "drops",
            _("Record up to %(n)s drops in one transaction.", n=io.MAX_BATCH),
            {"200": answer("BatchOut", _("One result per item.")), **_AUTH_ERRORS,
             **_BODY_ERRORS},
            body="BatchIn",
            description=_("Each item gets a result in order. Bad items are reported and "
                          "skipped; the good ones are stored. Replays are reported as such."))},
        f"{PREFIX}/drops/{{client_id}}/photo": {"post": op(
            "attachPhoto", "drops",
            _("Attach a photo (JPEG, PNG or WebP, at most %(mb)s MB) to a recorded drop.",
              mb=_PHOTO_MB),
            {"200": answer("PhotoOut", _("Stored.")), **_AUTH_ERRORS,
             "404": error(_("No drop with this client id (`drop_unknown`).")),
             "413": error(_("Larger than %(mb)s MB (`too_large`, `photo_too_large`).",
                            mb=_PHOTO_MB)),
             "415": error(_("Not multipart/form-data (`unsupported_media_type`).")),
             "422": error(_("Not a valid image (`photo_invalid`) or no `photo` part."))},
            body="PhotoIn", mime="multipart/form-data", parameters=[client_id])},
        f"{PREFIX}/drops/{{client_id}}/void": {"post": op(
            "voidDrop", "drops",
            _("Undo (void) one's own scan within 5 minutes: the drop is kept but no longer "
              "counts, and its points are reversed."),
            {"200": answer("VoidOut", _("Voided now, or before (`already: true`; nothing "
                                         "changed).")),
             **_AUTH_ERRORS,
             "400": _BODY_ERRORS["400"],
             "403": error(_("Another steward's scan (`void_not_yours`), or a station outside "
                            "the caller's scope (`forbidden`).")),
             "404": error(_("No drop with this client id (`not_found`).")),
             "409": error(_("More than 5 minutes after the scan (`void_too_late`)."))},
            parameters=[client_id])},
        f"{PREFIX}/stations": {"get": op(
            "listStations", "stations",
            _("The open stations of the caller's community (or scope)."),
            {"200": answer("StationList", _("Stations.")), **_AUTH_ERRORS})},
        f"{PREFIX}/stations/{{station_id}}": {"get": op(
            "getStation", "stations",
            _("A station with its weekly windows, grace, exceptions of the next 14 days, "
              "whether it is open now and when the next window starts."),
            {"200": answer("StationDetail", _("The station.")), **_AUTH_ERRORS,
             "404": error(_("`station_unknown`."))},
            parameters=[station_id])},
        f"{PREFIX}/openapi.json": {"get": op(
            "getOpenApi", "meta", _("This document."),
            {"200": {"description": _("OpenAPI 3.1 document."),
                     "content": {"application/json": {"schema": {"type": "object"}}}}},
            security=[])},
        DOCS_PATH: {"get": op(
            "getDocs", "meta", _("Human-readable documentation rendered from this document."),
            {"200": {"description": _("HTML page."),
                     "content": {"text/html": {"schema": {"type": "string"}}}}},
            security=[])},
    }


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (a fresh structure is built once; treat it as read-only)."""
    schemas = _schemas()
    paths = _paths(schemas["DropIn"])
    for part in PARTS.values():
        theirs = part.paths(schemas)
        assert not set(theirs) & set(paths), "a path documented twice"  # noqa: S101
        paths |= theirs
    return {
        "openapi": "3.1.0",
        "info": {
            "title": _("Community waste sorting — drop API"),
            "version": "1.1.0",  # 1.1: the collector's pickup API
            # The Chinese names stay in the English text: they are the programme's names.
            "description": _(
                "Stations, fixed-time windows and drops (%(drops)s), and the collectors' "
                "pickups (%(pickups)s). JSON only. Errors are "
                "`{error, message, fields?}` with `message` in the caller's language. Times "
                "are ISO 8601 with an offset; naive times are refused. Validation is strict: "
                "`0` is not a boolean and unknown fields are refused.",
                drops="三定一督", pickups="收运"),
        },
        "servers": [{"url": "/"}],
        "security": [{"session": [], "csrfHeader": []}, {"device": []}],
        "tags": [{"name": "drops"}, {"name": "stations"}, *({"name": t} for t in PARTS),
                 {"name": "auth"}, {"name": "meta"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
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
        item = _type_text(schema.get("items", {}))
        return f"({item})[]" if " | " in item else f"{item}[]"
    if isinstance(kind, list):
        return " | ".join(kind)
    fmt = schema.get("format")
    return f"{kind} ({fmt})" if fmt else str(kind)


def json_literal(value: Any) -> str:
    """A value as it is written in JSON (true, null, "kitchen")."""
    return json.dumps(value, ensure_ascii=False)


_LIMITS = (("minLength", _("≥ %(n)s chars")), ("maxLength", _("≤ %(n)s chars")),
           ("minimum", "≥ %(n)s"), ("exclusiveMinimum", "> %(n)s"), ("maximum", "≤ %(n)s"),
           ("minItems", _("≥ %(n)s items")), ("maxItems", _("≤ %(n)s items")),
           ("pattern", _("pattern %(n)s")))
_DEFAULT = _("default %(n)s")


def _limits(schema: dict[str, Any], translate: Callable[[str], str]) -> str:
    found = []
    for part in [schema, *schema.get("anyOf", [])]:
        found += [translate(text) % {"n": part[key]} for key, text in _LIMITS if key in part]
    if "default" in schema:
        found.append(translate(_DEFAULT) % {"n": json_literal(schema["default"])})
    return ", ".join(found)


def _same(text: str) -> str:
    return text


def outline(doc: dict[str, Any], translate: Callable[[str], str] = _same) -> dict[str, Any]:
    """Flatten the document for the docs page: its title and description, operations and
    schema property rows, every human text through `translate` (a gettext)."""
    def tr(text: str) -> str:
        return say(text, translate)

    operations = []
    for path, item in doc["paths"].items():
        for method, found in item.items():
            body = found.get("requestBody", {}).get("content", {})
            operations.append({
                "method": method.upper(), "path": path, "id": found["operationId"],
                "summary": tr(found.get("summary", "")),
                "description": tr(found.get("description", "")),
                "body": [f"{mime}: {_type_text(c['schema'])}" for mime, c in body.items()],
                "params": [f"{p['name']} ({p['in']}): {_type_text(p['schema'])}"
                           for p in found.get("parameters", [])],
                "responses": [(code, tr(r["description"])) for code, r in
                              found["responses"].items()],
            })
    schemas = []
    for name, schema in doc["components"]["schemas"].items():
        parts = schema.get("allOf", [schema])
        rows = []
        for part in parts:
            if "$ref" in part:
                rows.append({"name": "…", "type": _type_text(part), "required": False,
                             "limits": "", "description": ""})
                continue
            required = set(part.get("required", []))
            for prop, sub in part.get("properties", {}).items():
                rows.append({"name": prop, "type": _type_text(sub), "required": prop in required,
                             "limits": _limits(sub, translate),
                             "description": tr(sub.get("description", ""))})
        schemas.append({"name": name, "description": tr(schema.get("description", "")),
                        "rows": rows})
    return {"title": tr(doc["info"]["title"]), "description": tr(doc["info"]["description"]),
            "operations": operations, "schemas": schemas}
