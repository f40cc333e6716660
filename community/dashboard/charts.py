"""The dashboards' chart data, with labels in the user's language.

Pages put it in a `<script type="application/json">` block (the CSP forbids inline code) that
static/js/dashboard.js reads to draw ECharts charts. A chart is {kind, percent, x, series:
[{name, data, stack?}]}; a rate is in percent with one decimal, a missing one is null (a gap,
never 0%).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from community.dashboard import rules
from community.dashboard.command import CommandView
from community.dashboard.queries import FIGURES, AreaDashboard, CommunityDashboard
from community.dashboard.schemas import FIGURE_LABELS
from community.ratings.metrics import CATEGORIES
from community.ratings.models import LEVELS
from community.ratings.standing import LEVEL_LABELS, METRIC_LABELS
from community.stations.forms import WEEKDAY_LABELS
from community.stations.schemas import CATEGORY_LABELS

# The KPI colours (rules.kpi_status): meets the target, within 5 points, below, not available.
STATUS_COLOURS = {"meets": "#1f8a4c", "near": "#b9770e", "below": "#c0392b", "na": "#9aa5ad"}
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


def _target(target: rules.Target | None) -> dict[str, Any]:
    """The chart's target line (a percentage) and its label, when the figure has a target."""
    if target is None:
        return {}
    sign = "≥" if target.op == ">=" else "≤"
    return {"target": pct(target.value),
            "targetLabel": _("Target %(sign)s %(value)s%%", sign=sign,
                             value=f"{target.value * 100:.0f}")}


def small_trend(code: str, points: Sequence[tuple[date, float | None, int]], fmt: str,
                today: date, target: rules.Target | None, as_of: str) -> dict[str, Any]:
    """One figure's trend as a small chart: finished periods solid, the period in progress
    dashed ("as of 09:12"), nothing after it, and the target line (see rules.split_partial)."""
    split = rules.split_partial(points, today)
    label = str(FIGURE_LABELS.get(code, code))
    series: list[dict[str, Any]] = [{"name": label, "data": [pct(v) for v in split.done]}]
    if split.partial_index is not None:
        series.append({"name": f"{label} ({as_of})", "dashed": True,
                       "data": [pct(v) for v in split.partial]})
    return {**_chart("line", [d.strftime(fmt) for d in split.days], series, percent=True),
            **_target(target), "partial": split.partial_index}


def manager_charts(d: CommunityDashboard, *, as_of: str = "") -> dict[str, Any]:
    """The manager dashboard's charts: one small daily and one small monthly chart per figure
    (target line, the period in progress dashed), by hour, weekday, category and station."""
    targets = {f.code: f.target for f in d.figures}
    this_month = d.today.replace(day=1)
    small: dict[str, Any] = {}
    for code in FIGURES:
        small[f"daily_{code}"] = small_trend(
            code, [(p.start, p.values[code] if p.values else None, p.drops) for p in d.daily],
            "%m-%d", d.today, targets.get(code), as_of)
        small[f"monthly_{code}"] = small_trend(
            code, [(p.start, p.values[code] if p.values else None, p.drops)
                   for p in d.monthly], "%Y-%m", this_month, targets.get(code),
            _("this month so far"))
    hours = [h for h in d.hours if h.drops] or d.hours
    return {**_common(), "charts": {
        **small,
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


def command_charts(d: AreaDashboard, v: CommandView) -> dict[str, Any]:
    """The command view's charts: the rating levels and compliant coverage over the months,
    a 12-month small chart per figure with its target, and the stations map."""
    out = area_charts(d)
    this_month = d.today.replace(day=1)
    for f in v.figures:
        points = [(m, value, 1) for m, value in v.trends.get(f.code, [])]
        if points:
            out["charts"][f"trend_{f.code}"] = small_trend(
                f.code, points, "%Y-%m", this_month, f.target, _("this month so far"))
    target = v.targets.get("accuracy")
    out["charts"]["map"] = {
        "kind": "map", "percent": True, "x": [], "series": [],
        "points": [{"name": s.name, "community": s.community,
                    "value": [s.longitude, s.latitude, pct(s.accuracy)],
                    "color": STATUS_COLOURS[rules.kpi_status(s.accuracy, target)],
                    "url": url_for("dashboard.community", community_id=s.community_id,
                                   month=v.month.strftime("%Y-%m"))} for s in v.stations],
        "labels": {"accuracy": str(FIGURE_LABELS["accuracy"])}}
    return out
