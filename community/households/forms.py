"""Forms of the manager's household pages (Flask-WTF: CSRF on every form)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateTimeLocalField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs: WTForms 3.2
from wtforms.validators import Optional

from community.households.schemas import STATUS_LABELS, HouseholdIn
from community.web.forms import ModelForm

CARD_LABELS = {"active": _l("Has an active card"), "none": _l("No active card")}


class HouseholdForm(ModelForm[HouseholdIn]):
    """Address, member count and status of one household (rules: `HouseholdIn`)."""

    model = HouseholdIn

    building = StringField(_l("Building"))
    unit = StringField(_l("Unit"))
    room = StringField(_l("Room"))
    # Optional(): an empty box means "no number" (the model asks for one), not unreadable text.
    members = IntegerField(_l("Members"), default=1, validators=[Optional()])
    status = SelectField(_l("Status"), default="active", validate_choice=False,
                         choices=[SelectChoice(k, v) for k, v in STATUS_LABELS.items()])
    # Empty: the change takes effect now. The community's local time (the model's rule).
    effective_at = DateTimeLocalField(_l("Moved in, moved out or changed on (empty: now)"),
                                      format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                      validators=[Optional()])


class ImportForm(FlaskForm):
    """A household list file for one community."""

    # The choice is checked by the service's policy (403 for a foreign community), not here.
    community_id = SelectField(_l("Community"), coerce=int, choices=[], validate_choice=False)
    file = FileField(_l("File (CSV or XLSX)"),
                     validators=[FileRequired(_l("Please choose a file."))])
