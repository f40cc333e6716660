"""Rating policy (pure): thresholds per level, evaluation with explanations, what is missing.

A policy is data (`Policy`, stored as `params` JSON in `rating_policy`): the fewest active
households a community needs to be rated, and per level (compliant, star) a list of
thresholds `metric op value` (`op` is ">=" or "<=", `value` a fraction). `evaluate` turns a
community's month (its metric vector of `metrics.all_metrics` and two facts) into a level
and the list of checks behind it, each one {level, metric, op, threshold, value, passed},
so a page can say exactly why a community is not compliant yet and what star still needs.

The rules of DOMAIN.md ("Default rating policy"):
- insufficient data: fewer active households than the policy's minimum, or no scheduled
  station window in the month;
- compliant: every compliant threshold passes;
- star: compliant this month AND last month, and every star threshold passes;
- otherwise not compliant.
A metric that is not available (None: its denominator was zero) FAILS its threshold: a
community cannot be compliant on figures nobody measured. The pages say so.

No Flask, no database: codes and numbers only (the pages put them into words).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from community.ratings.metrics import METRICS

LEVELS = ("insufficient", "not_compliant", "compliant", "star")
RANK = {level: n for n, level in enumerate(LEVELS)}
GRADED = ("compliant", "star")  # the levels a policy sets thresholds for
OPS = (">=", "<=")
# The direction in which each metric is better: the op a threshold on it uses.
METRIC_OPS: Mapping[str, str] = {
    "scan_rate": ">=", "accuracy": ">=", "kitchen_accuracy": ">=", "participation": ">=",
    "out_of_window_rate": "<=", "steward_coverage": ">=", "kitchen_separation": ">=",
    "on_time_rate": ">=",
}
# Checks that are not thresholds on a rate: the data facts and last month's level.
ACTIVE_HOUSEHOLDS = "active_households"
SCHEDULED_WINDOWS = "scheduled_windows"
LAST_MONTH = "last_month_level"
MAX_MIN_HOUSEHOLDS = 100_000


@dataclass(frozen=True)
class Threshold:
    """One condition of a level: `metric op value` (value a fraction in [0, 1])."""

    metric: str
    op: str
    value: float

    def passes(self, actual: float | None) -> bool:
        """Whether a metric value meets the threshold (a value not available never does)."""
        if actual is None:
            return False
        return actual >= self.value if self.op == ">=" else actual <= self.value


@dataclass(frozen=True)
class Policy:
    """A rating policy: the data minimum and the thresholds of compliant and star."""

    min_active_households: int
    compliant: tuple[Threshold, ...]
    star: tuple[Threshold, ...]

    def thresholds(self, level: str) -> tuple[Threshold, ...]:
        """The thresholds of "compliant" or "star"."""
        return self.compliant if level == "compliant" else self.star

    def to_params(self) -> dict[str, Any]:
        """The JSON form stored in `rating_policy.params`."""
        return {"min_active_households": self.min_active_households,
                **{level: [{"metric": t.metric, "op": t.op, "value": t.value}
                           for t in self.thresholds(level)] for level in GRADED}}


DEFAULT_POLICY = Policy(
    min_active_households=30,
    compliant=(Threshold("accuracy", ">=", 0.85), Threshold("scan_rate", ">=", 0.95),
               Threshold("participation", ">=", 0.70),
               Threshold("steward_coverage", ">=", 0.90),
               Threshold("out_of_window_rate", "<=", 0.10)),
    star=(Threshold("accuracy", ">=", 0.95), Threshold("participation", ">=", 0.85),
          Threshold("out_of_window_rate", "<=", 0.05)),
)


def problems(params: Any) -> list[str]:
    """What is wrong with a policy's params, as field names ("compliant.accuracy", ...).

    Empty when the params make a valid policy: a whole minimum of households in
    0..MAX_MIN_HOUSEHOLDS, and per level a list of thresholds on known metrics, each metric
    once, with op ">=" or "<=" and a finite value in [0, 1].
    """
    if not isinstance(params, Mapping):
        return ["params"]
    out: list[str] = []
    unknown = sorted(set(params) - {"min_active_households", *GRADED})
    out += unknown
    n = params.get("min_active_households")
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_MIN_HOUSEHOLDS:
        out.append("min_active_households")
    for level in GRADED:
        items = params.get(level)
        if not isinstance(items, list):
            out.append(level)
            continue
        seen: set[str] = set()
        for item in items:
            metric = item.get("metric") if isinstance(item, Mapping) else None
            if not isinstance(metric, str) or metric not in METRICS or metric in seen:
                out.append(level)
                continue
            seen.add(metric)
            value = item.get("value")
            if (item.get("op") not in OPS or set(item) != {"metric", "op", "value"}
                    or isinstance(value, bool) or not isinstance(value, int | float)
                    or not math.isfinite(value) or not 0 <= value <= 1):
                out.append(f"{level}.{metric}")
    return out


def from_params(params: Mapping[str, Any]) -> Policy:
    """The Policy of stored params (ValueError when they are not valid)."""
    wrong = problems(params)
    if wrong:
        raise ValueError(f"invalid rating policy params: {', '.join(wrong)}")
    return Policy(
        min_active_households=int(params["min_active_households"]),
        **{level: tuple(Threshold(t["metric"], t["op"], float(t["value"]))
                        for t in params[level]) for level in GRADED})


@dataclass(frozen=True)
class Facts:
    """What decides "insufficient data" besides the metrics."""

    active_households: int
    scheduled_windows: int


@dataclass(frozen=True)
class Evaluation:
    """A month's level, every check behind it, and the failed checks the next level needs."""

    level: str
    checks: list[dict[str, Any]] = field(default_factory=list)
    missing_for_next: list[dict[str, Any]] = field(default_factory=list)


def _check(level: str, metric: str, op: str, threshold: Any, value: Any,
           passed: bool) -> dict[str, Any]:
    return {"level": level, "metric": metric, "op": op, "threshold": threshold,
            "value": value, "passed": passed}


def evaluate(policy: Policy, metrics: Mapping[str, float | None], facts: Facts,
             last_month_level: str | None) -> Evaluation:
    """Rate one community's month under `policy`.

    Every check is listed whatever the level (data, compliant, then star, with last month's
    level as a star check), so a page can show the full picture; `missing_for_next` holds
    the failed checks between this level and the next one (empty for star).
    """
    data = [
        _check("insufficient", ACTIVE_HOUSEHOLDS, ">=", policy.min_active_households,
               facts.active_households,
               facts.active_households >= policy.min_active_households),
        _check("insufficient", SCHEDULED_WINDOWS, ">=", 1, facts.scheduled_windows,
               facts.scheduled_windows >= 1),
    ]
    graded = {level: [_check(level, t.metric, t.op, t.value, metrics.get(t.metric),
                             t.passes(metrics.get(t.metric)))
                      for t in policy.thresholds(level)] for level in GRADED}
    last_ok = last_month_level in GRADED
    graded["star"].append(_check("star", LAST_MONTH, "in", list(GRADED), last_month_level,
                                 last_ok))
    checks = data + graded["compliant"] + graded["star"]

    def failed(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        return [c for c in items if not c["passed"]]

    if failed(data):
        return Evaluation("insufficient", checks, failed(data))
    if failed(graded["compliant"]):
        return Evaluation("not_compliant", checks, failed(graded["compliant"]))
    if failed(graded["star"]):
        return Evaluation("compliant", checks, failed(graded["star"]))
    return Evaluation("star", checks, [])


def facts_from_checks(checks: Sequence[Mapping[str, Any]]) -> Facts:
    """The Facts a stored rating was evaluated with (read back from its data checks)."""
    values = {c.get("metric"): c.get("value") for c in checks
              if c.get("level") == "insufficient"}
    return Facts(int(values.get(ACTIVE_HOUSEHOLDS) or 0),
                 int(values.get(SCHEDULED_WINDOWS) or 0))


def missing_for_next(level: str, checks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The failed checks a stored rating needs for the next level (as `evaluate` gave them)."""
    gate = {"insufficient": "insufficient", "not_compliant": "compliant",
            "compliant": "star"}.get(level)
    return [dict(c) for c in checks if c.get("level") == gate and not c.get("passed")]
