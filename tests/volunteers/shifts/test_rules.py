"""Pure rota rules: shifts from windows and exceptions, reconciling, coverage (no database)."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from community.volunteers.shifts import rules as rota
from community.volunteers.shifts.rules import (
    ExceptionSpec,
    ExistingShift,
    Presence,
    ShiftSpec,
    WindowSpec,
)

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
DAILY = [WindowSpec(10 + d * 2, d, time(7), time(9)) for d in range(7)] + [
    WindowSpec(11 + d * 2, d, time(18), time(20)) for d in range(7)]
MON = date(2026, 11, 16)  # a Monday


def sh(d: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(d, time(h, m), tzinfo=SH)


# --- plan_shifts ---------------------------------------------------------------------------

def test_two_windows_a_day_for_a_week_in_shanghai() -> None:
    specs = rota.plan_shifts(DAILY, [], MON, MON + timedelta(days=6), "Asia/Shanghai")
    assert len(specs) == 14
    first = specs[0]
    assert first.local_date == MON
    assert first.window_id == 10
    assert first.needed == 1
    # 07:00 in Shanghai (UTC+8, no DST) is 23:00 UTC the day before.
    assert first.starts_at.astimezone(UTC) == datetime(2026, 11, 15, 23, 0, tzinfo=UTC)
    assert first.ends_at - first.starts_at == timedelta(hours=2)
    assert [s.starts_at for s in specs] == sorted(s.starts_at for s in specs)
    assert {s.local_date for s in specs} == {MON + timedelta(days=i) for i in range(7)}


def test_shanghai_has_no_dst_all_year() -> None:
    days = [date(2026, 3, 8), date(2026, 3, 29), date(2026, 7, 1), date(2026, 11, 1)]
    for d in days:
        (spec, _evening) = rota.plan_shifts(DAILY, [], d, d, "Asia/Shanghai")
        assert spec.starts_at.astimezone(UTC).hour == 23
        assert spec.ends_at - spec.starts_at == timedelta(hours=2)


def test_weekday_selects_the_windows() -> None:
    only_wed = [WindowSpec(1, 2, time(7), time(9))]
    specs = rota.plan_shifts(only_wed, [], MON, MON + timedelta(days=13), "Asia/Shanghai")
    assert [s.local_date for s in specs] == [MON + timedelta(days=2), MON + timedelta(days=9)]


def test_window_past_midnight_ends_next_day_and_belongs_to_its_start_date() -> None:
    late = [WindowSpec(5, 0, time(22), time(1))]
    (spec,) = rota.plan_shifts(late, [], MON, MON + timedelta(days=6), "Asia/Shanghai")
    assert spec.local_date == MON
    assert spec.starts_at == sh(MON, 22)
    assert spec.ends_at == sh(MON + timedelta(days=1), 1)


def test_window_ending_at_midnight_runs_to_the_next_day() -> None:
    evening = [WindowSpec(5, 0, time(20), time(0))]
    (spec,) = rota.plan_shifts(evening, [], MON, MON, "Asia/Shanghai")
    assert spec.ends_at == sh(MON + timedelta(days=1), 0)
    assert spec.ends_at - spec.starts_at == timedelta(hours=4)


def test_sunday_night_window_is_planned_on_the_last_day_of_the_range() -> None:
    sunday = [WindowSpec(5, 6, time(23), time(2))]
    (spec,) = rota.plan_shifts(sunday, [], MON, MON + timedelta(days=6), "Asia/Shanghai")
    assert spec.local_date == MON + timedelta(days=6)
    assert spec.ends_at == sh(MON + timedelta(days=7), 2)


def test_closed_exception_removes_the_day() -> None:
    tue = MON + timedelta(days=1)
    specs = rota.plan_shifts(DAILY, [ExceptionSpec(tue)], MON, MON + timedelta(days=2),
                             "Asia/Shanghai")
    assert [s.local_date for s in specs].count(tue) == 0
    assert len(specs) == 4


def test_special_hours_replace_the_days_windows() -> None:
    tue = MON + timedelta(days=1)
    specs = rota.plan_shifts(DAILY, [ExceptionSpec(tue, time(10), time(12)),
                                     ExceptionSpec(tue, time(23), time(0, 30))],
                             MON, MON + timedelta(days=2), "Asia/Shanghai")
    on_tue = [s for s in specs if s.local_date == tue]
    assert [(s.starts_at, s.ends_at, s.window_id) for s in on_tue] == [
        (sh(tue, 10), sh(tue, 12), None),
        (sh(tue, 23), sh(tue + timedelta(days=1), 0, 30), None)]
    assert len([s for s in specs if s.local_date != tue]) == 4


def test_exceptions_outside_the_range_change_nothing() -> None:
    base = rota.plan_shifts(DAILY, [], MON, MON + timedelta(days=6), "Asia/Shanghai")
    other = rota.plan_shifts(DAILY, [ExceptionSpec(MON - timedelta(days=1)),
                                     ExceptionSpec(MON + timedelta(days=7))],
                             MON, MON + timedelta(days=6), "Asia/Shanghai")
    assert base == other


def test_needed_is_carried_on_every_spec() -> None:
    specs = rota.plan_shifts(DAILY, [], MON, MON, "Asia/Shanghai", needed=3)
    assert {s.needed for s in specs} == {3}


def test_local_range_is_weeks_of_days_from_today() -> None:
    assert rota.local_range(MON, 1) == (MON, MON + timedelta(days=6))
    assert rota.local_range(MON, 4) == (MON, MON + timedelta(days=27))


# --- A zone with DST (New York, 2026: +1 h on 8 March, back on 1 November) ------------------

SPRING = date(2026, 3, 8)
FALL = date(2026, 11, 1)


def test_dst_keeps_local_wall_times_so_utc_shifts_by_an_hour() -> None:
    morning = [WindowSpec(1, d, time(7), time(9)) for d in range(7)]
    before, after = rota.plan_shifts(morning, [], SPRING - timedelta(days=1), SPRING,
                                     "America/New_York")
    assert before.starts_at.astimezone(UTC).hour == 12  # EST, UTC-5
    assert after.starts_at.astimezone(UTC).hour == 11   # EDT, UTC-4
    assert after.starts_at.astimezone(NY).hour == 7
    assert after.ends_at - after.starts_at == timedelta(hours=2)


def test_window_across_the_spring_gap_is_an_hour_shorter() -> None:
    night = [WindowSpec(1, SPRING.weekday(), time(1), time(3))]
    (spec,) = rota.plan_shifts(night, [], SPRING, SPRING, "America/New_York")
    assert spec.ends_at - spec.starts_at == timedelta(hours=1)
    assert spec.starts_at.astimezone(UTC) == datetime(2026, 3, 8, 6, 0, tzinfo=UTC)


def test_window_inside_the_spring_gap_does_not_happen() -> None:
    gap = [WindowSpec(1, SPRING.weekday(), time(2, 30), time(3))]
    assert rota.plan_shifts(gap, [], SPRING, SPRING, "America/New_York") == []
    # ...but it does on the next week's same weekday.
    assert len(rota.plan_shifts(gap, [], SPRING, SPRING + timedelta(days=7),
                                "America/New_York")) == 1


def test_wall_times_in_the_gap_are_read_with_the_offset_before_the_jump() -> None:
    gap = [WindowSpec(1, SPRING.weekday(), time(2, 15), time(2, 45))]
    (spec,) = rota.plan_shifts(gap, [], SPRING, SPRING, "America/New_York")
    assert spec.starts_at.astimezone(NY).time() == time(3, 15)
    assert spec.ends_at - spec.starts_at == timedelta(minutes=30)


def test_specs_are_utc_so_durations_are_real() -> None:
    (spec,) = rota.plan_shifts([WindowSpec(1, SPRING.weekday(), time(1), time(3))], [],
                               SPRING, SPRING, "America/New_York")
    assert spec.starts_at.tzinfo is UTC
    assert spec.ends_at.tzinfo is UTC


def test_midnight_window_across_the_fall_back_night_is_an_hour_longer() -> None:
    saturday = FALL - timedelta(days=1)
    late = [WindowSpec(1, saturday.weekday(), time(22), time(2))]
    (spec,) = rota.plan_shifts(late, [], saturday, saturday, "America/New_York")
    assert spec.local_date == saturday
    assert spec.ends_at - spec.starts_at == timedelta(hours=5)
    assert spec.ends_at.astimezone(UTC) == datetime(2026, 11, 1, 7, 0, tzinfo=UTC)


# --- reconcile -----------------------------------------------------------------------------

def spec(h: int, m: int = 0, minutes: int = 120, window: int | None = 1,
         day: date = MON) -> ShiftSpec:
    start = sh(day, h, m)
    return ShiftSpec(window, day, start, start + timedelta(minutes=minutes))


def existing(i: int, h: int, m: int = 0, minutes: int = 120, window: int | None = 1,
             status: str = "open", filled: bool = False, day: date = MON) -> ExistingShift:
    start = sh(day, h, m)
    return ExistingShift(i, window, day, start, start + timedelta(minutes=minutes), status,
                         filled)


def test_reconcile_empty_creates_everything() -> None:
    plan = rota.reconcile([], [spec(7), spec(18, window=2)])
    assert plan.create == [spec(7), spec(18, window=2)]
    assert (plan.update, plan.cancel, plan.kept, plan.held) == ([], [], 0, 0)


def test_reconcile_same_schedule_keeps_everything() -> None:
    plan = rota.reconcile([existing(1, 7), existing(2, 18, window=2)],
                          [spec(7), spec(18, window=2)])
    assert (plan.create, plan.update, plan.cancel, plan.relink) == ([], [], [], [])
    assert plan.kept == 2


def test_reconcile_relinks_a_kept_shift_whose_window_was_replaced() -> None:
    plan = rota.reconcile([existing(1, 7, window=None)], [spec(7, window=9)])
    assert plan.kept == 1
    assert plan.relink == [(1, 9)]
    assert plan.update == []


def test_reconcile_moves_an_unfilled_shift_to_the_changed_window() -> None:
    plan = rota.reconcile([existing(1, 7)], [spec(7, 30)])
    assert plan.update == [(1, spec(7, 30))]
    assert plan.create == []
    assert plan.cancel == []


def test_reconcile_changed_end_updates_the_shift() -> None:
    plan = rota.reconcile([existing(1, 7)], [spec(7, minutes=180)])
    assert plan.update == [(1, spec(7, minutes=180))]


def test_reconcile_leaves_a_filled_shift_alone_and_adds_no_overlapping_one() -> None:
    plan = rota.reconcile([existing(1, 7, filled=True)], [spec(7, 30)])
    assert plan.held == 1
    assert (plan.create, plan.update, plan.cancel) == ([], [], [])


def test_reconcile_filled_shift_with_a_changed_end_is_held() -> None:
    plan = rota.reconcile([existing(1, 7, filled=True)], [spec(7, minutes=60)])
    assert plan.held == 1
    assert plan.update == []


def test_reconcile_cancels_removed_windows_but_holds_filled_ones() -> None:
    plan = rota.reconcile([existing(1, 7), existing(2, 18, window=2, filled=True)], [])
    assert plan.cancel == [1]
    assert plan.held == 1


def test_reconcile_reopens_a_cancelled_shift_when_its_window_returns() -> None:
    plan = rota.reconcile([existing(1, 7, status="cancelled")], [spec(7)])
    assert plan.update == [(1, spec(7))]


def test_reconcile_ignores_cancelled_shifts_no_longer_scheduled() -> None:
    plan = rota.reconcile([existing(1, 7, status="cancelled")], [])
    assert (plan.update, plan.cancel, plan.create, plan.kept, plan.held) == ([], [], [], 0, 0)


def test_reconcile_non_overlapping_change_cancels_and_creates() -> None:
    plan = rota.reconcile([existing(1, 7, window=None)], [spec(12, window=5)])
    assert plan.cancel == [1]
    assert plan.create == [spec(12, window=5)]


def test_reconcile_same_window_at_a_new_time_is_a_move_even_without_overlap() -> None:
    plan = rota.reconcile([existing(1, 7)], [spec(12)])
    assert plan.update == [(1, spec(12))]
    assert plan.cancel == []


def test_reconcile_pairs_by_window_before_overlap() -> None:
    # Window 2 moved from 07:00 to 08:00; window 1 (06:00-08:30) appeared overlapping it.
    plan = rota.reconcile([existing(1, 7, window=2)],
                          [spec(6, minutes=150, window=1), spec(8, window=2)])
    assert plan.update == [(1, spec(8, window=2))]
    assert plan.create == [spec(6, minutes=150, window=1)]


def test_reconcile_pairs_by_the_largest_overlap() -> None:
    plan = rota.reconcile([existing(1, 7, window=None), existing(2, 18, window=None)],
                          [spec(18, 30, window=None)])
    assert plan.update == [(2, spec(18, 30, window=None))]
    assert plan.cancel == [1]


def test_reconcile_works_day_by_day() -> None:
    tue = MON + timedelta(days=1)
    plan = rota.reconcile([existing(1, 7, day=MON), existing(2, 7, day=tue)],
                          [spec(7, 30, day=MON), spec(8, day=tue, window=3)])
    assert sorted(i for i, _ in plan.update) == [1, 2]
    assert dict(plan.update)[2].local_date == tue


# --- Coverage ------------------------------------------------------------------------------

START = sh(MON, 7)
END = sh(MON, 9)


def state(*presences: Presence, now: datetime = END + timedelta(hours=1),
          signed: int = 1, needed: int = 1) -> rota.ShiftState:
    return rota.shift_state(START, END, needed, signed, presences, now)


@pytest.mark.parametrize(("came", "left", "staffed"), [
    (START, None, True),                                   # exactly at the start
    (END, None, False),                                    # exactly at the end: too late
    (END - timedelta(seconds=1), None, True),              # the last second counts
    (START - timedelta(minutes=20), None, True),           # early, still there
    (START - timedelta(minutes=20), START, False),         # left as the window opened
    (START - timedelta(minutes=20), START + timedelta(seconds=1), True),
    (START + timedelta(minutes=30), START + timedelta(minutes=40), True),
    (END + timedelta(minutes=1), END + timedelta(minutes=5), False),
])
def test_staffed_at_window_edges(came: datetime, left: datetime | None, staffed: bool) -> None:
    st = state(Presence(came, left))
    assert st.state == ("staffed" if staffed else "unstaffed")
    assert st.decided


def test_past_window_without_check_in_is_unstaffed_even_if_signed_up() -> None:
    st = state(signed=2, needed=2)
    assert st.state == "unstaffed"
    assert st.present == 0


def test_midnight_window_staffed_by_a_check_in_after_midnight() -> None:
    start, end = sh(MON, 22), sh(MON + timedelta(days=1), 1)
    after_midnight = Presence(sh(MON + timedelta(days=1), 0, 30))
    st = rota.shift_state(start, end, 1, 1, [after_midnight], end + timedelta(hours=1))
    assert st.state == "staffed"
    exactly_end = Presence(end)
    assert rota.shift_state(start, end, 1, 1, [exactly_end],
                            end + timedelta(hours=1)).state == "unstaffed"


def test_upcoming_shows_signed_up_against_needed() -> None:
    before = START - timedelta(hours=3)
    assert state(now=before, signed=2, needed=2).state == "filled"
    assert state(now=before, signed=3, needed=2).state == "filled"
    assert state(now=before, signed=1, needed=2).state == "short"
    assert state(now=before, signed=0, needed=2).state == "empty"
    assert not state(now=before).decided


def test_running_shift_is_ongoing_until_someone_checks_in() -> None:
    mid = START + timedelta(minutes=30)
    assert state(now=mid).state == "ongoing"
    assert state(Presence(START + timedelta(minutes=5)), now=mid).state == "staffed"
    # A check-in recorded after `now` (viewing history as of an earlier moment) is ignored.
    assert state(Presence(START + timedelta(minutes=45)), now=mid).state == "ongoing"
    assert not state(now=mid).decided


def test_coverage_rate_counts_only_windows_that_are_over() -> None:
    staffed = state(Presence(START))
    unstaffed = state()
    upcoming = state(now=START - timedelta(hours=1))
    rate = rota.coverage_rate([staffed, unstaffed, upcoming, staffed])
    assert (rate.numerator, rate.denominator) == (2, 3)
    assert rate.value == pytest.approx(2 / 3)


def test_coverage_rate_with_nothing_over_is_not_available() -> None:
    rate = rota.coverage_rate([state(now=START - timedelta(hours=1))])
    assert rate.denominator == 0
    assert rate.value is None


def test_needs_help_means_upcoming_and_short() -> None:
    before = START - timedelta(hours=3)
    assert rota.needs_help(state(now=before, signed=0))
    assert rota.needs_help(state(now=before, signed=1, needed=2))
    assert not rota.needs_help(state(now=before, signed=2, needed=2))
    assert not rota.needs_help(state())  # over


def test_week_start_is_monday() -> None:
    assert rota.week_start(MON + timedelta(days=6)) == MON
    assert rota.week_start(MON) == MON
