"""Resident and link-request forms (Flask-WTF: CSRF on every form)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs: WTForms 3.2
from wtforms.validators import DataRequired, Length, Optional

from community.areas.models import LINK_MODES

LINK_MODE_LABELS = {
    "code": _l("Link code on the card (instant)"),
    "approval": _l("Manager approval"),
}


class LinkForm(FlaskForm):
    """Short code and link code from the card. The link code is checked by the service:
    only communities in code mode need it, and the form cannot know the mode before the card."""

    short_code = StringField(
        _l("Card code"),
        validators=[DataRequired(message=_l("Enter the code printed under the QR code.")),
                    Length(max=20)],
    )
    link_code = StringField(_l("Link code"), validators=[Optional(), Length(max=12)])


class LinkModeForm(FlaskForm):
    """A manager chooses how residents of one community link to their household."""

    community_id = HiddenField(validators=[DataRequired()])
    link_mode = SelectField(_l("How residents link"),
                            choices=[SelectChoice(m, LINK_MODE_LABELS[m]) for m in LINK_MODES])
