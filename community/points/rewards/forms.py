"""Forms of the rewards pages (Flask-WTF: CSRF on all).

WTForms renders the fields, protects them against CSRF and reads the typed text (whole
numbers, dates); the field rules are the input models' (`rewards.schemas`: `RewardItemForm`
→ `RewardIn`, `CancelForm` → `CancelIn`). `rewards.services` has the last word on what
needs the database (the scope, the stock, the balance).
"""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs: WTForms 3.2
from wtforms.validators import Optional

from community.points.rewards.schemas import (
    AUDIENCE_LABELS,
    ITEM_WORDS,
    LIMIT_PERIOD_LABELS,
    CancelIn,
    RewardIn,
)
from community.web.forms import ModelForm


class RewardItemForm(ModelForm[RewardIn]):
    """A catalog item: what it is, what it costs, how many are left, when it is on offer."""

    model = RewardIn

    name = StringField(_l("Reward name"))
    description = TextAreaField(_l("Description"))
    # Optional(): an empty box is "no value" (the model asks for one), not a parse error.
    cost = IntegerField(_l("Cost in points"), validators=[Optional()])
    stock = IntegerField(_l("Stock left"), validators=[Optional()])
    active_from = DateField(_l("On offer from"), validators=[Optional()])
    active_until = DateField(_l("On offer until"), validators=[Optional()])
    picture_file = FileField(_l("Picture (JPEG, PNG or WebP, up to 5 MB)"))
    household_limit = IntegerField(_l("Limit per household"), validators=[Optional()])
    # Any other value is RewardIn's to refuse (validate_choice off: one place for the rule).
    limit_period = SelectField(
        _l("Limit period"), validate_choice=False,
        choices=[SelectChoice("", _l("No limit"))] + [
            SelectChoice(p.value, label) for p, label in LIMIT_PERIOD_LABELS.items()])
    audience = SelectField(_l("Who can redeem it"), validate_choice=False, choices=[
        SelectChoice(a.value, label) for a, label in AUDIENCE_LABELS.items()])

    def validate(self, extra_validators: Any = None) -> bool:
        """As every model form; a box WTForms cannot read (a cost of "2.5", a date of
        "tomorrow") says what the field needs in RewardIn's words, not WTForms' "Not a
        valid integer value"."""
        ok = super().validate(extra_validators)
        for name, words in ITEM_WORDS.items():
            field = self._fields[name]
            if field.process_errors:
                field.errors = [words]
        return ok

    def model_data(self) -> dict[str, object]:
        """The fields as RewardIn takes them (an empty description is "", no period None)."""
        return super().model_data() | {"name": self.name.data or "",
                                       "description": self.description.data or "",
                                       "limit_period": self.limit_period.data or None,
                                       "audience": self.audience.data or "everyone"}


class CancelForm(ModelForm[CancelIn]):
    """A manager's cancellation: the household gets its points back, so a reason is required
    (`cancel_redemption` checks that, after the scope, so a foreign id is refused first)."""

    model = CancelIn

    reason = StringField(_l("Reason"))

    def model_data(self) -> dict[str, object]:
        """The reason ("" when none was typed)."""
        return {"reason": self.reason.data or ""}
