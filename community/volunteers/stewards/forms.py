"""Forms and labels of the steward pages (Flask-WTF: CSRF on every form).

WTForms renders, CSRF-protects and reads the posted text into values; the field rules are
the input models' (`community/volunteers/stewards/schemas.py`), and the services decide
what needs the database (whose profile, which community, overlaps).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs: WTForms 3.2
from wtforms.validators import Optional

from community.stations.forms import WEEKDAY_LABELS
from community.volunteers.models import TRAINING
from community.volunteers.stewards.schemas import AvailabilityIn, InviteIn, RejectIn, TrainingIn
from community.web.forms import ModelForm

STATUS_LABELS = {"pending": _l("Awaiting approval"), "approved": _l("Approved"),
                 "rejected": _l("Not accepted"), "retired": _l("Retired")}
TRAINING_LABELS = {"none": _l("Not trained"), "in_training": _l("In training"),
                   "trained": _l("Trained")}
INVITE_STATE_LABELS = {"active": _l("Valid"), "revoked": _l("Withdrawn"),
                       "expired": _l("Expired"), "used_up": _l("Used up")}


class InviteForm(ModelForm[InviteIn]):
    """A new invitation link: how many days it works and how many people may use it."""

    model = InviteIn

    # Optional(): an empty box means "no value" (the model asks for it), not a bad number.
    days = IntegerField(_l("Valid for (days)"), default=14, validators=[Optional()])
    max_uses = IntegerField(_l("Maximum sign-ups"), default=20, validators=[Optional()])


class RejectForm(ModelForm[RejectIn]):
    """Why an application is rejected (the applicant sees it)."""

    model = RejectIn

    reason = StringField(_l("Reason"))


class TrainingForm(ModelForm[TrainingIn]):
    """A steward's training status and, once trained, the date."""

    model = TrainingIn

    training = SelectField(_l("Training"), validate_choice=False,
                           choices=[SelectChoice(t, TRAINING_LABELS[t]) for t in TRAINING])
    trained_on = DateField(_l("Trained on"), validators=[Optional()])


class AvailabilityForm(ModelForm[AvailabilityIn]):
    """One weekly range a steward can usually help (an earlier end runs past midnight)."""

    model = AvailabilityIn

    weekday = SelectField(_l("Day"), coerce=int, validate_choice=False, choices=[
        SelectChoice(i, label) for i, label in enumerate(WEEKDAY_LABELS)])
    start = StringField(_l("From"), default="07:00")
    end = StringField(_l("To"), default="09:00")


class ApplyForm(FlaskForm):
    """The community to apply in (choices: the account's own communities)."""

    community_id = SelectField(_l("Community"), coerce=int, validate_choice=False)


class ChiefForm(FlaskForm):
    """The approved steward to appoint as a station's chief."""

    steward_id = SelectField(_l("Station chief"), coerce=int, validate_choice=False)
