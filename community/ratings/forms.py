"""The rating policy form (Flask-WTF: CSRF on all): every threshold of a draft, the month it
applies from, and the month to simulate it on.

Thresholds are typed as percentages ("85", "85.5", "85%"); a blank one means the level does
not check that metric. The form checks what a person can fix in the field and says so in
the user's language; `rating_policy.problems` (run by the services) has the last word.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, ValidationError

from community.ratings import policy as rating_policy
from community.ratings.metrics import METRICS
from community.ratings.texts import METRIC_LABELS

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_PERCENT = re.compile(r"^\d{1,3}(\.\d{1,2})?$")
MONTH_HINT = _l("Enter a month as YYYY-MM, e.g. 2026-11.")
PERCENT_HINT = _l("Enter a percentage from 0 to 100 (at most two decimals), or leave it blank.")


def parse_month(text: str | None) -> date | None:
    """'2026-11' (or '2026-11-05') as the month's first day; None when it is not one."""
    value = (text or "").strip()
    if len(value) == 10:  # a full date picks its month
        value = value[:7]
    found = _MONTH.match(value)
    if not found:
        return None
    year, month = int(found.group(1)), int(found.group(2))
    if not (2000 <= year <= 2200 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def parse_percent(text: str | None) -> Decimal | None:
    """'85', '85.5' or '85%' as a Decimal percentage in [0, 100]; None when it is not one."""
    value = (text or "").strip().rstrip("%％").strip()
    if not _PERCENT.match(value):
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None
    return number if 0 <= number <= 100 else None


def percent_text(fraction: float) -> str:
    """A stored fraction as the form shows it (0.85 → '85', 0.855 → '85.5')."""
    return f"{Decimal(str(fraction)) * 100:.2f}".rstrip("0").rstrip(".")


def _percent_valid(_form: Any, field: Any) -> None:
    if (field.data or "").strip() and parse_percent(field.data) is None:
        raise ValidationError(PERCENT_HINT)


def _name(level: str, metric: str) -> str:
    return f"{level}_{metric}"


class PolicyForm(FlaskForm):
    """A draft policy: the data minimum, every threshold of compliant and star, the months."""

    min_active_households = IntegerField(
        _l("Fewest active households to be rated"),
        validators=[InputRequired(_l("Enter a whole number from 0 to 100,000.")),
                    NumberRange(0, rating_policy.MAX_MIN_HOUSEHOLDS,
                                _l("Enter a whole number from 0 to 100,000."))])
    effective_month = StringField(_l("In force from (month)"), render_kw={"type": "month"})
    note = StringField(_l("Note (optional)"), validators=[
        Length(max=200, message=_l("At most 200 characters."))])
    simulate_month = StringField(_l("Month to simulate"), render_kw={"type": "month"})

    # The local month the area is in, set by the view: a new version applies from it on.
    min_month: date | None = None
    # "publish" checks the month it applies from; "simulate" the month to simulate.
    purpose: str = "publish"

    def validate_effective_month(self, field: Any) -> None:
        """Publishing needs a month, this one or later: months already rated keep theirs."""
        if self.purpose != "publish":
            return
        month = parse_month(field.data)
        if month is None:
            raise ValidationError(MONTH_HINT)
        if self.min_month and month < self.min_month:
            raise ValidationError(_l("Choose this month (%(month)s) or a later one: months "
                                     "already rated keep the policy they were rated with.",
                                     month=f"{self.min_month:%Y-%m}"))

    def validate_simulate_month(self, field: Any) -> None:
        """Simulating needs the month whose figures to use."""
        if self.purpose == "simulate" and parse_month(field.data) is None:
            raise ValidationError(MONTH_HINT)

    def threshold_fields(self, level: str) -> list[Any]:
        """The form fields of one level's thresholds, in metric order."""
        return [getattr(self, _name(level, m)) for m in METRICS]

    def fill(self, policy: rating_policy.Policy, month: date, simulate: date | None) -> None:
        """Prefill with a policy (the one in force), the month it would apply from."""
        self.min_active_households.data = policy.min_active_households
        for level in rating_policy.GRADED:
            values = {t.metric: t.value for t in policy.thresholds(level)}
            for metric in METRICS:
                value = values.get(metric)
                getattr(self, _name(level, metric)).data = (
                    percent_text(value) if value is not None else "")
        self.effective_month.data = f"{month:%Y-%m}"
        self.simulate_month.data = f"{simulate:%Y-%m}" if simulate else ""

    def params(self) -> dict[str, Any]:
        """The policy params of the draft (call after validation)."""
        out: dict[str, Any] = {"min_active_households": self.min_active_households.data}
        for level in rating_policy.GRADED:
            out[level] = []
            for metric in METRICS:
                value = parse_percent(getattr(self, _name(level, metric)).data)
                if value is not None:
                    out[level].append({"metric": metric, "op": rating_policy.METRIC_OPS[metric],
                                       "value": float(value / 100)})
        return out

    def field_for(self, name: str) -> Any:
        """The form field of a params field a service names ("compliant.accuracy")."""
        if "." in name:
            level, metric = name.split(".", 1)
            return getattr(self, _name(level, metric), None) or self.min_active_households
        return getattr(self, name, None) or self.min_active_households


# One optional percentage field per (level, metric), labelled with the metric and its op.
for _level in rating_policy.GRADED:
    for _metric in METRICS:
        setattr(PolicyForm, _name(_level, _metric), StringField(
            METRIC_LABELS[_metric], validators=[_percent_valid],
            render_kw={"inputmode": "decimal", "data-op": rating_policy.METRIC_OPS[_metric]}))
