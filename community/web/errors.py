"""Map domain errors and HTTP errors to pages or JSON, in one place.

A database that cannot be reached is an outage, not a bug: 503 with `Retry-After` (JSON code
`unavailable` for the API, a page for people), logged once when it starts and once when it
ends (per worker), not per request. The engine's pool pre-ping reconnects by itself.

A database that answers but kept this request waiting for a lock longer than it may wait
(SQLite's busy timeout: "database is locked"; PostgreSQL's lock_timeout, a deadlock or a
serialization failure) is busy, not out: 503 with a short `Retry-After` (JSON code `busy`),
logged per request with its endpoint, and no outage begins.
"""
from __future__ import annotations

import math
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from community.db import recover_for_error_page
from community.errors import DomainError
from community.schemas import field_errors
from community.web.context import wants_json


def _http_message(status: int) -> str:
    messages = {
        400: _("The request was malformed."),
        401: _("Please log in first."),
        403: _("You do not have permission to do this."),
        404: _("The page you asked for does not exist."),
        405: _("This method is not allowed here."),
        413: _("The upload is too large."),
        415: _("Unsupported content type."),
        422: _("Some fields are not valid."),
        429: _("Too many attempts in a short time."),
        500: _("Something went wrong on our side. Please try again later."),
        503: _("The service is temporarily unavailable."),
    }
    return messages.get(status, _("The request could not be completed."))


# The database is unreachable, gone away mid-request, or too busy to give a connection.
OUTAGE_ERRORS = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)
NOT_OUTAGES = ("no such table", "no such column", "syntax error")
RETRY_AFTER_SECONDS = 15
# A lock wait that ran out: SQLite's words (busy timeout), PostgreSQL's SQLSTATEs
# (lock_not_available, deadlock_detected, serialization_failure).
BUSY_WORDS = ("database is locked", "database table is locked")
BUSY_SQLSTATES = frozenset({"55P03", "40P01", "40001"})
BUSY_RETRY_AFTER_SECONDS = 5


def _causes(err: BaseException | None) -> list[BaseException]:
    """`err` and what caused it (a few levels: a wrapped DBAPI error, an error in a handler)."""
    chain: list[BaseException] = []
    while err is not None and len(chain) < 5:
        chain.append(err)
        err = err.__cause__ or err.__context__
    return chain


def is_busy(err: BaseException | None) -> bool:
    """Whether `err` (or what caused it) is a lock wait that ran out: the database answers,
    another transaction held what this one needed for longer than it may wait."""
    for cause in _causes(err):
        orig = cause.orig if isinstance(cause, DBAPIError) else cause
        if getattr(orig, "sqlstate", None) in BUSY_SQLSTATES:
            return True
        if type(orig).__name__ == "OperationalError" and any(
                words in str(orig) for words in BUSY_WORDS):
            return True
    return False


def is_outage(err: BaseException | None) -> bool:
    """Whether `err` (or what caused it) means the database cannot be reached right now."""
    if is_busy(err):
        return False
    for cause in _causes(err):
        if isinstance(cause, OUTAGE_ERRORS):
            # SQLite names a schema that is behind as an OperationalError too: not an outage.
            return not any(words in str(cause) for words in NOT_OUTAGES)
    return False


class _Outage:
    """Per worker: when the current outage started (None: the database answers)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.since: float | None = None

    def begin(self, app: Flask, err: BaseException) -> None:
        with self.lock:
            if self.since is not None:
                return
            self.since = time.monotonic()
        app.logger.error("database unreachable, answering 503 until it is back: %s",
                         type(err).__name__)

    def end(self, app: Flask) -> None:
        with self.lock:
            if self.since is None:
                return
            lasted, self.since = time.monotonic() - self.since, None
        app.logger.warning("database reachable again after %.1f s", lasted)


def is_unstorable(err: BaseException) -> bool:
    """Whether `err` is the database refusing a value no column can hold: an integer past the
    column type (SQLite: OverflowError at bind; PostgreSQL: `integer out of range`) or a NUL
    in text. The models bound their fields; this is the net under the few hand-read values."""
    if isinstance(err, DBAPIError):
        err = err.orig or err
    text = str(err)
    return (isinstance(err, OverflowError) and "too large" in text) or (
        type(err).__name__ in ("NumericValueOutOfRange", "DataError", "ValueError")
        and ("out of range" in text or "NUL (0x00)" in text))


def validation_fields(err: ValidationError) -> dict[str, str]:
    """Map a pydantic error to {field: message in the user's language} (first error per field)."""
    return {name: str(words) for name, words in field_errors(err).items()}


def _respond(status: int, code: str, message: str, details: dict | None = None,
             fields: dict[str, str] | None = None) -> tuple[Any, int]:
    if wants_json():
        body: dict[str, Any] = {"error": code, "message": message}
        if fields:
            body["fields"] = fields
        if details:
            body["details"] = details
        return jsonify(body), status
    return render_template("errors/error.html", status=status, message=message, code=code,
                           page=_page_words(status, code), wait=_wait_words(details),
                           back_url=_back_url()), status


def _wait_words(details: dict | None) -> str | None:
    """'Please wait 40 seconds' (or minutes, hours) from a retry_after detail."""
    seconds = (details or {}).get("retry_after")
    if not isinstance(seconds, int) or seconds <= 0:
        return None
    if seconds == 1:
        return _("Please wait a second, then try again.")
    if seconds < 90:
        return _("Please wait %(num)s seconds, then try again.", num=seconds)
    if seconds < 90 * 60:  # from 2 minutes: no singular needed
        return _("Please wait %(num)s minutes, then try again.", num=math.ceil(seconds / 60))
    return _("Please wait %(num)s hours, then try again.", num=math.ceil(seconds / 3600))


def _page_words(status: int, code: str = "") -> dict[str, str]:
    """The error page's title and what to do next, in the user's language."""
    if code == "bad_query":
        return {"title": _("This search cannot be run"), "advice": _(
            "Nothing is wrong with the list itself. Go back, change the search or filter "
            "value (type it again rather than pasting it), and search again.")}
    pages = {
        403: (_("You cannot open this page"), _forbidden_advice()),
        404: (_("Page not found"), _(
            "The address may be mistyped or out of date, or the item was removed. Go back, "
            "or find it again from your start page.")),
        413: (_("The upload is too large"), _too_large_advice()),
        429: (_("Too many attempts"), _(
            "This protects your account and the service. Wait as long as shown below, then "
            "try again; nothing is lost by waiting.")),
        503: (_("The service is briefly unavailable"), _(
            "Wait a moment and reload the page. Scans at a station stay queued on the phone "
            "and are sent when the service is back.")),
    }
    title, advice = pages.get(status, (_("Something went wrong"), _(
        "Go back and try again. If it happens again, tell your community manager what you "
        "were doing.")))
    return {"title": title, "advice": advice}


def _reader_top_role() -> str | None:
    """The reader's highest role (None: signed out, or no role yet), from the request's
    Actor (loaded by the check that refused; loaded here if it was not)."""
    from community.auth.policy import RANK
    from community.web.context import actor

    try:
        grants = actor().grants
    except Exception:  # the error page must render even if the roles cannot be read
        return None
    return max((g.role for g in grants if g.role in RANK), key=RANK.__getitem__, default=None)


def _forbidden_advice() -> str:
    """Whom to ask for a role a page needs: someone above the reader, never the reader's own
    role (a community manager told to ask the community manager). Residents, stewards and
    station chiefs ask their community manager; managers and collectors their street or
    district administrator; area administrators the city administrator; a city
    administrator another city administrator."""
    top = _reader_top_role()
    if top == "city_admin":
        return _("This page or action needs a role your account does not have. Another city "
                 "administrator can give your account that role; until then, go back or start "
                 "again from your start page.")
    if top == "area_admin":
        return _("This page or action belongs to another role or another area. If your work "
                 "needs it, ask the city administrator to give your account that role; until "
                 "then, go back or start again from your start page.")
    if top in ("manager", "collector"):
        return _("This page or action belongs to another role or another area. If your work "
                 "needs it, ask your street or district administrator (or the city "
                 "administrator) to give your account that role; until then, go back or start "
                 "again from your start page.")
    return _("This page or action belongs to another role or another community. If your work "
             "needs it, ask your community manager (or the city administrator) to give your "
             "account that role; until then, go back or start again from your start page.")


# The forms that upload a file (by endpoint) and what they upload: the 413 page names that
# file's own limit; any other route gets the request's limit.
UPLOAD_FORMS = {"reports.new": "photo", "reports.handle": "photo", "checkin.log": "photo",
                "rewards.new": "photo", "rewards.edit": "photo",
                "households.import_": "household_list"}


def _size(size: int) -> str:
    """A byte limit as people say it: "16 MB", "4 KB"."""
    return f"{size // (1024 * 1024)} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"


def _too_large_advice() -> str:
    """What to do about a request over its size limit, for the form that sent it."""
    from community.households.importer import MAX_FILE_BYTES
    from community.images import MAX_PHOTO_BYTES

    limit = _size(request.max_content_length or 0)
    kind = UPLOAD_FORMS.get(request.endpoint or "")
    if kind == "photo":
        return _("Nothing was saved: the form was larger than %(limit)s. Go back (the "
                 "browser usually keeps what you typed), choose a smaller photo — up to "
                 "%(size)s; a phone can send a photo at a lower resolution — and send the "
                 "form again.", limit=limit, size=_size(MAX_PHOTO_BYTES))
    if kind == "household_list":
        return _("Nothing was saved: the form was larger than %(limit)s. Go back (the "
                 "browser usually keeps what you typed), choose a smaller household list — "
                 "up to %(size)s (keep only the sheet with the households) — and send the "
                 "form again.", limit=limit, size=_size(MAX_FILE_BYTES))
    return _("Nothing was saved: what was sent is larger than the %(limit)s a request may "
             "carry. Go back (the browser usually keeps what you typed), send less at once "
             "and try again.", limit=limit)


def _back_url() -> str | None:
    """The page the user came from, when it is one of ours (for the error page's Back link)."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    back = parts.path + (f"?{parts.query}" if parts.query else "")
    if not back.startswith("/") or back.startswith("//"):
        return None
    # A page that refers to itself is no way back; a form posting to its own page is.
    if request.method == "GET" and back == request.full_path.rstrip("?"):
        return None
    return back


def retry_after_seconds(err: HTTPException) -> int:
    """Seconds until a rate-limited client may try again (Flask-Limiter's window, else 60)."""
    from community.extensions import limiter

    try:
        current = limiter.current_limit
    except Exception:  # noqa: BLE001 - no limit evaluated in this request
        current = None
    if current is not None:
        return max(1, math.ceil(current.reset_at - time.time()))
    return 60


def _unavailable(app: Flask, err: BaseException) -> Response:
    """503 with Retry-After for a database outage (logged once per outage)."""
    app.extensions["community.outage"].begin(app, err)
    body, status = _respond(503, "unavailable", _(
        "The service is temporarily unavailable. Please try again in a moment; "
        "nothing you sent was lost or half-saved."),
                            details={"retry_after": RETRY_AFTER_SECONDS})
    response = app.make_response((body, status))
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _busy(app: Flask, err: BaseException) -> Response:
    """503 with a short Retry-After for a lock wait that ran out (logged per request)."""
    app.logger.warning("database busy, answering 503: a lock wait ran out on %s %s (%s)",
                       request.method, request.endpoint, type(err).__name__)
    body, status = _respond(503, "busy", _(
        "The service is busy right now. Please try again in a moment; nothing of this "
        "request was saved."), details={"retry_after": BUSY_RETRY_AFTER_SECONDS})
    response = app.make_response((body, status))
    response.headers["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
    return response


def _database_error(app: Flask, err: BaseException) -> Response | None:
    """The answer to a database that is busy or cannot be reached (None: neither)."""
    if is_busy(err):
        recover_for_error_page()
        return _busy(app, err)
    if is_outage(err):
        recover_for_error_page()
        return _unavailable(app, err)
    return None


def register(app: Flask) -> None:
    """Install the error handlers."""
    outage = app.extensions["community.outage"] = _Outage()

    @app.after_request
    def _outage_over(response: Response) -> Response:
        # A request that used the database and did not fail: the outage (if any) is over.
        if outage.since is not None and "db_session" in g and response.status_code < 500:
            outage.end(app)
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(DisconnectionError)
    @app.errorhandler(PoolTimeout)
    def _db_unreachable(err: Exception):
        recover_for_error_page()
        return _database_error(app, err) or _unavailable(app, err)

    @app.errorhandler(DomainError)
    def _domain(err: DomainError):
        details = {k: v for k, v in err.details.items()
                   if k != "field" and isinstance(v, str | int | None)}
        field = err.details.get("field")
        fields = ({name: str(words) for name, words in err.details["fields"].items()}
                  if "fields" in err.details
                  else {str(field): str(err.message)} if field else None)
        if err.status == 429 and isinstance(err.details.get("seconds"), int):
            details = {**details, "retry_after": err.details["seconds"]}
            body, status = _respond(err.status, err.code, str(err.message), details, fields)
            response = app.make_response((body, status))
            response.headers["Retry-After"] = str(err.details["seconds"])
            return response
        return _respond(err.status, err.code, str(err.message), details, fields)

    @app.errorhandler(ValidationError)
    def _invalid(err: ValidationError):
        return _respond(422, "invalid", _http_message(422), fields=validation_fields(err))

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError):
        return _respond(400, "csrf", _("The form expired. Please reload the page and try again."))

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        # An outage or a lock wait met after the view (at the commit point) arrives as a
        # 500 wrapping it.
        original = getattr(err, "original_exception", None)
        if original is not None:
            if (answer := _database_error(app, original)) is not None:
                return answer
            recover_for_error_page()  # a crash: its page must render whatever state it left
        status = err.code or 500
        codes = {401: "unauthorized", 403: "forbidden", 404: "not_found", 413: "too_large",
                 415: "unsupported_media_type", 429: "rate_limited", 405: "method_not_allowed"}
        if status == 429:
            wait = retry_after_seconds(err)
            body, _status = _respond(status, "rate_limited", _http_message(status),
                                     details={"retry_after": wait})
            response = app.make_response((body, status))
            response.headers["Retry-After"] = str(wait)
            return response
        return _respond(status, codes.get(status, "http_error"), _http_message(status))

    @app.errorhandler(Exception)
    def _crash(err: Exception):
        if (answer := _database_error(app, err)) is not None:
            return answer
        recover_for_error_page()
        if is_unstorable(err):
            # Bad input, not a bug; logged so the field that let it through gets its bound.
            app.logger.warning("unstorable value refused: %s", type(err).__name__)
            return _respond(422, "invalid", _("A value is out of the allowed range or "
                                              "contains a character that is not allowed."))
        app.logger.exception("unhandled error")
        return _respond(500, "server_error", _http_message(500))
