"""Forms and labels of the hours pages (Flask-WTF: CSRF on all posts).

The approval form reads the typed minutes ("90", "−5" …) into a number; the field rules are
`schemas.ApproveIn`'s, and `services.approve_hours` decides what depends on the record (a
correction needs a reason, the state, the scope).
"""
from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import ValidationError

from community.volunteers.hours.schemas import MINUTES_RANGE, ApproveIn
from community.web.forms import ModelForm

_WHOLE = re.compile(r"^[+-]?\d{1,6}$")

HOURS_STATUS_LABELS = {"pending": _l("Waiting for approval"), "approved": _l("Approved")}
STEWARD_STATUS_LABELS = {"pending": _l("Applied"), "approved": _l("Active"),
                         "rejected": _l("Not accepted"), "retired": _l("Retired")}
CHECK_METHOD_LABELS = {"code": _l("station code"), "chief": _l("confirmed by hand"),
                       "auto": _l("automatic at the end")}


def parse_minutes(text: str | None) -> int | None:
    """A whole number typed by a person ('90', '-5', '−5'); None when empty or not a number."""
    value = (text or "").strip().replace("−", "-").replace("－", "-").replace("＋", "+")
    return int(value) if _WHOLE.match(value) else None


def _minutes_readable(_form: Any, field: Any) -> None:
    """Typing, not a rule: the text must read as a whole number (empty: as recorded)."""
    if (field.data or "").strip() and parse_minutes(field.data) is None:
        raise ValidationError(MINUTES_RANGE)


class ApproveForm(ModelForm[ApproveIn]):
    """Approve as recorded (minutes left empty), or correct the minutes with a reason."""

    model = ApproveIn

    minutes = StringField(_l("Approved minutes"), validators=[_minutes_readable])
    reason = StringField(_l("Reason for the correction"))

    def model_data(self) -> dict[str, Any]:
        """The typed minutes as a number (None: approve as recorded) and the reason."""
        return {"minutes": parse_minutes(self.minutes.data), "reason": self.reason.data or ""}
