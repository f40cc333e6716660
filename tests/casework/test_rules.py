"""Pure case rules: threshold, closing, refund, due dates, watchlist; order-free (hypothesis)."""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from community.casework import rules
from community.casework.rules import CaseRules, Verdict

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def v(i: int, day: int, quality: str, minute: int = 0) -> Verdict:
    at = T0 + timedelta(days=day, minutes=minute)
    return Verdict(i, at, at.date(), quality)


def always(r: CaseRules = rules.DEFAULT_RULES):
    return lambda _day: r


def test_third_incorrect_within_30_days_opens():
    got = rules.trigger([v(1, 0, "incorrect"), v(2, 10, "correct"), v(3, 20, "incorrect"),
                         v(4, 29, "incorrect")], always())
    assert got is not None
    assert (got.drop_id, got.drop_ids) == (4, (1, 3, 4))
    assert got.window_start == date(2026, 11, 1) + timedelta(days=29 - 29)


def test_three_spread_over_more_than_30_days_do_not_open():
    assert rules.trigger([v(1, 0, "incorrect"), v(2, 15, "incorrect"), v(3, 30, "incorrect")],
                         always()) is None


def test_drops_before_the_previous_case_closed_do_not_count():
    vs = [v(1, 0, "incorrect"), v(2, 1, "incorrect"), v(3, 2, "incorrect"),
          v(4, 5, "incorrect"), v(5, 6, "incorrect")]
    assert rules.trigger(vs, always(), after=vs[2].key) is None
    assert rules.trigger(vs + [v(6, 7, "incorrect")], always(), after=vs[2].key).drop_id == 6


def test_threshold_is_the_rule_in_force_on_the_drops_day():
    two = CaseRules(version=2, threshold=2)
    got = rules.trigger([v(1, 0, "incorrect"), v(2, 3, "incorrect")],
                        lambda d: two if d >= date(2026, 11, 4) else rules.DEFAULT_RULES)
    assert got is not None
    assert got.rules.version == 2


def test_closing_needs_n_correct_in_a_row_and_ungraded_neither_counts_nor_breaks():
    start = v(0, 0, "incorrect").key
    vs = [v(1, 1, "correct"), v(2, 2, "correct"), v(3, 3, "incorrect"), v(4, 4, "correct"),
          v(5, 5, "ungraded"), v(6, 6, "correct"), v(7, 7, "correct"), v(8, 8, "correct")]
    assert rules.closing(vs[:7], start, 5) is None
    assert rules.progress(vs[:7], start) == 3
    assert rules.closing(vs, start, 4).drop_id == 8
    assert rules.closing(vs, start, 5) is None


def test_closing_ignores_drops_before_the_trigger():
    vs = [v(1, 0, "correct"), v(2, 1, "correct"), v(3, 2, "incorrect"), v(4, 3, "correct")]
    assert rules.closing(vs, vs[2].key, 1).drop_id == 4


def test_refund_takes_the_live_penalties_of_the_case_period_only():
    penalties = [(date(2026, 10, 30), -5), (date(2026, 11, 2), -5), (date(2026, 11, 9), -3),
                 (date(2026, 11, 20), -5)]
    assert rules.refund_amount(penalties, date(2026, 11, 1), date(2026, 11, 9)) == 8
    assert rules.refund_amount([], date(2026, 11, 1), date(2026, 11, 9)) == 0


def test_due_date_and_overdue():
    due = rules.due_date(date(2026, 11, 2), CaseRules(due_days=7))
    assert due == date(2026, 11, 9)
    assert not rules.overdue("open", False, due, due)
    assert rules.overdue("open", False, due, due + timedelta(days=1))
    assert not rules.overdue("open", True, due, due + timedelta(days=1))
    assert not rules.overdue("closed", False, due, due + timedelta(days=1))


def test_watchlist_counts_cases_in_the_window():
    today = date(2026, 11, 30)
    r = CaseRules(watch_cases=2, watch_days=365)
    assert rules.watchlisted([date(2026, 1, 10), date(2026, 11, 1)], today, r)
    assert not rules.watchlisted([date(2025, 11, 1), date(2026, 11, 1)], today, r)


def test_rules_in_range_and_pick():
    assert CaseRules().problems() == []
    assert CaseRules(threshold=0, task="x").problems() == ["threshold", "task"]
    versions = [(date(2026, 11, 10), CaseRules(version=2, threshold=4)),
                (date(2026, 11, 1), CaseRules(version=1, threshold=2))]
    assert rules.pick(versions, date(2026, 10, 31)).version == 0
    assert rules.pick(versions, date(2026, 11, 5)).version == 1
    assert rules.pick(versions, date(2026, 11, 10)).version == 2


qualities = st.sampled_from(["correct", "incorrect", "ungraded"])
histories = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 1439), qualities),
                     max_size=40)


def _verdicts(items) -> list[Verdict]:
    return [v(i + 1, d, q, m) for i, (d, m, q) in enumerate(items)]


@settings(max_examples=150, deadline=None)
@given(histories, st.integers(0, 2**32 - 1))
def test_case_state_is_order_free(items, seed):
    """A late upload lands where it happened: any arrival order gives the same trigger,
    closing and refund window."""
    vs = _verdicts(items)
    shuffled = list(vs)
    random.Random(seed).shuffle(shuffled)
    t1, t2 = rules.trigger(vs, always()), rules.trigger(shuffled, always())
    assert t1 == t2
    if t1 is not None:
        assert rules.closing(vs, t1.key, 5) == rules.closing(shuffled, t1.key, 5)


@settings(max_examples=150, deadline=None)
@given(histories, st.integers(1, 5), st.integers(1, 40))
def test_trigger_is_the_first_drop_whose_window_reaches_the_threshold(items, threshold, days):
    r = CaseRules(threshold=threshold, window_days=days)
    vs = rules.ordered(_verdicts(items))
    got = rules.trigger(vs, always(r))
    bad = [x for x in vs if x.quality == "incorrect"]

    def count(x: Verdict) -> int:
        lo = x.local_date - timedelta(days=days - 1)
        return sum(1 for y in bad if y.key <= x.key and y.local_date >= lo)

    reaching = [x for x in bad if count(x) >= threshold]
    assert (got.drop_id if got else None) == (reaching[0].drop_id if reaching else None)
    if got is not None:
        assert len(got.drop_ids) >= threshold
        assert got.drop_id in got.drop_ids


@settings(max_examples=100, deadline=None)
@given(histories, st.integers(1, 6))
def test_closing_verdict_ends_a_run_of_n_correct(items, n):
    vs = rules.ordered(_verdicts(items))
    since = (T0 - timedelta(days=1), 0)
    got = rules.closing(vs, since, n)
    if got is None:
        assert rules.progress(vs, since) < n
        return
    before = [x for x in vs if x.key <= got.key and x.quality != "ungraded"]
    assert [x.quality for x in before[-n:]] == ["correct"] * n


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(-10, 0))), st.integers(0, 40),
       st.integers(0, 40))
def test_refund_is_never_negative_and_only_counts_penalties_in_the_period(pens, a, b):
    lo, hi = date(2026, 11, 1) + timedelta(days=min(a, b)), date(2026, 11, 1) + timedelta(
        days=max(a, b))
    rows = [(date(2026, 11, 1) + timedelta(days=d), amount) for d, amount in pens]
    got = rules.refund_amount(rows, lo, hi)
    assert got >= 0
    assert got == -sum(x for d, x in rows if lo <= d <= hi)
