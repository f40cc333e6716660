"""The drop API under /api/v1: record drops (one or a batch), photos, stations, the OpenAPI doc.

Each view parses → authenticates → calls one service → answers JSON; the request's one
commit point (`db.commit_request`) commits before the answer is sent. Callers
are stewards (session cookie plus an X-CSRFToken header on POST) or devices (a bearer
token, no CSRF). Errors are JSON `{error, message, fields?}` (see community/web/errors.py).
"""
from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import UnsupportedMediaType
from wtforms import ValidationError as CsrfInvalid

from community import clock
from community.auth import policy
from community.db import commit_unit, get_session
from community.errors import DomainError, InvalidInput
from community.extensions import csrf
from community.stations import openapi, photos, queries
from community.stations import services as stations_services
from community.stations.schemas import (
    BatchIn,
    BatchItemError,
    BatchItemOut,
    BatchOut,
    CsrfOut,
    DropIn,
    PhotoOut,
    StationListOut,
)
from community.web.context import actor as session_actor
from community.web.context import client_ip
from community.web.errors import validation_fields

bp = Blueprint("api", __name__)
# Devices cannot hold a CSRF token; session callers are checked in _caller() instead.
csrf.exempt(bp)

V1 = openapi.PREFIX
MULTIPART_SLACK = 64 * 1024  # part headers and boundaries around a 5 MB photo


class Unauthorized(DomainError):
    code, status, message = "unauthorized", 401, _l("Please log in first.")


def _caller() -> tuple[policy.Actor, stations_services.DeviceFacts | None]:
    """The acting steward or device (and the device); CSRF is enforced for sessions."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise stations_services.DeviceUnauthorized()
        device, device_actor = stations_services.authenticate_device(get_session(),
                                                                     token.strip())
        return device_actor, device
    if not current_user.is_authenticated:
        raise Unauthorized()
    if request.method == "POST" and current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except CsrfInvalid as exc:
            raise CSRFError(str(exc)) from None
    return session_actor(), None


def _json_body() -> bytes:
    """The raw JSON body: 415 for another content type, 413 above the size limit."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType()
    request.max_content_length = openapi.MAX_JSON_BYTES  # read raises 413 when larger
    return request.get_data(cache=False)


def _answer(body: BaseModel, status: int = 200):
    """A JSON answer from its model (the model the OpenAPI document shows)."""
    return jsonify(body.model_dump(mode="json")), status


@bp.get(f"{V1}/csrf")
def csrf_token():
    """A fresh CSRF token for a logged-in steward (an offline queue refreshes it before replay)."""
    if not current_user.is_authenticated:
        raise Unauthorized()
    return _answer(CsrfOut(csrf_token=generate_csrf()))


@bp.post(f"{V1}/drops")
def record_drop():
    """Record one drop: 201 when stored, 200 with `replay: true` for a known client id."""
    acting, device = _caller()
    item = DropIn.model_validate_json(_json_body())
    session = get_session()
    result = stations_services.record_drop(session, actor=acting, item=item,
                                           device=device)
    return _answer(result, 200 if result.replay else 201)


@bp.post(f"{V1}/drops/batch")
def record_drops():
    """Record up to 500 drops; one result per item, bad items skipped.

    One transaction per community of the items' stations (a steward's queue may hold drops
    of several): each community's drops are committed before the next one's are recorded,
    the last by the request's commit point. If recording a later community fails (a server
    error, the database gone), the request answers that error and the communities before it
    stay stored: the queue sends the whole batch again, and their drops come back as
    replays (by client id), so nothing is stored or scored twice.
    """
    acting, device = _caller()
    batch = BatchIn.model_validate_json(_json_body())
    results: dict[int, BatchItemOut | BatchItemError] = {}
    valid: list[tuple[int, DropIn]] = []
    for n, raw in enumerate(batch.drops):
        try:
            # Through JSON again so each item gets the strict JSON rules (0 is not a boolean).
            valid.append((n, DropIn.model_validate_json(json.dumps(raw))))
        except ValidationError as err:
            client_id = raw.get("client_id")
            results[n] = BatchItemError(
                index=n, ok=False, client_id=client_id if isinstance(client_id, str) else None,
                error="invalid", message=_("Some fields are not valid."),
                fields=validation_fields(err))
    session = get_session()
    items = [item for _n, item in valid]
    outcomes: dict[int, stations_services.Outcome] = {}
    for k, group in enumerate(stations_services.community_groups(session, items)):
        if k:
            commit_unit()  # the previous community's drops, in a transaction of their own
        got = stations_services.record_drops(session, actor=acting,
                                             items=[items[i] for i in group], device=device)
        for i, outcome in zip(group, got, strict=True):
            outcomes[i] = outcome
    for i, (n, _item) in enumerate(valid):
        outcome = outcomes[i]  # every item is in one group
        if isinstance(outcome, stations_services.DropError):
            error = outcome.error
            field = error.details.get("field")
            results[n] = BatchItemError(
                index=n, ok=False, client_id=outcome.client_id, error=error.code,
                message=str(error.message),
                fields={str(field): str(error.message)} if field else {})
        else:
            results[n] = BatchItemOut(index=n, ok=True, drop=outcome)
    ordered = [results[n] for n in range(len(batch.drops))]
    ok = [r.drop for r in ordered if isinstance(r, BatchItemOut)]
    replays = sum(d.replay for d in ok)
    return _answer(BatchOut(results=ordered, stored=len(ok) - replays, replays=replays,
                            failed=len(ordered) - len(ok)))


@bp.post(f"{V1}/drops/<client_id>/photo")
def attach_photo(client_id: str):
    """Attach a photo (JPEG/PNG/WebP, at most 5 MB) to an already recorded drop."""
    acting, device = _caller()
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType()
    request.max_content_length = photos.MAX_PHOTO_BYTES + MULTIPART_SLACK
    upload = request.files.get("photo")
    if upload is None:
        raise InvalidInput(field="photo")
    data = upload.read(photos.MAX_PHOTO_BYTES + 1)
    root = current_app.config.get("UPLOAD_DIR") or current_app.instance_path
    session = get_session()
    photos.attach_photo(session, actor=acting, client_id=client_id, data=data,
                        photo_dir=Path(root) / "photos",
                        device_id=device.id if device is not None else None, ip=client_ip())
    return _answer(PhotoOut(photo=True))


@bp.post(f"{V1}/drops/<client_id>/void")
def void_drop(client_id: str):
    """Undo (void) the caller's own scan within 5 minutes; its points are reversed."""
    acting, _device = _caller()
    result = stations_services.void_drop(get_session(), actor=acting, client_id=client_id,
                                         ip=client_ip())
    return _answer(result)


@bp.get(f"{V1}/stations")
def list_stations():
    """The open stations the caller may record at."""
    acting, _device = _caller()
    return _answer(StationListOut(stations=queries.list_stations(get_session(), actor=acting)))


@bp.get(f"{V1}/stations/<int:station_id>")
def get_station(station_id: int):
    """A station with weekly windows, near exceptions, open now and the next window start."""
    acting, _device = _caller()
    return _answer(queries.station_detail(get_session(), actor=acting, station_id=station_id,
                                          now=clock.now()))


@bp.get(f"{V1}/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 document of this API."""
    return jsonify(openapi.document())


@bp.get(openapi.DOCS_PATH)
def docs():
    """Human-readable API documentation, rendered on the server from the OpenAPI document."""
    doc = openapi.document()
    # The document stays English; the page shows its texts in the reader's language.
    return render_template("stations/api_docs.html", doc=doc,
                           outline=openapi.outline(doc, translate=_))
