"""The metrics of DOMAIN.md (pure): hand-computed values, zero denominators, the worked
tonnage example."""
from __future__ import annotations

from decimal import Decimal

import pytest

from community.ratings import metrics
from community.ratings.metrics import Counts, Tonnage, Totals


def test_worked_example_of_domain_md() -> None:
    t = Tonnage(recyclables=Decimal(100), incineration_grate=Decimal(500),
                incineration_fluid=Decimal(0), kitchen=Decimal(200), landfill=Decimal(200))
    assert t.collected == Decimal(900)
    assert metrics.resource_utilization_rate(t) == pytest.approx(0.70)
    assert metrics.recycling_rate(t) == pytest.approx(300 / 1000)


def test_zero_denominators_are_not_available() -> None:
    empty = Totals()
    assert all(v is None for v in metrics.all_metrics(empty).values())
    zero = Tonnage(*(Decimal(0),) * 5)
    assert metrics.recycling_rate(zero) is None
    assert metrics.resource_utilization_rate(zero) is None
    assert metrics.compliant_coverage(["insufficient", "insufficient"]) is None


def test_rates_from_hand_counted_figures() -> None:
    t = Totals(by_category={
        "kitchen": Counts(drops=10, identified=9, tallies=1, graded=8, correct=7, incorrect=1,
                          out_of_window=1, weighed=4, kg=Decimal("6.0")),
        "other": Counts(drops=10, identified=10, graded=5, correct=3, incorrect=2,
                        out_of_window=3, weighed=2, kg=Decimal("4.0")),
    }, households_dropped=7, active_households=10, windows_scheduled=4, windows_staffed=3)
    got = metrics.all_metrics(t)
    assert got["scan_rate"] == pytest.approx(19 / 20)
    assert got["accuracy"] == pytest.approx(10 / 13)
    assert got["kitchen_accuracy"] == pytest.approx(7 / 8)
    assert got["participation"] == pytest.approx(0.7)
    assert got["out_of_window_rate"] == pytest.approx(4 / 20)
    assert got["steward_coverage"] == pytest.approx(0.75)
    assert got["kitchen_separation"] == pytest.approx(0.6)
    by_cat = metrics.accuracy_by_category(t)
    assert by_cat["hazardous"] is None
    assert by_cat["other"] == pytest.approx(0.6)


def test_compliant_coverage_counts_rated_communities_only() -> None:
    levels = ["star", "compliant", "not_compliant", "insufficient"]
    assert metrics.compliant_coverage(levels) == pytest.approx(2 / 3)
