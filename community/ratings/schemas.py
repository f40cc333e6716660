"""The ratings module's codes with their labels (rating levels and the rated metrics) and
the input models of a rating policy (a draft, a version to publish, a draft to simulate).

One `StrEnum` and one label table each (lazy strings: str() them where text is needed),
read by the rating pages, the dashboards, the exports and the area pages alike.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from flask_babel import lazy_gettext as _l
from pydantic import StringConstraints, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from community.ratings import policy as rating_policy
from community.schemas import RULE, InputModel, Say, fail


class Level(StrEnum):
    """A community's monthly rating level (best first)."""

    STAR = "star"
    COMPLIANT = "compliant"
    NOT_COMPLIANT = "not_compliant"
    INSUFFICIENT = "insufficient"


class Metric(StrEnum):
    """The rates a community is measured and rated on (DOMAIN.md, "Exact readings")."""

    KITCHEN_ACCURACY = "kitchen_accuracy"
    ACCURACY = "accuracy"
    SCAN_RATE = "scan_rate"
    PARTICIPATION = "participation"
    OUT_OF_WINDOW_RATE = "out_of_window_rate"
    STEWARD_COVERAGE = "steward_coverage"
    KITCHEN_SEPARATION = "kitchen_separation"
    # 按期处置率 of the community's reports (community/reports); rated only where a policy
    # sets a threshold on it (default off).
    ON_TIME_RATE = "on_time_rate"


LEVEL_LABELS: dict[str, Any] = {
    Level.STAR: _l("Star"),
    Level.COMPLIANT: _l("Compliant"),
    Level.NOT_COMPLIANT: _l("Not compliant"),
    Level.INSUFFICIENT: _l("Insufficient data"),
}
METRIC_LABELS: dict[str, Any] = {
    Metric.KITCHEN_ACCURACY: _l("Kitchen-waste accuracy"),
    Metric.ACCURACY: _l("Accuracy"),
    Metric.SCAN_RATE: _l("Scan rate"),
    Metric.PARTICIPATION: _l("Participation"),
    Metric.OUT_OF_WINDOW_RATE: _l("Out-of-window rate"),
    Metric.STEWARD_COVERAGE: _l("Steward coverage"),
    Metric.KITCHEN_SEPARATION: _l("Kitchen-waste separation"),
    Metric.ON_TIME_RATE: _l("On-time handling of reports"),
}


# --- Input models: a rating policy ---------------------------------------------------------

MONTH_HINT = _l("Enter a month as YYYY-MM, e.g. 2026-11.")
PERCENT_HINT = _l("Enter a percentage from 0 to 100 (at most two decimals), or leave it blank.")
MIN_HINT = _l("Enter a whole number from 0 to 100,000.")
POLICY_FIELDS = ("min_active_households", *rating_policy.GRADED)


def _policy_words(field: str) -> Any:
    """The words for a params field `rating_policy.problems` names."""
    if field == "min_active_households":
        return MIN_HINT
    if "." in field:  # "compliant.accuracy": one threshold
        return PERCENT_HINT
    return _l("This value is not valid.")


def _percent(fraction: float) -> str:
    """A threshold as the form shows it (0.855 → '85.5')."""
    return f"{Decimal(str(fraction)) * 100:.2f}".rstrip("0").rstrip(".")


def _star_not_stricter(data: Mapping[str, Any]) -> dict[str, Any]:
    """{"star.<metric>": words} for each metric both levels check where star's threshold is
    easier to meet than compliant's (star is compliant and more, DOMAIN.md "Default rating
    policy"; a star threshold below the compliant one would be a dead letter at best)."""
    compliant = {t["metric"]: t for t in data["compliant"]}
    out: dict[str, Any] = {}
    for star in data["star"]:
        base = compliant.get(star["metric"])
        if base is None or base["op"] != star["op"]:
            continue  # a metric only star checks (or a direction star flips) has no pair
        if star["op"] == ">=" and star["value"] < base["value"]:
            out[f"star.{star['metric']}"] = _l(
                "A star threshold cannot be easier than the compliant one: enter at least "
                "%(value)s%%.", value=_percent(base["value"]))
        elif star["op"] == "<=" and star["value"] > base["value"]:
            out[f"star.{star['metric']}"] = _l(
                "A star threshold cannot be easier than the compliant one: enter at most "
                "%(value)s%%.", value=_percent(base["value"]))
    return out


class PolicyIn(InputModel):
    """A rating policy's params: the data minimum and the thresholds of compliant and star.

    The rules are `rating_policy.problems` (the pure module that also checks stored params),
    run before the fields are read, so a refusal names the exact threshold
    ("compliant.accuracy") as before; then, on well-formed params, every threshold pair
    (a metric both levels check) where star is easier than compliant is refused, each on
    its star field.
    """

    min_active_households: int
    compliant: list[dict[str, Any]]
    star: list[dict[str, Any]]

    @model_validator(mode="before")
    @classmethod
    def _a_valid_policy(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            wrong = rating_policy.problems({k: v for k, v in data.items()
                                            if k in POLICY_FIELDS})
            if wrong:
                raise fail(wrong[0], _policy_words(wrong[0]))
            looser = _star_not_stricter(data)
            if looser:
                raise ValidationError.from_exception_data("input", [InitErrorDetails(
                    type=PydanticCustomError(RULE, "{text}", {"text": words}),
                    loc=(name,), input=None) for name, words in looser.items()])
        return data

    def params(self) -> dict[str, Any]:
        """The params as `rating_policy.from_params` reads them."""
        return {name: getattr(self, name) for name in POLICY_FIELDS}

    def policy(self) -> rating_policy.Policy:
        """The Policy these params make."""
        return rating_policy.from_params(self.params())


Month = Annotated[date, Say(MONTH_HINT)]


class PolicyVersionIn(PolicyIn):
    """A new version of an area's policy: the params, the month it applies from, a note."""

    effective_month: Month
    note: Annotated[str, StringConstraints(max_length=200), Say(
        _l("At most 200 characters."))] = ""


class SimulationIn(PolicyIn):
    """A draft policy and the month whose figures to rate it on (nothing is stored)."""

    simulate_month: Month
