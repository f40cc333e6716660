"""Forms and labels of the rota pages (Flask-WTF: CSRF on all)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange

from community.volunteers.shifts import rules

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


class GenerateForm(FlaskForm):
    """How many weeks ahead to generate, and how many stewards new shifts need."""

    weeks = IntegerField(_l("Weeks ahead"), default=4, validators=[
        InputRequired(_l("Please enter the number of weeks.")),
        NumberRange(1, rules.MAX_WEEKS, _l("Weeks must be from 1 to %(max)s.",
                                           max=rules.MAX_WEEKS))])
    needed = IntegerField(_l("Stewards per new shift"), default=rules.DEFAULT_NEEDED, validators=[
        InputRequired(_l("Please enter how many stewards a shift needs.")),
        NumberRange(1, rules.MAX_NEEDED, _l("Stewards needed must be from 1 to %(max)s.",
                                            max=rules.MAX_NEEDED))])


class AssignForm(FlaskForm):
    """An approved steward of the community to put on the shift."""

    steward_id = SelectField(_l("Steward"), coerce=int, choices=[], validate_choice=False,
                             validators=[InputRequired(_l("Please choose a steward."))])


class NeededForm(FlaskForm):
    """How many stewards one shift needs."""

    needed = IntegerField(_l("Stewards needed"), validators=[
        InputRequired(_l("Please enter how many stewards the shift needs.")),
        NumberRange(1, rules.MAX_NEEDED, _l("Stewards needed must be from 1 to %(max)s.",
                                            max=rules.MAX_NEEDED))])
