"""Window classification: boundaries, grace, midnight, exceptions, DST, another zone; overlaps."""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from community.stations.windows import Schedule, classify, find_overlap, next_window, open_now

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
DEFAULT = Schedule.default()


def at(y: int, mo: int, d: int, h: int, mi: int = 0, s: int = 0, tz=SH) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=tz)


@pytest.mark.parametrize(("moment", "grace", "inside"), [
    (at(2026, 11, 2, 7, 0), 0, True),          # start is inside
    (at(2026, 11, 2, 9, 0), 0, True),          # end is inside
    (at(2026, 11, 2, 9, 0, 1), 0, False),      # one second late
    (at(2026, 11, 2, 6, 59, 59), 0, False),    # one second early
    (at(2026, 11, 2, 9, 15), 15, True),        # grace after
    (at(2026, 11, 2, 9, 15, 1), 15, False),
    (at(2026, 11, 2, 6, 45), 15, True),        # grace before
    (at(2026, 11, 2, 12, 0), 30, False),       # midday
    (at(2026, 11, 2, 19, 30), 0, True),
])
def test_default_windows(moment: datetime, grace: int, inside: bool) -> None:
    assert classify(DEFAULT, {}, moment, grace).in_window is inside


def test_utc_input_is_judged_in_local_time() -> None:
    moment = datetime(2026, 11, 1, 23, 30, tzinfo=ZoneInfo("UTC"))  # 07:30 in Shanghai
    result = classify(DEFAULT, {}, moment)
    assert result.in_window
    assert result.window is not None
    assert result.window.start == at(2026, 11, 2, 7, 0)


def test_window_across_midnight_with_grace() -> None:
    late = Schedule({d: ((time(22, 0), time(1, 0)),) for d in range(7)})
    assert classify(late, {}, at(2026, 11, 3, 0, 30)).in_window      # after midnight
    assert classify(late, {}, at(2026, 11, 3, 1, 10), grace=10).in_window
    assert not classify(late, {}, at(2026, 11, 3, 1, 11), grace=10).in_window
    assert not classify(late, {}, at(2026, 11, 2, 21, 0)).in_window


def test_window_ending_at_midnight() -> None:
    sched = Schedule({d: ((time(20, 0), time(0, 0)),) for d in range(7)})
    assert classify(sched, {}, at(2026, 11, 3, 0, 0)).in_window
    assert classify(sched, {}, at(2026, 11, 3, 0, 5), grace=5).in_window
    assert not classify(sched, {}, at(2026, 11, 3, 0, 6), grace=5).in_window


def test_exceptions_close_a_day_and_set_special_hours() -> None:
    closed = {date(2026, 11, 2): ()}
    assert not classify(DEFAULT, closed, at(2026, 11, 2, 8, 0)).in_window
    special = {date(2026, 11, 2): ((time(10, 0), time(11, 0)),)}
    assert classify(DEFAULT, special, at(2026, 11, 2, 10, 30)).in_window
    assert not classify(DEFAULT, special, at(2026, 11, 2, 8, 0)).in_window
    # The next day is unaffected.
    assert classify(DEFAULT, special, at(2026, 11, 3, 8, 0)).in_window


def test_closed_weekday() -> None:
    weekdays_only = Schedule({d: ((time(7), time(9)),) for d in range(5)})
    assert classify(weekdays_only, {}, at(2026, 11, 6, 8)).in_window      # Friday
    assert not classify(weekdays_only, {}, at(2026, 11, 7, 8)).in_window  # Saturday
    nxt = classify(weekdays_only, {}, at(2026, 11, 7, 8)).next_window
    assert nxt is not None
    assert nxt.start == at(2026, 11, 9, 7)                                # Monday


def test_other_zone_and_dst() -> None:
    sched = Schedule({d: ((time(7), time(9)),) for d in range(7)}, tz="America/New_York")
    # 2026-03-08 is the spring-forward day in New York: 07:30 local is 11:30 UTC (EDT).
    moment = datetime(2026, 3, 8, 11, 30, tzinfo=ZoneInfo("UTC"))
    assert classify(sched, {}, moment).in_window
    # The day before (EST) 07:30 local is 12:30 UTC, so 11:30 UTC is 06:30 local: out.
    assert not classify(sched, {}, datetime(2026, 3, 7, 11, 30, tzinfo=ZoneInfo("UTC"))).in_window
    assert classify(sched, {}, datetime(2026, 3, 7, 7, 30, tzinfo=NY)).in_window


def test_open_now_and_next_window() -> None:
    assert open_now(DEFAULT, {}, at(2026, 11, 2, 8)) is not None
    assert open_now(DEFAULT, {}, at(2026, 11, 2, 9)) is None  # end is exclusive for "open now"
    nxt = next_window(DEFAULT, {}, at(2026, 11, 2, 9, 30))
    assert nxt is not None
    assert nxt.start == at(2026, 11, 2, 18)
    assert next_window(Schedule({}), {}, at(2026, 11, 2, 9)) is None


def test_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        classify(DEFAULT, {}, datetime(2026, 11, 2, 8))  # noqa: DTZ001


T = time


@pytest.mark.parametrize(("weekly", "clash"), [
    ({0: [(T(7), T(9)), (T(18), T(20))]}, None),
    ({0: [(T(7), T(9)), (T(9), T(10))]}, None),                        # touching is fine
    ({0: [(T(7), T(9)), (T(8), T(10))]}, (0, (T(7), T(9)), (T(8), T(10)))),
    ({0: [(T(18), T(20)), (T(7), T(9)), (T(19), T(21))]}, (0, (T(18), T(20)), (T(19), T(21)))),
    ({0: [(T(22), T(2))], 1: [(T(1), T(3))]}, (0, (T(22), T(2)), (T(1), T(3)))),  # midnight
    ({0: [(T(22), T(1))], 1: [(T(1), T(3))]}, None),
    ({6: [(T(23), T(2))], 0: [(T(1), T(3))]}, (6, (T(23), T(2)), (T(1), T(3)))),  # Sun → Mon
])
def test_find_overlap(weekly: dict, clash) -> None:
    assert find_overlap(weekly) == clash
