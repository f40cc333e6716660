"""Forms and labels of the hours pages (Flask-WTF: CSRF on all posts).

The approval form checks what a manager can fix in the field (a whole number of minutes in
range, a reason when correcting) in the user's language; `services.approve_hours` checks the
same again and has the last word (the recorded minutes, the state, the scope).
"""
from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, ValidationError

from community.volunteers.hours.rules import MAX_MINUTES

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


def _minutes_valid(_form: Any, field: Any) -> None:
    if not (field.data or "").strip():
        return  # empty: approve the recorded minutes as they are
    minutes = parse_minutes(field.data)
    if minutes is None or not 0 <= minutes <= MAX_MINUTES:
        raise ValidationError(_l("Enter the minutes as a whole number from 0 to 1440."))


class ApproveForm(FlaskForm):
    """Approve as recorded (minutes left empty), or correct the minutes with a reason."""

    minutes = StringField(_l("Approved minutes"), validators=[_minutes_valid])
    reason = StringField(_l("Reason for the correction"), validators=[
        Length(max=200, message=_l("At most 200 characters."))])

    def value(self) -> int | None:
        """The corrected minutes, or None to approve as recorded (call after validation)."""
        return parse_minutes(self.minutes.data)
