"""The rating policy forms (Flask-WTF: CSRF on all): every threshold of a draft, the month it
applies from, and the month to simulate it on.

Thresholds are typed as percentages ("85", "85.5", "85%"); a blank one means the level does
not check that metric. WTForms renders, protects and reads the typed text (percentages,
months); the rules are the input models' (`ratings.schemas`: `PolicyForm` →
`PolicyVersionIn`, `SimulationForm` → `SimulationIn`). The service has the last word on
what needs the area (a month already rated).
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, StringField
from wtforms.validators import Optional, ValidationError

from community import clock
from community.ratings import policy as rating_policy
from community.ratings.metrics import METRICS
from community.ratings.schemas import (
    MONTH_HINT,
    PERCENT_HINT,
    PolicyVersionIn,
    SimulationIn,
)
from community.ratings.texts import METRIC_LABELS
from community.web.forms import ModelForm

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_PERCENT = re.compile(r"^\d{1,3}(\.\d{1,2})?$")


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
    """A threshold's text must be a percentage (reading it; blank: not checked)."""
    if (field.data or "").strip() and parse_percent(field.data) is None:
        raise ValidationError(PERCENT_HINT)


def _month_valid(_form: Any, field: Any) -> None:
    """The month's text must be a month (reading it)."""
    if parse_month(field.data) is None:
        raise ValidationError(MONTH_HINT)


def _name(level: str, metric: str) -> str:
    return f"{level}_{metric}"


def _month_field(label: Any, *, read: bool) -> StringField:
    """A month box; `read`: this form reads it (the other form's month is left alone)."""
    return StringField(label, validators=[_month_valid] if read else [],
                       render_kw={"type": "month"})


class _DraftForm(ModelForm[Any]):
    """The fields of a draft policy: the data minimum, every threshold of compliant and star,
    the months and the note (both forms render all of them; each reads the month it needs;
    each names its model, a `ratings.schemas.PolicyIn`)."""

    # Optional(): an empty box is "no value" (the model asks for one), not a parse error.
    min_active_households = IntegerField(_l("Fewest active households to be rated"),
                                         validators=[Optional()])
    effective_month = _month_field(_l("In force from (month)"), read=False)
    note = StringField(_l("Note (optional)"))
    simulate_month = _month_field(_l("Month to simulate"), read=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.min_active_households.flags.required = True  # PolicyIn asks for it

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

    def model_data(self) -> dict[str, Any]:
        """The draft's params (thresholds as fractions), and the months and note the model
        names (a month that is not one is None: the model says so)."""
        out: dict[str, Any] = {"min_active_households": self.min_active_households.data}
        for level in rating_policy.GRADED:
            out[level] = []
            for metric in METRICS:
                value = parse_percent(getattr(self, _name(level, metric)).data)
                if value is not None:
                    out[level].append({"metric": metric, "op": rating_policy.METRIC_OPS[metric],
                                       "value": float(value / 100)})
        fields = self.model.model_fields
        if "effective_month" in fields:
            out["effective_month"] = parse_month(self.effective_month.data)
        if "simulate_month" in fields:
            out["simulate_month"] = parse_month(self.simulate_month.data)
        if "note" in fields:
            out["note"] = self.note.data or ""
        return out

    def field_for(self, name: str) -> Any:
        """The form field of a params field the model names ("compliant.accuracy")."""
        if "." in name:
            level, metric = name.split(".", 1)
            return getattr(self, _name(level, metric), None) or self.min_active_households
        return getattr(self, name, None) or self.min_active_households


# One optional percentage field per (level, metric), labelled with the metric and its op.
for _level in rating_policy.GRADED:
    for _metric in METRICS:
        setattr(_DraftForm, _name(_level, _metric), StringField(
            METRIC_LABELS[_metric], validators=[_percent_valid],
            render_kw={"inputmode": "decimal", "data-op": rating_policy.METRIC_OPS[_metric]}))


class PolicyForm(_DraftForm):
    """A draft to publish: the params, the month it applies from, a note (`PolicyVersionIn`)."""

    model = PolicyVersionIn

    effective_month = _month_field(_l("In force from (month)"), read=True)


class SimulationForm(_DraftForm):
    """A draft to simulate on a month's figures (`SimulationIn`)."""

    model = SimulationIn

    simulate_month = _month_field(_l("Month to simulate"), read=True)

    def validate_simulate_month(self, field: Any) -> None:
        """A month that has not begun has no figures: every community would come out as
        "not enough data", which reads like a result. Refused (the month picker offers only
        past months; this catches an edited address). The city's zone (China's one zone)."""
        month = parse_month(field.data)
        if month is not None and month > clock.local_today().replace(day=1):
            raise ValidationError(_l("This month has not begun: choose this month or an "
                                     "earlier one."))
