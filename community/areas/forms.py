"""Forms of the area tree page: add a child area, rename an area (rules: `AreaIn`)."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField

from community.areas.schemas import NAME_MESSAGE as NAME_MESSAGE  # the views' words, re-exported
from community.areas.schemas import AreaIn
from community.web.forms import ModelForm


class AddAreaForm(ModelForm[AreaIn]):
    """A child (district/town, street or community) under `parent_id`."""

    model = AreaIn

    parent_id = HiddenField()
    name = StringField(_l("Name of the new area"), id="new_area_name")


class RenameAreaForm(ModelForm[AreaIn]):
    """A new name for an area."""

    model = AreaIn

    name = StringField(_l("New name"), id="rename_area_name")
