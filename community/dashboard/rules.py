"""Pure rules of the dashboards' honest charts and cards (no DB, no Flask).

- Targets: a figure's target is the compliant threshold of the rating policy in force where
  it has one (accuracy, scan rate, participation, steward coverage, out-of-window rate), else
  the plans' target of DOMAIN.md (kitchen accuracy 85 %, kitchen separation 35 %, compliant
  coverage 100 %, on-time handling 99 %).
- KPI colour (`kpi_status`): "meets" (green) when the value meets its target, "near" (amber)
  when it misses by at most 5 percentage points, "below" (red) when it misses by more, "na"
  when the value (or the target) is not available. Lower-is-better figures (out-of-window
  rate) mirror it.
- A month-on-month change (`shown_change`) is the difference of the two figures as the page
  shows them (each a percentage rounded to one decimal), so "88.3% · last month 88.3%"
  reads "0.0 pp", never "-0.1 pp": a reader can check the change against the figures. The
  exact difference (-0.06 points) is not shown; a 0.1-point step is the page's precision.
- A partial day (`split_partial`): a daily trend ends at today (never the month's end); today
  is drawn apart from the finished days (a dashed segment from yesterday, "as of 09:12"), and
  a day with no drop yet is a gap, never a 0 % collapse.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from community.ratings.policy import METRIC_OPS, Policy

NEAR = 0.05  # "within 5 points": amber
# Targets of figures the rating policy does not set (DOMAIN.md).
PLAN_TARGETS: Mapping[str, float] = {
    "accuracy": 0.85, "kitchen_accuracy": 0.85, "scan_rate": 0.95, "participation": 0.70,
    "out_of_window_rate": 0.10, "steward_coverage": 0.90, "kitchen_separation": 0.35,
    "compliant_coverage": 1.0, "on_time_rate": 0.99,
}
LOWER_IS_BETTER = frozenset({"out_of_window_rate"})


def shown_percent(value: float) -> Decimal:
    """A rate as the dashboards show it: a percentage to one decimal (the `pct` macro's
    '%.1f' of value × 100, the same rounding)."""
    return Decimal(f"{value * 100:.1f}")


def shown_change(value: float | None, previous: float | None) -> float | None:
    """The change from `previous` to `value` as the page shows it: the difference of the two
    shown (rounded) percentages, as a fraction (-0.001 for "-0.1 pp"); None when either is
    missing."""
    if value is None or previous is None:
        return None
    return float(shown_percent(value) - shown_percent(previous)) / 100


@dataclass(frozen=True)
class Target:
    """A figure's target: `op` ">=" (higher is better) or "<=", `value` a fraction."""

    code: str
    op: str
    value: float


def targets(policy: Policy | None, codes: Sequence[str]) -> dict[str, Target | None]:
    """Each figure's target: the policy's compliant threshold, else the plans' target."""
    of_policy = {t.metric: t for t in policy.compliant} if policy else {}
    out: dict[str, Target | None] = {}
    for code in codes:
        if code in of_policy:
            t = of_policy[code]
            out[code] = Target(code, t.op, t.value)
        elif code in PLAN_TARGETS:
            op = METRIC_OPS.get(code, "<=" if code in LOWER_IS_BETTER else ">=")
            out[code] = Target(code, op, PLAN_TARGETS[code])
        else:
            out[code] = None
    return out


def kpi_status(value: float | None, target: Target | None) -> str:
    """"meets" | "near" (misses by ≤ 5 points) | "below" | "na" (nothing to compare)."""
    if value is None or target is None:
        return "na"
    # In points, rounded as the card shows them (0.1): 84.96 % reads "85.0%", so it meets 85 %.
    gap = round(((value - target.value) if target.op == ">=" else (target.value - value)) * 100,
                1)
    if gap >= 0:
        return "meets"
    return "near" if gap >= -NEAR * 100 else "below"


@dataclass(frozen=True)
class DailySeries:
    """A daily trend split for drawing: `days` end at today; `done` holds the finished days'
    values (today None), `partial` only yesterday's and today's (dashed), `partial_index`
    today's position (None when today is not in the period)."""

    days: list[date]
    done: list[float | None]
    partial: list[float | None]
    partial_index: int | None


def split_partial(points: Sequence[tuple[date, float | None, int]], today: date) -> DailySeries:
    """Split (day, value, drops) points of a period for an honest daily chart.

    Days after today are dropped (the axis ends at today). Today, unfinished, goes to the
    dashed `partial` series joined to yesterday; today without any drop yet is None (a gap,
    not a collapse to 0 %). A past day without data stays None in `done`.
    """
    kept = [p for p in points if p[0] <= today]
    days = [p[0] for p in kept]
    done: list[float | None] = [p[1] for p in kept]
    partial: list[float | None] = [None] * len(kept)
    index = next((k for k, p in enumerate(kept) if p[0] == today), None)
    if index is not None:
        _day, value, drops = kept[index]
        done[index] = None
        partial[index] = value if drops > 0 else None
        if index > 0 and partial[index] is not None:
            partial[index - 1] = kept[index - 1][1]
    return DailySeries(days, done, partial, index)
