"""The honest charts' pure rules: a KPI card's colour by its distance to the target, each
figure's target, and how a daily trend draws today's partial day."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from community.dashboard import rules
from community.ratings.policy import DEFAULT_POLICY, Policy, Threshold

HIGHER = rules.Target("accuracy", ">=", 0.85)
LOWER = rules.Target("out_of_window_rate", "<=", 0.10)


@pytest.mark.parametrize(("value", "target", "status"), [
    (0.85, HIGHER, "meets"),          # exactly on target meets it
    (0.97, HIGHER, "meets"),
    (0.8496, HIGHER, "meets"),        # shown as 85.0 %: not amber for a rounding hair
    (0.84, HIGHER, "near"),
    (0.80, HIGHER, "near"),           # 5 points short: still amber
    (0.799, HIGHER, "below"),
    (0.768, HIGHER, "below"),         # −8.2 points: red (the all-green card)
    (0.10, LOWER, "meets"),
    (0.02, LOWER, "meets"),
    (0.15, LOWER, "near"),
    (0.151, LOWER, "below"),
    (None, HIGHER, "na"),             # not available: neither green nor red
    (0.9, None, "na"),
])
def test_kpi_status(value: float | None, target: rules.Target | None, status: str) -> None:
    """Green meets the target, amber misses it by at most 5 points, red by more."""
    assert rules.kpi_status(value, target) == status


def test_targets_come_from_the_policy_then_the_plans() -> None:
    """The policy's compliant thresholds first; the plans' targets for the others."""
    t = rules.targets(DEFAULT_POLICY, ("accuracy", "out_of_window_rate", "kitchen_accuracy",
                                       "kitchen_separation", "compliant_coverage",
                                       "on_time_rate", "unknown"))
    assert t["accuracy"] == rules.Target("accuracy", ">=", 0.85)
    assert t["out_of_window_rate"] == rules.Target("out_of_window_rate", "<=", 0.10)
    assert t["kitchen_accuracy"] == rules.Target("kitchen_accuracy", ">=", 0.85)
    assert t["kitchen_separation"] == rules.Target("kitchen_separation", ">=", 0.35)
    assert t["compliant_coverage"] == rules.Target("compliant_coverage", ">=", 1.0)
    assert t["on_time_rate"] == rules.Target("on_time_rate", ">=", 0.99)
    assert t["unknown"] is None
    stricter = Policy(30, (Threshold("accuracy", ">=", 0.9),), ())
    assert rules.targets(stricter, ("accuracy",))["accuracy"].value == 0.9  # type: ignore[union-attr]


D1 = date(2026, 11, 1)


def _days(values: list[tuple[float | None, int]]) -> list[tuple[date, float | None, int]]:
    return [(D1 + timedelta(days=k), v, n) for k, (v, n) in enumerate(values)]


def test_partial_day_is_dashed_and_the_axis_ends_today() -> None:
    """Days after today are cut; today leaves the solid line for a dashed one from yesterday."""
    points = _days([(0.9, 10), (0.8, 12), (0.1, 1), (None, 0), (None, 0)])
    s = rules.split_partial(points, D1 + timedelta(days=2))
    assert s.days == [D1, D1 + timedelta(days=1), D1 + timedelta(days=2)]
    assert s.done == [0.9, 0.8, None]        # today never in the finished line
    assert s.partial == [None, 0.8, 0.1]     # yesterday → today, dashed
    assert s.partial_index == 2


def test_today_without_drops_is_a_gap_not_a_collapse() -> None:
    """Early in the morning today has no drop: no point at all, never 0 %."""
    s = rules.split_partial(_days([(0.9, 10), (0.0, 0)]), D1 + timedelta(days=1))
    assert s.done == [0.9, None]
    assert s.partial == [None, None]
    assert s.partial_index == 1


def test_a_past_period_has_no_partial_day() -> None:
    """A finished month: every day solid, no dashed series, a day without data a gap."""
    s = rules.split_partial(_days([(0.9, 10), (None, 0), (0.7, 3)]), D1 + timedelta(days=40))
    assert s.done == [0.9, None, 0.7]
    assert s.partial_index is None
    assert s.partial == [None, None, None]
