"""The rating policy (pure): every default threshold at its edge, the last-month rule of star,
insufficient data, metrics that are not available, params validation, and (hypothesis)
that a better figure never lowers a level."""
from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from community.ratings import models
from community.ratings import policy as p
from community.ratings.metrics import METRICS
from community.ratings.policy import DEFAULT_POLICY, Facts

ENOUGH = Facts(active_households=30, scheduled_windows=1)
# A month that just passes every default compliant threshold and no star one but accuracy.
COMPLIANT = {"scan_rate": 0.95, "accuracy": 0.85, "kitchen_accuracy": None,
             "participation": 0.70, "out_of_window_rate": 0.10, "steward_coverage": 0.90,
             "kitchen_separation": None}
STAR = COMPLIANT | {"accuracy": 0.95, "participation": 0.85, "out_of_window_rate": 0.05}


def _level(values, facts=ENOUGH, last="compliant", policy=DEFAULT_POLICY) -> str:
    return p.evaluate(policy, values, facts, last).level


def test_default_policy_is_the_one_of_domain_md() -> None:
    assert p.LEVELS == models.LEVELS
    assert DEFAULT_POLICY.min_active_households == 30
    compliant = {(t.metric, t.op, t.value) for t in DEFAULT_POLICY.compliant}
    assert compliant == {("accuracy", ">=", 0.85), ("scan_rate", ">=", 0.95),
                         ("participation", ">=", 0.70), ("steward_coverage", ">=", 0.90),
                         ("out_of_window_rate", "<=", 0.10)}
    star = {(t.metric, t.op, t.value) for t in DEFAULT_POLICY.star}
    assert star == {("accuracy", ">=", 0.95), ("participation", ">=", 0.85),
                    ("out_of_window_rate", "<=", 0.05)}
    assert p.problems(DEFAULT_POLICY.to_params()) == []
    assert p.from_params(DEFAULT_POLICY.to_params()) == DEFAULT_POLICY


@pytest.mark.parametrize(("metric", "edge", "beyond"), [
    ("accuracy", 85 / 100, 0.8499),         # exactly 85% passes ≥ 85%, 84.99% fails
    ("accuracy", 17 / 20, 8499 / 10000),    # the same edges reached by division
    ("scan_rate", 19 / 20, 0.9499),
    ("participation", 7 / 10, 0.6999),
    ("steward_coverage", 9 / 10, 0.8999),
    ("out_of_window_rate", 1 / 10, 0.1001),  # ≤ 10%: exactly 10% passes, 10.01% fails
])
def test_compliant_edges(metric: str, edge: float, beyond: float) -> None:
    assert _level(COMPLIANT | {metric: edge}, last=None) == "compliant"
    got = p.evaluate(DEFAULT_POLICY, COMPLIANT | {metric: beyond}, ENOUGH, None)
    assert got.level == "not_compliant"
    assert [c["metric"] for c in got.missing_for_next] == [metric]
    failed = got.missing_for_next[0]
    assert failed == {"level": "compliant", "metric": metric,
                      "op": "<=" if metric == "out_of_window_rate" else ">=",
                      "threshold": pytest.approx(edge), "value": beyond, "passed": False}


@pytest.mark.parametrize(("metric", "edge", "beyond"), [
    ("accuracy", 0.95, 0.9499),
    ("participation", 0.85, 0.8499),
    ("out_of_window_rate", 0.05, 0.0501),
])
def test_star_edges(metric: str, edge: float, beyond: float) -> None:
    assert _level(STAR | {metric: edge}) == "star"
    got = p.evaluate(DEFAULT_POLICY, STAR | {metric: beyond}, ENOUGH, "star")
    assert got.level == "compliant"
    assert [(c["metric"], c["value"]) for c in got.missing_for_next] == [(metric, beyond)]


@pytest.mark.parametrize("last", ["compliant", "star"])
def test_star_after_a_compliant_or_star_month(last: str) -> None:
    got = p.evaluate(DEFAULT_POLICY, STAR, ENOUGH, last)
    assert got.level == "star"
    assert got.missing_for_next == []
    assert all(c["passed"] for c in got.checks)


@pytest.mark.parametrize("last", [None, "not_compliant", "insufficient"])
def test_star_needs_last_month_compliant(last: str | None) -> None:
    got = p.evaluate(DEFAULT_POLICY, STAR, ENOUGH, last)
    assert got.level == "compliant"
    assert got.missing_for_next == [{"level": "star", "metric": p.LAST_MONTH, "op": "in",
                                     "threshold": ["compliant", "star"], "value": last,
                                     "passed": False}]


def test_insufficient_data_edges() -> None:
    assert _level(STAR, Facts(30, 1)) == "star"
    few = p.evaluate(DEFAULT_POLICY, STAR, Facts(29, 40), "star")
    assert few.level == "insufficient"
    assert [(c["metric"], c["value"], c["threshold"]) for c in few.missing_for_next] == [
        (p.ACTIVE_HOUSEHOLDS, 29, 30)]
    unscheduled = p.evaluate(DEFAULT_POLICY, STAR, Facts(500, 0), "star")
    assert unscheduled.level == "insufficient"
    assert [c["metric"] for c in unscheduled.missing_for_next] == [p.SCHEDULED_WINDOWS]
    both = p.evaluate(DEFAULT_POLICY, COMPLIANT, Facts(0, 0), None)
    assert both.level == "insufficient"
    assert len(both.missing_for_next) == 2
    # Every check is still listed, so a page shows the whole picture.
    assert {c["level"] for c in both.checks} == {"insufficient", "compliant", "star"}


def test_a_metric_not_available_fails_its_check() -> None:
    for metric in ("accuracy", "scan_rate", "participation", "steward_coverage",
                   "out_of_window_rate"):
        got = p.evaluate(DEFAULT_POLICY, COMPLIANT | {metric: None}, ENOUGH, None)
        assert got.level == "not_compliant", metric
        assert got.missing_for_next == [{
            "level": "compliant", "metric": metric, "op": p.METRIC_OPS[metric],
            "threshold": pytest.approx(
                {t.metric: t.value for t in DEFAULT_POLICY.compliant}[metric]),
            "value": None, "passed": False}]
    # A metric no threshold names does not matter, available or not.
    assert _level(STAR | {"kitchen_separation": None, "kitchen_accuracy": None}) == "star"


def test_checks_are_ordered_and_complete() -> None:
    got = p.evaluate(DEFAULT_POLICY, COMPLIANT, ENOUGH, "compliant")
    assert [(c["level"], c["metric"]) for c in got.checks] == [
        ("insufficient", p.ACTIVE_HOUSEHOLDS), ("insufficient", p.SCHEDULED_WINDOWS),
        *[("compliant", t.metric) for t in DEFAULT_POLICY.compliant],
        *[("star", t.metric) for t in DEFAULT_POLICY.star], ("star", p.LAST_MONTH)]
    assert p.facts_from_checks(got.checks) == ENOUGH
    assert p.missing_for_next(got.level, got.checks) == got.missing_for_next


def test_a_policy_can_name_any_metric_and_no_minimum() -> None:
    params = {"min_active_households": 0, "compliant": [
        {"metric": "kitchen_separation", "op": ">=", "value": 0.35}], "star": []}
    policy = p.from_params(params)
    assert _level({"kitchen_separation": 0.35}, Facts(0, 1), None, policy) == "compliant"
    assert _level({"kitchen_separation": 0.35}, Facts(0, 1), "compliant", policy) == "star"
    assert _level({"kitchen_separation": 0.3499}, Facts(0, 1), None, policy) == "not_compliant"
    assert _level({}, Facts(0, 0), None, policy) == "insufficient"


def _valid() -> dict:
    return copy.deepcopy(DEFAULT_POLICY.to_params())


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda d: d.update(min_active_households=-1), "min_active_households"),
    (lambda d: d.update(min_active_households=100_001), "min_active_households"),
    (lambda d: d.update(min_active_households=2.5), "min_active_households"),
    (lambda d: d.update(min_active_households=True), "min_active_households"),
    (lambda d: d.update(min_active_households="30"), "min_active_households"),
    (lambda d: d["compliant"][0].update(value=1.0001), "compliant.accuracy"),
    (lambda d: d["compliant"][0].update(value=-0.01), "compliant.accuracy"),
    (lambda d: d["compliant"][0].update(value=float("nan")), "compliant.accuracy"),
    (lambda d: d["compliant"][0].update(value="0.85"), "compliant.accuracy"),
    (lambda d: d["compliant"][0].update(value=None), "compliant.accuracy"),
    (lambda d: d["compliant"][0].update(op=">"), "compliant.accuracy"),
    (lambda d: d["compliant"][0].update(extra=1), "compliant.accuracy"),
    (lambda d: d["star"].append({"metric": "bogus", "op": ">=", "value": 0.5}), "star"),
    (lambda d: d["star"].append(dict(d["star"][0])), "star"),  # the same metric twice
    (lambda d: d["star"].append("accuracy"), "star"),
    (lambda d: d.update(star={}), "star"),
    (lambda d: d.pop("compliant"), "compliant"),
    (lambda d: d.update(bonus=1), "bonus"),
])
def test_invalid_params_are_named(mutate, field: str) -> None:
    params = _valid()
    mutate(params)
    assert p.problems(params) == [field]
    with pytest.raises(ValueError, match="invalid rating policy"):
        p.from_params(params)


def test_edges_of_valid_params() -> None:
    params = _valid()
    params["min_active_households"] = 100_000
    params["compliant"][0]["value"] = 1
    params["star"][0]["value"] = 0
    assert p.problems(params) == []
    assert p.problems("not a mapping") == ["params"]


# --- Monotonicity -------------------------------------------------------------------------

RATE = st.one_of(st.none(), st.floats(0, 1))
VECTORS = st.fixed_dictionaries(dict.fromkeys(METRICS, RATE))
LAST = st.sampled_from([None, *p.LEVELS])
FACTS = st.builds(Facts, st.integers(0, 60), st.integers(0, 3))


def _improve(value: float | None, by: float, metric: str) -> float | None:
    """A better figure: from not available to any value, or moved in its good direction."""
    if value is None:
        return min(1.0, by)
    if p.METRIC_OPS[metric] == ">=":
        return min(1.0, value + by)
    return max(0.0, value - by)


@settings(max_examples=300, deadline=None)
@given(values=VECTORS, facts=FACTS, last=LAST, metric=st.sampled_from(METRICS),
       by=st.floats(0, 1))
def test_a_better_metric_never_lowers_the_level(values, facts, last, metric, by) -> None:
    before = p.evaluate(DEFAULT_POLICY, values, facts, last).level
    better = values | {metric: _improve(values[metric], by, metric)}
    after = p.evaluate(DEFAULT_POLICY, better, facts, last).level
    assert p.RANK[after] >= p.RANK[before], (metric, values[metric], better[metric])


@settings(max_examples=200, deadline=None)
@given(values=VECTORS, facts=FACTS, last=LAST, more_households=st.integers(0, 40),
       more_windows=st.integers(0, 3), better_last=LAST)
def test_more_data_or_a_better_last_month_never_lowers_the_level(
        values, facts, last, more_households, more_windows, better_last) -> None:
    before = p.evaluate(DEFAULT_POLICY, values, facts, last).level
    richer = Facts(facts.active_households + more_households,
                   facts.scheduled_windows + more_windows)
    assert p.RANK[p.evaluate(DEFAULT_POLICY, values, richer, last).level] >= p.RANK[before]
    if last is None or (better_last is not None and p.RANK[better_last] >= p.RANK[last]):
        after = p.evaluate(DEFAULT_POLICY, values, facts, better_last).level
        assert p.RANK[after] >= p.RANK[before]
