"""Forms of the managers' points pages (Flask-WTF: CSRF on all).

WTForms renders the fields, protects them against CSRF and reads the typed text (a signed
amount, whole numbers, a date); the field rules are the input models' (`points.schemas`:
`AdjustForm` → `AdjustIn`, `RulesForm` → `RulesIn`). The services have the last word on
what needs the database (the balance, the community's scope).
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, StringField
from wtforms.validators import Optional, ValidationError

from community.points.schemas import AdjustIn, RulesIn
from community.waste import CATEGORY_LABELS
from community.web.forms import ModelForm

_WHOLE = re.compile(r"^[+-]?\d{1,9}$")


def parse_amount(text: str | None) -> int | None:
    """A signed whole number typed by a person ('+20', '-5', '−5'); None when it is not one."""
    value = (text or "").strip().replace("−", "-").replace("＋", "+").replace("－", "-")
    return int(value) if _WHOLE.match(value) else None


class AdjustForm(ModelForm[AdjustIn]):
    """A manual adjustment: a signed amount and the reason residents will read (`AdjustIn`)."""

    model = AdjustIn

    amount = StringField(_l("Points (+ to add, - to take)"))
    reason = StringField(_l("Reason"))

    def model_data(self) -> dict[str, Any]:
        """The typed amount as a whole number (None when it is not one: the model says so)."""
        return {"amount": parse_amount(self.amount.data), "reason": self.reason.data or ""}


# Form field → RuleSet field. The ranges are `rules.RANGES`, which `RulesIn` and
# RuleSet.problems() both read (a test keeps them in step).
POINT_FIELDS = {f"points_{c}": c for c in CATEGORY_LABELS}
NUMBER_FIELDS = ("daily_cap", "strike_limit", "strike_window_days", "strike_penalty",
                 "streak_days", "streak_bonus", "expiry_years", "steward_points_per_hour")


def _number(label: Any) -> IntegerField:
    # Optional(): an empty box is "no value" (the model asks for one), not a parse error.
    return IntegerField(label, validators=[Optional()])


class RulesForm(ModelForm[RulesIn]):
    """A new rule-set version: every RuleSet value and the date it applies from (`RulesIn`)."""

    model = RulesIn

    points_kitchen = _number(CATEGORY_LABELS["kitchen"])
    points_recyclable = _number(CATEGORY_LABELS["recyclable"])
    points_hazardous = _number(CATEGORY_LABELS["hazardous"])
    points_other = _number(CATEGORY_LABELS["other"])
    ungraded_earns = BooleanField(_l("Ungraded drops earn points as if correct"))
    daily_cap = _number(_l("Daily cap (points per household per day from drops)"))
    strike_limit = _number(_l("Strikes before a penalty"))
    strike_window_days = _number(_l("Strike window (days)"))
    strike_penalty = _number(_l("Penalty (points)"))
    streak_days = _number(_l("Streak length (days)"))
    streak_bonus = _number(_l("Streak bonus (points)"))
    expiry_years = _number(_l("Points expire after (years after the year earned)"))
    steward_points_per_hour = _number(_l("Steward points per approved hour of service"))
    effective_from = DateField(_l("In force from"), validators=[Optional()])

    # The community's local today, set by the view: new rules apply from today on. This
    # guard is the page's: the service accepts any date, so history can be set up (the demo).
    min_day: date | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in (*POINT_FIELDS, *NUMBER_FIELDS):  # the page asks for every value
            self[name].flags.required = True

    def validate_effective_from(self, field: Any) -> None:
        """Published rules never reach back: points already awarded stay as they were."""
        if self.min_day and field.data and field.data < self.min_day:
            raise ValidationError(_l("Choose today (%(day)s) or a later date: published rules "
                                     "never change points already awarded.",
                                     day=self.min_day.isoformat()))

    def model_data(self) -> dict[str, Any]:
        """The fields as RulesIn takes them (a checkbox is true or false)."""
        return super().model_data() | {"ungraded_earns": bool(self.ungraded_earns.data)}

    def fill(self, params: dict[str, Any], day: date) -> None:
        """Prefill with the rules in force (params as RuleSet fields)."""
        for name, category in POINT_FIELDS.items():
            getattr(self, name).data = params["points"].get(category, 0)
        self.ungraded_earns.data = bool(params["ungraded_earns"])
        for name in NUMBER_FIELDS:
            getattr(self, name).data = params[name]
        self.effective_from.data = day
