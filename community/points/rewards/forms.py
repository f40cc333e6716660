"""Forms and labels of the rewards pages (Flask-WTF: CSRF on all).

The forms check what a person can fix in the field (a name, whole numbers, dates, a reason)
and say so in the user's language; `rewards.services` checks the same again and has the last
word (the scope, the stock, the balance).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from community.points.rewards import services as rewards

REDEMPTION_STATUS_LABELS = {
    "reserved": _l("Waiting for pickup"),
    "handed_over": _l("Handed over"),
    "cancelled": _l("Cancelled"),
}
ITEM_STATUS_LABELS = {"active": _l("On offer"), "retired": _l("Withdrawn")}


class RewardItemForm(FlaskForm):
    """A catalog item: what it is, what it costs, how many are left, when it is on offer."""

    name = StringField(_l("Reward name"), validators=[DataRequired(),
                                                      Length(max=rewards.NAME_MAX)])
    description = TextAreaField(_l("Description"), validators=[
        Optional(), Length(max=rewards.DESCRIPTION_MAX)])
    cost = IntegerField(_l("Cost in points"), validators=[
        InputRequired(), NumberRange(min=1, max=rewards.MAX_COST)])
    stock = IntegerField(_l("Stock left"), validators=[
        InputRequired(), NumberRange(min=0, max=rewards.MAX_STOCK)])
    active_from = DateField(_l("On offer from"), validators=[Optional()])
    active_until = DateField(_l("On offer until"), validators=[Optional()])
    picture_file = FileField(_l("Picture (JPEG, PNG or WebP, up to 5 MB)"))


class CancelForm(FlaskForm):
    """A manager's cancellation: the household gets its points back, so a reason is required
    (`cancel_redemption` checks it, after the scope, so a foreign id is refused first)."""

    reason = StringField(_l("Reason"), validators=[Length(max=rewards.REASON_MAX)])
