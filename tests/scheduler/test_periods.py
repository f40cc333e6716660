"""Cadences and due periods (pure): keys, due times, catch-up, next due."""
from __future__ import annotations

from datetime import datetime, time

import pytest

from community.scheduler.periods import Daily, EveryMinutes, Monthly, Yearly, due_periods, next_due


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_daily_due_at_its_time_on_the_day_or_the_next() -> None:
    nightly = Daily(at=time(3, 0))
    assert nightly.latest_due(dt("2026-11-21 02:59")) == dt("2026-11-20 00:00")
    assert nightly.latest_due(dt("2026-11-21 03:00")) == dt("2026-11-21 00:00")
    rollup = Daily(at=time(0, 15), offset_days=1)  # yesterday's work, done just after midnight
    assert rollup.latest_due(dt("2026-11-21 00:14")) == dt("2026-11-19 00:00")
    assert rollup.latest_due(dt("2026-11-21 00:15")) == dt("2026-11-20 00:00")
    assert rollup.key(dt("2026-11-20 00:00")) == "2026-11-20"
    assert rollup.parse("2026-11-20") == dt("2026-11-20 00:00")


def test_monthly_and_yearly_cover_the_period_before() -> None:
    monthly = Monthly(at=time(2, 0))
    assert monthly.latest_due(dt("2026-12-01 01:59")) == dt("2026-10-01 00:00")
    assert monthly.latest_due(dt("2026-12-01 02:00")) == dt("2026-11-01 00:00")
    assert monthly.latest_due(dt("2027-01-05 00:00")) == dt("2026-12-01 00:00")
    assert monthly.key(dt("2026-01-01 00:00")) == "2026-01"
    assert monthly.previous(dt("2026-01-01 00:00")) == dt("2025-12-01 00:00")
    yearly = Yearly(at=time(0, 30))
    assert yearly.latest_due(dt("2027-01-01 00:29")) == dt("2025-01-01 00:00")
    assert yearly.latest_due(dt("2027-01-01 00:30")) == dt("2026-01-01 00:00")
    assert yearly.key(dt("2026-01-01 00:00")) == "2026"


def test_minute_slots_are_due_when_they_end() -> None:
    slots = EveryMinutes(15)
    assert slots.latest_due(dt("2026-11-21 08:29")) == dt("2026-11-21 08:00")
    assert slots.latest_due(dt("2026-11-21 08:30")) == dt("2026-11-21 08:15")
    assert slots.key(dt("2026-11-21 08:15")) == "2026-11-21T08:15"
    with pytest.raises(ValueError, match="slot"):
        slots.parse("2026-11-21T08:10")


def test_catch_up_runs_missed_periods_once_oldest_first_and_stops_at_done() -> None:
    nightly = Daily(at=time(3, 0), catch_up=7)
    now = dt("2026-11-24 04:00")
    # The last run was the 20th: an outage of three days leaves the 21st to 24th.
    got = due_periods(nightly, now, {"2026-11-20", "2026-11-19"})
    assert [nightly.key(p) for p in got] == ["2026-11-21", "2026-11-22", "2026-11-23",
                                             "2026-11-24"]
    assert due_periods(nightly, now, {"2026-11-24"}) == []
    # Never run: at most catch_up periods, never the whole history.
    assert len(due_periods(nightly, now, set())) == 7
    assert len(due_periods(Daily(at=time(3, 0), catch_up=1), now, set())) == 1


@pytest.mark.parametrize(("cadence", "now", "expected"), [
    (Daily(at=time(3, 0)), "2026-11-21 02:00", "2026-11-21 03:00"),
    (Daily(at=time(3, 0)), "2026-11-21 03:00", "2026-11-22 03:00"),
    (Monthly(at=time(2, 0)), "2026-12-31 23:00", "2027-01-01 02:00"),
    (Yearly(at=time(0, 30)), "2026-11-21 12:00", "2027-01-01 00:30"),
    (EveryMinutes(10), "2026-11-21 08:05", "2026-11-21 08:10"),
])
def test_next_due(cadence, now: str, expected: str) -> None:
    assert next_due(cadence, dt(now)) == dt(expected)
