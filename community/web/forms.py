"""Form helpers shared by the managers' pages."""
from __future__ import annotations

from typing import Any, TypeVar, cast

from flask_babel import gettext as _

from community.errors import Conflict, DomainError, InvalidInput

T = TypeVar("T")


def required(data: T | None) -> T:
    """A field's data once the form has validated, when a required validator (DataRequired,
    InputRequired or the form's own check) has made sure there is one; WTForms types every
    field's data as optional."""
    return cast(T, data)


def show_service_error(form: Any, err: DomainError, *, default: Any,
                       conflict: str | None = None) -> None:
    """Put a service's refusal next to the field it names (or on `default`).

    A Conflict shows `conflict` (e.g. "already exists") on `default`; a plain InvalidInput
    shows a generic "not valid" on the named field; any other refusal shows its own message
    (e.g. "The balance is too small").
    """
    if isinstance(err, Conflict) and conflict:
        default.errors = [*default.errors, conflict]
        return
    target = getattr(form, str(err.details.get("field", "")), None) or default
    text = _("This value is not valid.") if type(err) is InvalidInput else str(err.message)
    target.errors = [*target.errors, text]
