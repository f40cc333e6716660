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


def errors_onto_form(form: Any, exc: DomainError, *, default: Any = None,
                     text: str | None = None, conflict: str | None = None,
                     own_words: bool = False) -> bool:
    """Put a service's refusal next to the form field it names (or on `default`).

    The one place a view turns a `DomainError` into a form error; False (nothing shown)
    when the refusal names no field of the form and there is no `default`, so the caller
    can flash it instead. The words: `text` when given; for a Conflict with `conflict`,
    that text on `default`; for a plain InvalidInput a generic "not valid" (or, with
    `own_words`, the service's own message when it gave one); otherwise the refusal's own
    message (e.g. "The balance is too small"). The hook rolls the request back on the
    error response the view then returns.
    """
    if isinstance(exc, Conflict) and conflict and text is None:
        target, text = default, conflict
    else:
        target = getattr(form, str(exc.details.get("field", "")), None) or default
    if target is None:
        return False
    if text is None:
        generic = type(exc) is InvalidInput and not (
            own_words and exc.message is not type(exc).message)
        text = _("This value is not valid.") if generic else str(exc.message)
    target.errors = [*target.errors, text]
    return True
