"""Map domain errors and HTTP errors to pages or JSON, in one place."""
from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

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
        429: _("Too many attempts. Please wait a few minutes and try again."),
        500: _("Something went wrong on our side. Please try again later."),
        503: _("The service is temporarily unavailable."),
    }
    return messages.get(status, _("The request could not be completed."))


def validation_fields(err: ValidationError) -> dict[str, str]:
    """Map a pydantic error to {field: message in the user's language} (first error per field)."""
    return {name: str(words) for name, words in field_errors(err).items()}


def _respond(status: int, code: str, message: str, details: dict | None = None,
             fields: dict[str, str] | None = None):
    if wants_json():
        body: dict[str, Any] = {"error": code, "message": message}
        if fields:
            body["fields"] = fields
        if details:
            body["details"] = details
        return jsonify(body), status
    return render_template("errors/error.html", status=status, message=message, code=code), status


def register(app: Flask) -> None:
    """Install the error handlers."""

    @app.errorhandler(DomainError)
    def _domain(err: DomainError):
        details = {k: v for k, v in err.details.items()
                   if k != "field" and isinstance(v, str | int | None)}
        field = err.details.get("field")
        fields = ({name: str(words) for name, words in err.details["fields"].items()}
                  if "fields" in err.details
                  else {str(field): str(err.message)} if field else None)
        return _respond(err.status, err.code, str(err.message), details, fields)

    @app.errorhandler(ValidationError)
    def _invalid(err: ValidationError):
        return _respond(422, "invalid", _http_message(422), fields=validation_fields(err))

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError):
        return _respond(400, "csrf", _("The form expired. Please reload the page and try again."))

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        status = err.code or 500
        codes = {401: "unauthorized", 403: "forbidden", 404: "not_found", 413: "too_large",
                 415: "unsupported_media_type", 429: "rate_limited", 405: "method_not_allowed"}
        return _respond(status, codes.get(status, "http_error"), _http_message(status))

    @app.errorhandler(Exception)
    def _crash(err: Exception):
        app.logger.exception("unhandled error")
        return _respond(500, "server_error", _http_message(500))
