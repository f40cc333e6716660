"""Pure schedule history (community.stations.windows): the version in force on a window's day
gives its ranges and grace; openings and suspensions keep windows out; the widened edges are
inclusive to the second."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from community.stations import windows

SH = ZoneInfo("Asia/Shanghai")
TUE, WED = date(2026, 11, 17), date(2026, 11, 18)
EVERY_DAY_A = {d: ((time(7), time(9)), (time(23), time(1))) for d in range(7)}
EVERY_DAY_B = {d: ((time(8), time(10)),) for d in range(7)}
SCHEDULE = windows.Schedule(
    EVERY_DAY_B, "Asia/Shanghai",
    versions=(windows.Version(date(2026, 11, 1), EVERY_DAY_A, 10),
              windows.Version(WED, EVERY_DAY_B, 5)))


def at(day: date, h: int, m: int = 0, s: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, h, m, s, tzinfo=SH)


def inside(moment: datetime, schedule: windows.Schedule = SCHEDULE) -> bool:
    # The grace argument (the station's newest) is ignored for a schedule with versions.
    return windows.classify(schedule, {}, moment, grace=60).in_window


def test_the_widened_edges_are_inclusive_to_the_second() -> None:
    # Tuesday: version A, 07:00–09:00 with 10 minutes of grace.
    assert inside(at(TUE, 6, 50))
    assert not inside(at(TUE, 6, 49, 59))
    assert inside(at(TUE, 9, 10))
    assert not inside(at(TUE, 9, 10, 1))
    # Wednesday: version B, 08:00–10:00 with 5 minutes.
    assert inside(at(WED, 7, 55))
    assert not inside(at(WED, 7, 54, 59))
    assert inside(at(WED, 10, 5))
    assert not inside(at(WED, 10, 5, 1))
    assert not inside(at(WED, 7, 0))  # A's morning window is no longer in force


def test_a_window_past_midnight_keeps_the_version_of_the_day_it_starts() -> None:
    # Tuesday 23:00–01:00 (version A, grace 10) runs into Wednesday, under version B.
    assert inside(at(WED, 1, 10))
    assert not inside(at(WED, 1, 10, 1))
    # Wednesday has no night window: nothing in at Thursday 00:30.
    assert not inside(at(WED + timedelta(days=1), 0, 30))
    starts = [w.start for w in windows.windows_on(SCHEDULE, {}, TUE)]
    assert starts == [at(TUE, 7), at(TUE, 23)]
    assert [w.grace for w in windows.windows_on(SCHEDULE, {}, WED)] == [5]


def test_before_the_first_version_there_is_no_window() -> None:
    assert windows.windows_on(SCHEDULE, {}, date(2026, 10, 31)) == []
    assert SCHEDULE.version_on(date(2026, 10, 31)) is None
    assert SCHEDULE.grace_on(TUE, default=60) == 10


def test_openings_and_suspensions_keep_windows_out() -> None:
    opened = at(TUE, 0)
    suspended, reopened = at(WED, 8, 30), at(WED + timedelta(days=2), 12)
    schedule = windows.Schedule(EVERY_DAY_B, "Asia/Shanghai",
                                versions=SCHEDULE.versions,
                                status=((opened, True), (suspended, False), (reopened, True)))
    assert not schedule.open_at(opened - timedelta(seconds=1))  # did not exist yet
    assert windows.windows_on(schedule, {}, TUE - timedelta(days=1)) == []
    assert len(windows.windows_on(schedule, {}, TUE)) == 2
    # Suspended during Wednesday's window: the window started while open and still counts.
    assert len(windows.windows_on(schedule, {}, WED)) == 1
    assert windows.windows_on(schedule, {}, WED + timedelta(days=1)) == []
    # Reopened at noon: that day's 08:00 window had started while suspended.
    assert windows.windows_on(schedule, {}, WED + timedelta(days=2)) == []
    assert len(windows.windows_on(schedule, {}, WED + timedelta(days=3))) == 1
    assert not windows.classify(schedule, {}, at(WED + timedelta(days=1), 8, 30)).in_window


def test_a_schedule_without_history_is_the_same_every_day() -> None:
    plain = windows.Schedule.default()
    assert plain.open_at(at(TUE, 0))
    assert windows.classify(plain, {}, at(TUE, 7, 10), grace=10).in_window
    assert windows.classify(plain, {}, at(TUE, 9, 10), grace=10).in_window
    assert not windows.classify(plain, {}, at(TUE, 9, 10, 1), grace=10).in_window
