"""Forms and labels of the managers' points pages (Flask-WTF: CSRF on all).

The forms check what a person can fix in the field (a whole number, a reason, a range) and
say so in the user's language; the services check the same again and have the last word
(the balance, the community's scope).
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, ValidationError

from community.points import services as points_services
from community.waste import CATEGORY_LABELS

KIND_LABELS = {
    "earn": _l("Earned"), "bonus": _l("Streak bonus"), "penalty": _l("Penalty"),
    "strike": _l("Strike"), "redeem": _l("Redemption"), "refund": _l("Refund"),
    "reversal": _l("Correction"), "expire": _l("Expiry"), "adjust": _l("Adjustment"),
}

_WHOLE = re.compile(r"^[+-]?\d{1,9}$")


def parse_amount(text: str | None) -> int | None:
    """A signed whole number typed by a person ('+20', '-5', '−5'); None when it is not one."""
    value = (text or "").strip().replace("−", "-").replace("＋", "+").replace("－", "-")
    return int(value) if _WHOLE.match(value) else None


def _amount_valid(_form: Any, field: Any) -> None:
    amount = parse_amount(field.data)
    if amount is None:
        raise ValidationError(_l("Enter a whole number of points, e.g. 20 or -5."))
    if amount == 0:
        raise ValidationError(_l("The amount cannot be zero."))
    if abs(amount) > points_services.MAX_ADJUST:
        raise ValidationError(_l("At most %(n)s points can be added or taken at once.",
                                 n=f"{points_services.MAX_ADJUST:,}"))


class AdjustForm(FlaskForm):
    """A manual adjustment: a signed amount and the reason residents will read."""

    amount = StringField(_l("Points (+ to add, - to take)"), validators=[
        InputRequired(_l("Enter a whole number of points, e.g. 20 or -5.")), _amount_valid])
    reason = StringField(_l("Reason"), validators=[
        InputRequired(_l("Please give a reason; the household will see it.")),
        Length(max=200, message=_l("At most 200 characters."))])

    def validate_reason(self, field: Any) -> None:
        """A reason of spaces only is no reason."""
        if not (field.data or "").strip():
            raise ValidationError(_l("Please give a reason; the household will see it."))

    def value(self) -> int:
        """The parsed amount (call after validation)."""
        return parse_amount(self.amount.data) or 0


def _range(low: int, high: int) -> list[Any]:
    message = _l("Enter a whole number from %(low)s to %(high)s.", low=low, high=high)
    return [InputRequired(message), NumberRange(low, high, message)]


# Form field → RuleSet field. The ranges are the ones RuleSet.problems() accepts (a test
# keeps them in step), so a refusal is shown at the field before the service sees it.
POINT_FIELDS = {f"points_{c}": c for c in CATEGORY_LABELS}
NUMBER_FIELDS = ("daily_cap", "strike_limit", "strike_window_days", "strike_penalty",
                 "streak_days", "streak_bonus", "expiry_years", "steward_points_per_hour")


class RulesForm(FlaskForm):
    """A new rule-set version: every RuleSet value and the date it applies from."""

    points_kitchen = IntegerField(CATEGORY_LABELS["kitchen"], validators=_range(0, 100))
    points_recyclable = IntegerField(CATEGORY_LABELS["recyclable"], validators=_range(0, 100))
    points_hazardous = IntegerField(CATEGORY_LABELS["hazardous"], validators=_range(0, 100))
    points_other = IntegerField(CATEGORY_LABELS["other"], validators=_range(0, 100))
    ungraded_earns = BooleanField(_l("Ungraded drops earn points as if correct"))
    daily_cap = IntegerField(_l("Daily cap (points per household per day from drops)"),
                             validators=_range(0, 1000))
    strike_limit = IntegerField(_l("Strikes before a penalty"), validators=_range(1, 100))
    strike_window_days = IntegerField(_l("Strike window (days)"), validators=_range(1, 366))
    strike_penalty = IntegerField(_l("Penalty (points)"), validators=_range(0, 1000))
    streak_days = IntegerField(_l("Streak length (days)"), validators=_range(2, 366))
    streak_bonus = IntegerField(_l("Streak bonus (points)"), validators=_range(0, 1000))
    expiry_years = IntegerField(_l("Points expire after (years after the year earned)"),
                                validators=_range(0, 10))
    steward_points_per_hour = IntegerField(_l("Steward points per approved hour of service"),
                                           validators=_range(0, 1000))
    effective_from = DateField(_l("In force from"), validators=[
        InputRequired(_l("Please choose the date the rules apply from."))])

    # The community's local today, set by the view: new rules apply from today on.
    min_day: date | None = None

    def validate_effective_from(self, field: Any) -> None:
        """Published rules never reach back: points already awarded stay as they were."""
        if self.min_day and field.data and field.data < self.min_day:
            raise ValidationError(_l("Choose today (%(day)s) or a later date: published rules "
                                     "never change points already awarded.",
                                     day=self.min_day.isoformat()))

    def fill(self, params: dict[str, Any], day: date) -> None:
        """Prefill with the rules in force (params as RuleSet fields)."""
        for name, category in POINT_FIELDS.items():
            getattr(self, name).data = params["points"].get(category, 0)
        self.ungraded_earns.data = bool(params["ungraded_earns"])
        for name in NUMBER_FIELDS:
            getattr(self, name).data = params[name]
        self.effective_from.data = day

    def params(self) -> dict[str, Any]:
        """The RuleSet fields for `publish_rules` (call after validation)."""
        out: dict[str, Any] = {
            "points": {c: getattr(self, name).data for name, c in POINT_FIELDS.items()},
            "ungraded_earns": bool(self.ungraded_earns.data)}
        out.update({name: getattr(self, name).data for name in NUMBER_FIELDS})
        return out

    def field_for(self, rule_field: str) -> Any:
        """The form field of a RuleSet field name a service names ('points.kitchen')."""
        if rule_field.startswith("points."):
            return getattr(self, f"points_{rule_field[7:]}", None) or self.points_kitchen
        return getattr(self, rule_field, None) or self.effective_from
