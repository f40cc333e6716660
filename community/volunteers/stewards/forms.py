"""Forms and labels of the steward pages (Flask-WTF: CSRF on every form).

The forms check only shape (present, a number, short enough); the services in
`community/volunteers/stewards/services.py` decide what is valid and say why not.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs: WTForms 3.2
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from community.stations.forms import WEEKDAY_LABELS
from community.volunteers.models import TRAINING
from community.volunteers.stewards.rules import INVITE_DAYS, INVITE_USES, MAX_REASON

STATUS_LABELS = {"pending": _l("Awaiting approval"), "approved": _l("Approved"),
                 "rejected": _l("Not accepted"), "retired": _l("Retired")}
TRAINING_LABELS = {"none": _l("Not trained"), "in_training": _l("In training"),
                   "trained": _l("Trained")}
INVITE_STATE_LABELS = {"active": _l("Valid"), "revoked": _l("Withdrawn"),
                       "expired": _l("Expired"), "used_up": _l("Used up")}


class InviteForm(FlaskForm):
    """A new invitation link: how many days it works and how many people may use it."""

    days = IntegerField(_l("Valid for (days)"), default=14, validators=[
        InputRequired(), NumberRange(min=INVITE_DAYS[0], max=INVITE_DAYS[1])])
    max_uses = IntegerField(_l("Maximum sign-ups"), default=20, validators=[
        InputRequired(), NumberRange(min=INVITE_USES[0], max=INVITE_USES[1])])


class RejectForm(FlaskForm):
    """Why an application is rejected (the applicant sees it)."""

    reason = StringField(_l("Reason"), validators=[
        DataRequired(message=_l("Give a reason.")), Length(max=MAX_REASON)])


class TrainingForm(FlaskForm):
    """A steward's training status and, once trained, the date."""

    training = SelectField(_l("Training"),
                           choices=[SelectChoice(t, TRAINING_LABELS[t]) for t in TRAINING])
    trained_on = DateField(_l("Trained on"), validators=[Optional()])


class AvailabilityForm(FlaskForm):
    """One weekly range a steward can usually help (an earlier end runs past midnight)."""

    weekday = SelectField(_l("Day"), coerce=int, choices=[
        SelectChoice(i, label) for i, label in enumerate(WEEKDAY_LABELS)])
    start = StringField(_l("From"), default="07:00", validators=[
        DataRequired(), Length(max=5)])
    end = StringField(_l("To"), default="09:00", validators=[DataRequired(), Length(max=5)])


class ApplyForm(FlaskForm):
    """The community to apply in (choices: the account's own communities)."""

    community_id = SelectField(_l("Community"), coerce=int, validate_choice=False)


class ChiefForm(FlaskForm):
    """The approved steward to appoint as a station's chief."""

    steward_id = SelectField(_l("Station chief"), coerce=int, validate_choice=False)
