"""Pure audit statistics: sample sizes, drawing, agreement and kappa with its interval,
Wilson intervals and the lenient/strict flag (unit cases and hypothesis properties)."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from community.casework import calibration as cal


@pytest.mark.parametrize(("n", "want"), [(0, 0), (3, 3), (10, 10), (150, 10), (200, 10),
                                          (201, 11), (1000, 50)])
def test_sample_size_is_10_or_5_percent_whichever_is_larger(n, want):
    assert cal.sample_size(n) == want


def test_draw_is_reproducible_and_independent_of_the_candidates_order():
    a = cal.draw(range(100), 10, "7:2026-11-16:3")
    assert a == cal.draw(reversed(range(100)), 10, "7:2026-11-16:3")
    assert a != cal.draw(range(100), 10, "7:2026-11-16:4")
    assert len(a) == 10
    assert set(a) <= set(range(100))
    assert cal.draw([1, 2], 10, "s") == [1, 2]


def test_kappa_worked_example():
    # 20 pairs: 9 both correct, 6 both incorrect, 4 lenient, 1 strict.
    pairs = ([("correct", "correct")] * 9 + [("incorrect", "incorrect")] * 6
             + [("correct", "incorrect")] * 4 + [("incorrect", "correct")] * 1)
    a = cal.agreement(pairs)
    assert (a.n, a.agree, a.lenient, a.strict) == (20, 15, 4, 1)
    assert a.rate == pytest.approx(0.75)
    # p_e = 0.65·0.5 + 0.35·0.5 = 0.5, κ = (0.75 − 0.5)/0.5 = 0.5;
    # SE = √(0.75·0.25/(20·0.25)) = 0.19365, CI = 0.5 ± 0.37955.
    assert a.kappa.value == pytest.approx(0.5)
    assert a.kappa.low == pytest.approx(0.5 - 1.959964 * math.sqrt(0.75 * 0.25 / 5), abs=1e-6)
    assert a.kappa.high == pytest.approx(0.5 + 1.959964 * math.sqrt(0.75 * 0.25 / 5), abs=1e-6)


def test_kappa_not_available_without_pairs_or_when_chance_explains_everything():
    assert cal.agreement([]).kappa is None
    assert cal.agreement([]).rate is None
    same = cal.agreement([("correct", "correct")] * 5)
    assert same.rate == 1
    assert same.kappa is None
    assert cal.agreement([("correct", "unclear")]).n == 0
    assert (cal.agreement([]).kappa_na, same.kappa_na) == ("no_pairs", "one_category")


def test_kappa_not_given_for_a_steward_who_never_marks_incorrect_or_full_agreement():
    """Once shown as "0.00 (−1.00–1.00)" and "1.00 (1.00–1.00)": no information, so n/a."""
    never = cal.agreement([("correct", "correct")] * 8 + [("correct", "incorrect")] * 2)
    assert (never.kappa, never.kappa_na, never.rate) == (None, "one_category", 0.8)
    assert never.lenient == 2  # the disagreements still count (the flag reads them)
    auditor_one = cal.agreement([("correct", "correct")] * 8 + [("incorrect", "correct")])
    assert (auditor_one.kappa, auditor_one.kappa_na) == (None, "one_category")
    full = cal.agreement([("correct", "correct")] * 8 + [("incorrect", "incorrect")] * 2)
    assert (full.kappa, full.kappa_na, full.rate) == (None, "degenerate", 1)


def test_wilson_known_values():
    w = cal.wilson(8, 10)
    assert (round(w.low, 4), round(w.high, 4)) == (0.4902, 0.9433)
    assert cal.wilson(0, 0) is None
    assert cal.wilson(0, 5).low == 0


def test_the_lenient_steward_is_flagged_and_fair_ones_are_not():
    fair = [("correct", "correct")] * 16 + [("incorrect", "incorrect")] * 3 + [
        ("correct", "incorrect")]
    lenient = [("correct", "correct")] * 10 + [("correct", "incorrect")] * 8 + [
        ("incorrect", "incorrect")] * 2
    strict = [("correct", "correct")] * 10 + [("incorrect", "correct")] * 7 + [
        ("incorrect", "incorrect")] * 3
    got = cal.flags({1: cal.agreement(fair), 2: cal.agreement(lenient), 3: cal.agreement(fair),
                     4: cal.agreement(strict)})
    assert got == {1: None, 2: "lenient", 3: None, 4: "strict"}


def test_too_few_pairs_raise_no_flag():
    lenient = [("correct", "incorrect")] * 5
    assert cal.flags({1: cal.agreement(lenient),
                      2: cal.agreement([("correct", "correct")] * 30)}) == {1: None, 2: None}


pairs = st.lists(st.tuples(st.sampled_from(cal.QUALITIES), st.sampled_from(cal.QUALITIES)),
                 max_size=60)


@settings(max_examples=200, deadline=None)
@given(pairs)
def test_kappa_bounds_and_interval(ps):
    a = cal.agreement(ps)
    assert a.n == len(ps)
    assert a.agree + a.lenient + a.strict == a.n
    assert (a.kappa is None) == (a.kappa_na is not None)
    if a.kappa is not None:
        assert -1 <= a.kappa.low <= a.kappa.value <= a.kappa.high <= 1
        assert a.kappa.low < a.kappa.high  # never a collapsed interval
        assert a.kappa.value <= a.rate + 1e-9 or a.rate == 1  # κ never above agreement
    if a.n and a.agree == a.n and a.kappa is not None:
        assert a.kappa.value == pytest.approx(1)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_contains_the_estimate(x, n):
    x = min(x, n)
    w = cal.wilson(x, n)
    assert 0 <= w.low <= w.value <= w.high <= 1


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 5000), st.floats(0.001, 1), st.integers(1, 50))
def test_sample_size_bounds(n, rate, minimum):
    k = cal.sample_size(n, rate, minimum)
    assert 0 <= k <= n
    assert k >= min(n, minimum)
    assert k >= min(n, math.ceil(rate * n - 1e-9))


@settings(max_examples=100, deadline=None)
@given(st.sets(st.integers(1, 10**9), max_size=80), st.integers(0, 100), st.text(max_size=8))
def test_draw_is_a_subset_of_the_right_size(ids, k, seed):
    got = cal.draw(ids, k, seed)
    assert len(got) == min(k, len(ids))
    assert set(got) <= ids
    assert got == sorted(set(got))
