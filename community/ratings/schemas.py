"""The ratings module's codes with their labels: rating levels and the rated metrics.

One `StrEnum` and one label table each (lazy strings: str() them where text is needed),
read by the rating pages, the dashboards, the exports and the area pages alike.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l


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
}
