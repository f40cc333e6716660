"""Forms of the area tree page: add a child area, rename an area."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

NAME_MESSAGE = _l("Enter a name of at most 80 characters.")


class AddAreaForm(FlaskForm):
    """A child (district/town, street or community) under `parent_id`."""

    parent_id = HiddenField()
    name = StringField(_l("Name of the new area"), id="new_area_name", validators=[
        DataRequired(NAME_MESSAGE), Length(max=80, message=NAME_MESSAGE)])


class RenameAreaForm(FlaskForm):
    """A new name for an area."""

    name = StringField(_l("New name"), id="rename_area_name", validators=[
        DataRequired(NAME_MESSAGE), Length(max=80, message=NAME_MESSAGE)])
