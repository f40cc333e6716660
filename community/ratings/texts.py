"""Ratings in words, in the user's language: level and metric names, percentages, and one
explanation line per check ("扫码率 91.2% < 95%"). Used by the rating pages and the
dashboards; the policy itself (community/ratings/policy.py) returns codes and numbers only.

A value that is not available reads "暂无数据" / "n/a" and, in a check, says that it counts
as not met. Values round to the nearest tenth of a percent, except a failed check's value
that would round onto its threshold: that one rounds away from it (84.96% against ≥ 85%
reads 84.9%, never "85.0% < 85%"), so what the page says is always true.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from community.ratings import policy as rating_policy
from community.ratings import schemas
from community.ratings.schemas import LEVEL_LABELS

# The rated metrics' labels, plus the policy's other inputs (thresholds can name them).
METRIC_LABELS = {
    **schemas.METRIC_LABELS,
    rating_policy.ACTIVE_HOUSEHOLDS: _l("Active households"),
    rating_policy.SCHEDULED_WINDOWS: _l("Scheduled station windows"),
    rating_policy.LAST_MONTH: _l("Last month's level"),
}
# What each level's missing checks lead to, as a heading.
NEXT_HEADINGS = {"insufficient": _l("Still missing for a rating:"),
                 "not_compliant": _l("Still missing for compliant:"),
                 "compliant": _l("Still missing for star:")}


def not_available() -> str:
    """The text of a value that is not available."""
    return _("n/a")


def pct(value: float | None, rounding: str = "nearest") -> str:
    """A fraction as a percentage with one decimal ("91.2%"); "n/a" for None.

    `rounding` "down" or "up" rounds toward that side (failed checks, see the module doc).
    """
    if value is None:
        return not_available()
    tenths = value * 1000
    if rounding == "down":
        n = math.floor(tenths + 1e-9)
    elif rounding == "up":
        n = math.ceil(tenths - 1e-9)
    else:
        n = round(tenths)
    return f"{n / 10:.1f}%"


def threshold_pct(value: float) -> str:
    """A threshold as a percentage without needless decimals ("95%", "85.5%")."""
    text = f"{Decimal(str(value)) * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def level_label(level: str | None) -> str:
    """A level's name ("未达标"); "—" when there is no rating."""
    return str(LEVEL_LABELS[level]) if level in LEVEL_LABELS else "—"


def metric_label(code: str) -> str:
    """A metric's (or check's) name."""
    return str(METRIC_LABELS.get(code, code))


def _symbol(op: str, passed: bool) -> str:
    if passed:
        return "≥" if op == ">=" else "≤"
    return "<" if op == ">=" else ">"


def explain(check: Mapping[str, Any]) -> str:
    """One check in words: "扫码率 91.2% < 95%", "准确率 暂无数据（计为未达到）", …"""
    metric, passed, value = check["metric"], bool(check["passed"]), check["value"]
    name = metric_label(metric)
    if metric == rating_policy.LAST_MONTH:
        if value is None:
            return _("Last month: not rated")
        return _("Last month: %(level)s", level=level_label(value))
    if metric == rating_policy.SCHEDULED_WINDOWS and not passed:
        return _("No station window was scheduled this month")
    if metric in (rating_policy.ACTIVE_HOUSEHOLDS, rating_policy.SCHEDULED_WINDOWS):
        return f"{name} {value} {_symbol(check['op'], passed)} {check['threshold']}"
    if value is None:
        return _("%(metric)s: no data (not available counts as not met)", metric=name)
    return (f"{name} {_value_pct(value, check['op'], float(check['threshold']), passed)} "
            f"{_symbol(check['op'], passed)} {threshold_pct(check['threshold'])}")


def _value_pct(value: float, op: str, threshold: float, passed: bool) -> str:
    """The value as everywhere else (nearest tenth), unless that would seem to pass."""
    nearest = round(value * 1000) / 1000
    seems_to_pass = nearest >= threshold if op == ">=" else nearest <= threshold
    if passed or not seems_to_pass:
        return pct(value)
    return pct(value, "down" if op == ">=" else "up")


def gap(check: Mapping[str, Any]) -> str:
    """How far a failed check is from passing ("还差 3.8 个百分点"); "" when it has no size."""
    value, threshold = check["value"], check["threshold"]
    if check["passed"] or value is None or check["metric"] in (
            rating_policy.LAST_MONTH, rating_policy.SCHEDULED_WINDOWS):
        return ""
    if check["metric"] == rating_policy.ACTIVE_HOUSEHOLDS:
        return _("%(n)s more active households needed", n=int(threshold) - int(value))
    points = math.ceil(abs(float(threshold) - float(value)) * 1000 - 1e-9) / 10
    return _("%(gap)s percentage points to go", gap=f"{points:.1f}")


def reasons(level: str, checks: Sequence[Mapping[str, Any]]) -> str:
    """The rating in one line: "未达标：扫码率 91.2% < 95%；参与率 …" or "达标：全部条件已满足"."""
    missing = rating_policy.missing_for_next(level, checks)
    label = level_label(level)
    if level in ("insufficient", "not_compliant") and missing:
        return _("%(level)s: %(reasons)s", level=label,
                 reasons=_("; ").join(explain(c) for c in missing))
    if level == "compliant":
        return _("%(level)s: every compliant threshold is met", level=label)
    if level == "star":
        return _("%(level)s: every star threshold is met, and last month was compliant",
                 level=label)
    return label


def next_heading(level: str) -> str:
    """The heading above what a level still misses ("距星级还差："); "" for star."""
    heading = NEXT_HEADINGS.get(level)
    return str(heading) if heading else ""


def policy_name(area_name: str | None, version: int) -> str:
    """Which policy a rating used: "苏州市 · 第 2 版" or "默认标准"."""
    if not version or area_name is None:
        return _("Default policy")
    return _("%(area)s · version %(version)s", area=area_name, version=version)


_CAUSE_WORDS: dict[str, Any] = {
    "drops": lambda n, day: _("%(n)s drops uploaded late for %(day)s", n=n, day=day),
    "regrades": lambda n, day: _("%(n)s drops regraded on %(day)s", n=n, day=day),
    "households": lambda n, day: _("%(n)s household moves on %(day)s", n=n, day=day),
    "presence": lambda n, day: _("%(n)s steward check-ins changed on %(day)s", n=n, day=day),
    "schedule": lambda n, day: _("station schedule changed from %(day)s", n=n, day=day),
    "collections": lambda n, day: _("%(n)s collections recorded late for %(day)s", n=n,
                                    day=day),
}


def why_changed(causes: Mapping[str, Any]) -> str:
    """Why a published level changed, in words: "11-20 补录 2 次投放；上月等级 达标 → 未达标"."""
    parts = []
    for cause, days in causes.items():
        if cause == "last_month" and len(days) == 2:
            parts.append(_("last month's level %(old)s → %(new)s",
                           old=level_label(days[0]), new=level_label(days[1])))
        elif cause in _CAUSE_WORDS:
            parts += [_CAUSE_WORDS[cause](n, day[5:]) for day, n in sorted(days.items())]
    return _("; ").join(parts) if parts else _("recomputed")


def status_label(status: str) -> str:
    """A rating's state: provisional (its month's drops can still change) or final."""
    return _("Final") if status == "final" else _("Provisional")


def context() -> dict[str, Any]:
    """The helpers the rating templates use."""
    return {"pct": pct, "threshold_pct": threshold_pct, "level_label": level_label,
            "metric_label": metric_label, "explain": explain, "gap": gap,
            "reasons": reasons, "next_heading": next_heading, "policy_name": policy_name,
            "why_changed": why_changed, "status_label": status_label,
            "missing_for_next": rating_policy.missing_for_next,
            "level_labels": LEVEL_LABELS, "metric_labels": METRIC_LABELS}
