"""Form helpers shared by the managers' pages."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from community.errors import Conflict, DomainError


def show_service_error(form: Any, err: DomainError, *, default: Any,
                       conflict: str | None = None) -> None:
    """Put a service's refusal next to the field it names (or on `default`).

    A Conflict shows `conflict` (e.g. "already exists") on `default`; any other refusal
    shows a generic "not valid" on the named field.
    """
    if isinstance(err, Conflict) and conflict:
        default.errors = [*default.errors, conflict]
        return
    target = getattr(form, str(err.details.get("field", "")), None) or default
    target.errors = [*target.errors, _("This value is not valid.")]
