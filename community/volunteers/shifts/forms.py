"""Forms and labels of the rota pages (Flask-WTF: CSRF on all; field rules: `schemas`)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField
from wtforms.validators import Optional

from community.volunteers.shifts import rules
from community.volunteers.shifts.schemas import AssignIn, GenerateIn, NeededIn
from community.web.forms import ModelForm

# Coverage states (rules.STATES) as the pages name them.
STATE_LABELS = {
    "staffed": _l("Staffed"),
    "unstaffed": _l("Unstaffed"),
    "ongoing": _l("Running, nobody checked in"),
    "filled": _l("Filled"),
    "short": _l("Short"),
    "empty": _l("Nobody yet"),
}
ASSIGNMENT_LABELS = {
    "signed_up": _l("Booked"),
    "cancelled": _l("Cancelled"),
    "no_show": _l("No-show"),
    "done": _l("Done"),
}
SHIFT_STATUS_LABELS = {"open": _l("Open"), "cancelled": _l("Cancelled")}


# Optional() on the number fields: an empty box is "no value" (the model asks for one), not
# a number WTForms cannot read.

class GenerateForm(ModelForm[GenerateIn]):
    """How many weeks ahead to generate, and how many stewards new shifts need."""

    model = GenerateIn

    weeks = IntegerField(_l("Weeks ahead"), default=4, validators=[Optional()])
    needed = IntegerField(_l("Stewards per new shift"), default=rules.DEFAULT_NEEDED,
                          validators=[Optional()])


class AssignForm(ModelForm[AssignIn]):
    """An approved steward of the community to put on the shift."""

    model = AssignIn

    steward_id = SelectField(_l("Steward"), coerce=int, choices=[], validate_choice=False,
                             validators=[Optional()])


class NeededForm(ModelForm[NeededIn]):
    """How many stewards one shift needs."""

    model = NeededIn

    needed = IntegerField(_l("Stewards needed"), validators=[Optional()])
