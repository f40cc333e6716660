"""Domain errors. Services raise them; `community.web.errors` maps them to HTTP in one place."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """Base class: a stable `code`, an HTTP status and a translatable message."""

    code = "error"
    status = 400
    message: Any = _l("The request could not be completed.")

    def __init__(self, message: Any = None, **details: Any) -> None:
        super().__init__(str(message or self.message))
        if message is not None:
            self.message = message
        self.details = details


class NotFound(DomainError):
    code, status, message = "not_found", 404, _l("Not found.")


class Forbidden(DomainError):
    code, status, message = "forbidden", 403, _l("You do not have permission to do this.")


class OwnDecision(Forbidden):
    """Separation of duties: nobody approves their own application or hours or confirms
    their own presence."""

    code, message = "own_decision", _l(
        "You cannot decide this for yourself: another station chief or the community manager "
        "must.")


class InvalidInput(DomainError):
    code, status, message = "invalid", 422, _l("Some fields are not valid.")


class Conflict(DomainError):
    code, status, message = "conflict", 409, _l("This conflicts with existing data.")


class CardUnknown(DomainError):
    code, status, message = "card_unknown", 404, _l("No card matches this code.")


class CardRevoked(DomainError):
    code, status, message = "card_revoked", 409, _l(
        "This card has been revoked. Please use the household's new card."
    )


class SchemaBehind(DomainError):
    code, status = "schema_behind", 503
    message = _l("The database is behind the code. Run: flask --app wsgi db upgrade")

    def __init__(self, *, current: str | None, head: str | None) -> None:
        super().__init__(None, current=current, head=head)
