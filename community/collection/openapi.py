"""The collector's pickup API in the JSON API's OpenAPI document (`stations.openapi`): the
two endpoints the offline pickup page talks to, with their request and answer schemas (from
`collection.schemas`) and their error codes. Pure: no Flask, no database; the views register
`PART` (the document sits below this module, as the inbox does for the messages).
"""
from __future__ import annotations

from typing import Any

from community.collection import schemas as io
from community.images import MAX_PHOTO_BYTES
from community.stations import openapi as api

_ = api._  # marks a human text: the docs page translates it

BATCH_PATH = "/collector/api/collections"
STATION_PATH = "/collector/api/station"
MAX_BATCH_BYTES = 4 * (io.MAX_PHOTO_TEXT + 64 * 1024)  # a few queued pickups with photos
MAX_CODE_TEXT = 80  # the station lookup reads at most this much of `code`
TAG = "collection"
_PHOTO_MB = MAX_PHOTO_BYTES // (1024 * 1024)

# A collector's login session; the CSRF header on POST.
_SESSION: list[dict[str, list[str]]] = [{"session": [], "csrfHeader": []}]
_AUTH_ERRORS = {
    "401": api.error(_("No login session, or it expired (`unauthorized`); a device token "
                       "is not accepted here.")),
    "403": api.error(_("The caller is not a collector (`forbidden`).")),
}
_ITEM_ERRORS = _(
    "`invalid` (with `fields`, e.g. `lines.0.kg`), `station_unknown` (no station has this "
    "code, or its sticker was replaced), `station_outside_area` (a station outside the "
    "collector's street or district), `time_in_future`, `time_too_old`, "
    "`category_not_accepted`, `photo_invalid`, `photo_too_large` (a photo over "
    "%(mb)s MB)", mb=_PHOTO_MB
)
_BATCH_DESCRIPTION = _(
    "A collector (login session cookie + `X-CSRFToken` header, a token from GET /api/v1/csrf) "
    "sends the pickups the phone queued, offline or not. Each item is a `CollectionIn`: the "
    "station's collection QR text (or the 8-character code printed under it), the device "
    "time, a `client_id` made by the phone, and per category the bins, kg and contaminated "
    "bins, with a photo (a `data:` URL) when any is contaminated. Each item is recorded on "
    "its own, in order: the answer has one result per item, a `CollectionOut` (stored, or "
    "`replay: true` for a `client_id` seen before in the station's community: nothing is "
    "stored twice) or a `CollectionError` with a stable code: %(errors)s. A "
    "refused item leaves nothing behind (no row, no photo); the others are stored.",
    errors=_ITEM_ERRORS
)


def _code_param() -> dict[str, Any]:
    return {"name": "code", "in": "query", "required": True,
            "description": _("The scanned QR's text, or the short code typed from under "
                             "it (any case; spaces and dashes are ignored)."),
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_CODE_TEXT}}


def paths(_schemas: dict[str, Any]) -> dict[str, Any]:
    """The pickup API's operations."""
    return {
        BATCH_PATH: {"post": api.op(
            "recordPickups", TAG,
            _("Record up to %(n)s queued pickups (a collector).", n=io.MAX_BATCH),
            {"200": api.answer("CollectionBatchOut", _("One result per item, in order.")),
             **_AUTH_ERRORS,
             "400": api.error(_("Missing or expired CSRF token (`csrf`): get a new one from "
                                "GET /api/v1/csrf and send again.")),
             "413": api.error(_("Body larger than %(mb)s MB (`too_large`): send fewer pickups "
                                "at a time.", mb=MAX_BATCH_BYTES // (1024 * 1024))),
             "415": api.error(_("Content-Type is not application/json "
                                "(`unsupported_media_type`).")),
             "422": api.error(_("Not a batch: `collections` missing, empty, over %(n)s "
                                "items, or not a list of objects (`invalid`, with `fields`). "
                                "Nothing was stored.", n=io.MAX_BATCH))},
            body="CollectionBatchIn", description=_BATCH_DESCRIPTION, security=_SESSION)},
        STATION_PATH: {"get": api.op(
            "findPickupStation", TAG,
            _("The station a collection code names, before a pickup is recorded."),
            {"200": api.answer("StationFoundOut", _("The station, inside the caller's area.")),
             "400": api.error(_("A NUL character in the query string (`http_error`).")),
             "401": _AUTH_ERRORS["401"],
             "403": api.error(_("The caller is not a collector (`forbidden`), or the station "
                                "is outside the collector's street or district "
                                "(`station_outside_area`).")),
             "404": api.error(_("No station has this code, or its sticker was replaced "
                                "(`station_unknown`).")),
             "422": api.error(_("The code holds a character no code can hold (`invalid`)."))},
            parameters=[_code_param()], security=[{"session": []}],
            description=_("The pickup page asks this about a code it does not know, to tell "
                          "an unknown code from one outside the collector's area."))},
    }


PART = api.Part(tag=TAG, inputs=(io.CollectionBatchIn, io.CollectionIn),
                outputs=(io.CollectionBatchOut, io.StationFoundOut), paths=paths)
