"""Forms of the manager's household pages (Flask-WTF: CSRF on every form)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs: WTForms 3.2
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from community.households.importer import MAX_MEMBERS, MAX_PART_LENGTH, MIN_MEMBERS

STATUS_LABELS = {"active": _l("Living here"), "moved_out": _l("Moved out")}
CARD_LABELS = {"active": _l("Has an active card"), "none": _l("No active card")}


class HouseholdForm(FlaskForm):
    """Address, member count and status of one household."""

    building = StringField(_l("Building"), validators=[
        DataRequired(_l("Please enter the building.")), Length(max=MAX_PART_LENGTH)])
    unit = StringField(_l("Unit"), validators=[
        DataRequired(_l("Please enter the unit.")), Length(max=MAX_PART_LENGTH)])
    room = StringField(_l("Room"), validators=[
        DataRequired(_l("Please enter the room.")), Length(max=MAX_PART_LENGTH)])
    members = IntegerField(_l("Members"), default=1, validators=[
        InputRequired(_l("Please enter the number of members.")),
        NumberRange(MIN_MEMBERS, MAX_MEMBERS, _l("Members must be from 1 to 30."))])
    status = SelectField(_l("Status"), default="active",
                         choices=[SelectChoice(k, v) for k, v in STATUS_LABELS.items()])


class ImportForm(FlaskForm):
    """A household list file for one community."""

    # The choice is checked by the service's policy (403 for a foreign community), not here.
    community_id = SelectField(_l("Community"), coerce=int, choices=[], validate_choice=False)
    file = FileField(_l("File (CSV or XLSX)"),
                     validators=[FileRequired(_l("Please choose a file."))])
