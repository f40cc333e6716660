"""The dashboards' chart data, with labels in the user's language.

Pages put it in a `<script type="application/json">` block (the CSP forbids inline code) that
static/js/dashboard.js reads to draw ECharts charts. A chart is {kind, percent, x, series:
[{name, data, stack?}]}; a rate is in percent with one decimal, a missing one is null (a gap,
never 0%).
"""
from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _

from community.dashboard.queries import FIGURES, AreaDashboard, CommunityDashboard
from community.ratings.metrics import CATEGORIES
from community.ratings.models import LEVELS
from community.ratings.standing import LEVEL_LABELS, METRIC_LABELS
from community.stations.forms import WEEKDAY_LABELS
from community.stations.schemas import CATEGORY_LABELS

LEVEL_COLOURS = {"star": "#d4a106", "compliant": "#1f8a4c", "not_compliant": "#c0392b",
                 "insufficient": "#9aa5ad"}


def pct(value: float | None) -> float | None:
    """A fraction as a percentage with one decimal (None stays None)."""
    return None if value is None else round(value * 100, 1)


def _chart(kind: str, x: list[str], series: list[dict[str, Any]], *, percent: bool,
           y_name: str = "") -> dict[str, Any]:
    return {"kind": kind, "percent": percent, "x": x, "series": series, "yName": y_name}


def _common() -> dict[str, Any]:
    return {"locale": str(get_locale()), "labels": {"na": _("n/a")}}


def manager_charts(d: CommunityDashboard) -> dict[str, Any]:
    """The manager dashboard's charts: daily and monthly trends, by hour, weekday, category
    and station."""
    def trend(points: list, fmt: str) -> dict[str, Any]:
        return _chart("line", [p.start.strftime(fmt) for p in points], [
            {"name": str(METRIC_LABELS[code]),
             "data": [pct(p.values[code]) if p.values else None for p in points]}
            for code in FIGURES], percent=True)

    hours = [h for h in d.hours if h.drops] or d.hours
    return {**_common(), "charts": {
        "daily": trend(d.daily, "%m-%d"),
        "monthly": trend(d.monthly, "%Y-%m"),
        "hour_accuracy": _chart("bar", [f"{h.key:02d}:00" for h in hours], [
            {"name": str(METRIC_LABELS["accuracy"]), "data": [pct(h.accuracy) for h in hours]},
        ], percent=True),
        "hour_window": _chart("bar", [f"{h.key:02d}:00" for h in hours], [
            {"name": _("Drops"), "data": [h.drops for h in hours]},
            {"name": _("Out of window"), "data": [h.out_of_window for h in hours]},
        ], percent=False, y_name=_("Drops")),
        "weekday_window": _chart("bar", [str(w) for w in WEEKDAY_LABELS], [
            {"name": _("Drops"), "data": [w.drops for w in d.weekdays]},
            {"name": _("Out of window"), "data": [w.out_of_window for w in d.weekdays]},
        ], percent=False, y_name=_("Drops")),
        "categories": _chart("bar", [str(CATEGORY_LABELS[c]) for c in CATEGORIES], [
            {"name": str(METRIC_LABELS["accuracy"]),
             "data": [pct(d.totals.category(c).correct / d.totals.category(c).graded)
                      if d.totals.category(c).graded else None for c in CATEGORIES]},
        ], percent=True),
        "stations": _chart("bar", [s.name for s in d.stations], [
            {"name": str(METRIC_LABELS[code]),
             "data": [pct(s.metric(code)) for s in d.stations]}
            for code in ("kitchen_accuracy", "accuracy", "scan_rate", "steward_coverage")
        ], percent=True),
    }}


def area_charts(d: AreaDashboard) -> dict[str, Any]:
    """The area dashboard's charts: rating levels over the months and compliant coverage."""
    months = [m.month.strftime("%Y-%m") for m in d.trend]
    return {**_common(), "charts": {
        "levels": _chart("bar", months, [
            {"name": str(LEVEL_LABELS[level]), "stack": "levels",
             "color": LEVEL_COLOURS[level], "data": [m.counts[level] for m in d.trend]}
            for level in reversed(LEVELS)], percent=False, y_name=_("Communities")),
        "coverage": _chart("line", months, [
            {"name": _("Compliant coverage"), "data": [pct(m.coverage) for m in d.trend]},
        ], percent=True),
    }}
