"""Resident and link-request forms (Flask-WTF: CSRF on every form); rules: the input models."""
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs: WTForms 3.2
from wtforms.validators import DataRequired

from community.areas.schemas import LINK_MODE_LABELS, LinkMode, LinkModeIn
from community.residents.schemas import LinkIn
from community.web.forms import ModelForm


class LinkForm(ModelForm[LinkIn]):
    """Short code and link code from the card. The link code is checked by the service:
    only communities in code mode need it, and the form cannot know the mode before the card."""

    model = LinkIn

    short_code = StringField(_l("Card code"))
    link_code = StringField(_l("Link code"))

    def model_data(self) -> dict[str, Any]:
        """The codes as typed (an absent link code is an empty one)."""
        return {"short_code": self.short_code.data, "link_code": self.link_code.data or ""}


class LinkModeForm(ModelForm[LinkModeIn]):
    """A manager chooses how residents of one community link to their household."""

    model = LinkModeIn

    # Which community: the page's target, not an input rule (the service authorizes it).
    community_id = HiddenField(validators=[DataRequired()])
    link_mode = SelectField(_l("How residents link"), validate_choice=False,
                            choices=[SelectChoice(m, LINK_MODE_LABELS[m]) for m in LinkMode])
