"""The pure rules of the scan page's safety nets: repeats and the steward's undo."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from community.stations import rules

T = datetime(2026, 11, 20, 0, 30, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_repeat_is_the_nearest_drop_within_the_window_either_side() -> None:
    assert rules.repeat_of([], T) is None
    assert rules.repeat_of([(1, T - 11 * MIN)], T) is None
    assert rules.repeat_of([(1, T - 10 * MIN)], T) == 1  # the window's edge counts
    assert rules.repeat_of([(1, T - 9 * MIN), (2, T + 2 * MIN)], T) == 2  # a later one too
    assert rules.repeat_of([(3, T + MIN), (2, T - MIN)], T) == 2  # a tie: the smaller id


@settings(deadline=None)
@given(st.lists(st.tuples(st.integers(1, 50), st.integers(-30, 30)), max_size=8))
def test_repeat_does_not_depend_on_the_order(drops: list[tuple[int, int]]) -> None:
    earlier = [(i, T + m * MIN) for i, m in drops]
    got = rules.repeat_of(earlier, T)
    assert got == rules.repeat_of(list(reversed(earlier)), T)
    assert (got is None) == all(abs(m) > 10 for _i, m in drops)


def test_void_only_own_scans_within_five_minutes() -> None:
    assert rules.void_refusal(recorded_by=7, actor_id=7, happened_at=T, now=T + 5 * MIN) is None
    assert rules.void_refusal(recorded_by=7, actor_id=7, happened_at=T,
                              now=T + 5 * MIN + timedelta(seconds=1)) == "void_too_late"
    assert rules.void_refusal(recorded_by=7, actor_id=8, happened_at=T,
                              now=T) == "void_not_yours"
    assert rules.void_refusal(recorded_by=None, actor_id=None, happened_at=T,
                              now=T) == "void_not_yours"  # a device's drop: nobody's undo
    # Another steward's old scan: "not yours" first (it says nothing about the time).
    assert rules.void_refusal(recorded_by=7, actor_id=8, happened_at=T,
                              now=T + 60 * MIN) == "void_not_yours"
    # A drop stamped a little in the future (device clock) may be undone at once.
    assert rules.void_refusal(recorded_by=7, actor_id=7, happened_at=T + 2 * MIN, now=T) is None
