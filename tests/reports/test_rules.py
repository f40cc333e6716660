"""Pure report rules: deadlines, what each state allows, escalation, and 按期处置率 (handled one
second before, at and after the deadline; a reopened report; the month's boundary in local
time; order-free and bounded, by hypothesis)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from community.reports import rules
from community.reports.rules import Rate, RateFact

SH = ZoneInfo("Asia/Shanghai")
MADE = datetime(2026, 11, 20, 8, 0, tzinfo=SH)
SECOND = timedelta(seconds=1)
START, END = rules.month_bounds(date(2026, 11, 1), "Asia/Shanghai")
LATER = datetime(2027, 1, 1, tzinfo=UTC)


def test_deadlines_per_kind_from_the_city_hours_with_defaults_for_the_rest() -> None:
    assert rules.hours_for("overflow") == 4
    assert rules.hours_for("missed_pickup") == 12
    assert rules.hours_for("broken") == 72
    assert rules.hours_for("overflow", {"overflow": 2}) == 2
    assert rules.hours_for("broken", {"overflow": 2}) == 72
    assert rules.hours_for("broken", {"broken": True}) == 72  # a bool is no number of hours
    assert rules.deadline(MADE, 4) == MADE + timedelta(hours=4)


def test_mixed_collection_goes_to_the_street_everything_else_to_the_community() -> None:
    assert rules.first_level("mixed_collection") == "street"
    assert {rules.first_level(k) for k in rules.KINDS if k != "mixed_collection"} == \
        {"community"}


def test_handled_one_second_before_or_at_the_deadline_is_on_time_one_after_is_late() -> None:
    due = rules.deadline(MADE, 4)
    assert rules.on_time(RateFact(due, due - SECOND))
    assert rules.on_time(RateFact(due, due))
    assert not rules.on_time(RateFact(due, due + SECOND))
    assert not rules.on_time(RateFact(due, None))
    got = rules.rate([RateFact(due, due - SECOND), RateFact(due, due + SECOND)], START, END,
                     LATER)
    assert (got.due, got.on_time, got.value) == (2, 1, 0.5)


def test_a_reopened_report_counts_only_once_handled_again_by_its_original_deadline() -> None:
    due = rules.deadline(MADE, 4)
    # Handled in time, then reopened: the handling no longer stands (handled_at cleared).
    reopened = RateFact(due, None)
    assert rules.rate([reopened], START, END, LATER) == Rate(1, 0)
    # Handled again after the original deadline: late, whatever the first handling was.
    assert rules.rate([RateFact(due, due + timedelta(hours=1))], START, END, LATER) == \
        Rate(1, 0)
    assert rules.rate([RateFact(due, due - SECOND)], START, END, LATER) == Rate(1, 1)


def test_the_month_is_local_and_half_open() -> None:
    # 2026-11-01 00:00 in Shanghai is 2026-10-31 16:00 UTC.
    assert datetime(2026, 10, 31, 16, 0, tzinfo=UTC) == START
    assert datetime(2026, 11, 30, 16, 0, tzinfo=UTC) == END
    first = RateFact(START, START)            # due at the first instant: November
    before = RateFact(START - SECOND, START)  # one second earlier: October
    last = RateFact(END, END)                 # due at midnight after: December
    assert rules.rate([first, before, last], START, END, LATER) == Rate(1, 1)


def test_nothing_due_is_not_available_and_undecided_reports_wait() -> None:
    assert rules.rate([], START, END, LATER).value is None
    due = rules.deadline(MADE, 4)
    as_of = due - timedelta(hours=1)
    # Not yet due and not handled: undecided. Handled early: counts (on time).
    assert rules.rate([RateFact(due, None)], START, END, as_of) == Rate(0, 0)
    assert rules.rate([RateFact(due, as_of - SECOND)], START, END, as_of) == Rate(1, 1)
    # Once the deadline passed unhandled: due and late.
    assert rules.rate([RateFact(due, None)], START, END, due + SECOND) == Rate(1, 0)


def test_escalation_climbs_one_level_and_stops_at_the_district() -> None:
    due = rules.deadline(MADE, 4)
    assert rules.escalation("assigned", "community", due, due) is None  # at the deadline
    assert rules.escalation("assigned", "community", due, due + SECOND) == "street"
    assert rules.escalation("in_progress", "street", due, due + SECOND) == "district"
    assert rules.escalation("reopened", "district", due, due + SECOND) is None
    assert rules.escalation("handled", "community", due, due + SECOND) is None
    assert rules.escalation("confirmed", "community", due, due + SECOND) is None


@pytest.mark.parametrize(("action", "status", "count", "reason", "expected"), [
    ("start", "new", 0, "", None),
    ("start", "handled", 0, "", "not_open"),
    ("handle", "assigned", 0, "", None),
    ("handle", "reopened", 1, "", None),
    ("handle", "handled", 0, "", "already_handled"),
    ("handle", "confirmed", 0, "", "already_handled"),
    ("confirm", "handled", 0, "", None),
    ("confirm", "assigned", 0, "", "not_handled"),
    ("reopen", "handled", 0, "still full", None),
    ("reopen", "handled", 0, "  ", "reason_required"),
    ("reopen", "handled", 1, "again", "reopened_once"),
    ("reopen", "confirmed", 0, "late", "not_handled"),
])
def test_what_each_state_allows(action: str, status: str, count: int, reason: str,
                                expected: str | None) -> None:
    assert rules.refusal(action, status=status, reopen_count=count, reason=reason) == expected


moments = st.integers(min_value=-40 * 24 * 3600, max_value=70 * 24 * 3600).map(
    lambda s: START + timedelta(seconds=s))
facts = st.lists(st.builds(RateFact, moments, st.none() | moments), max_size=30)


@settings(max_examples=150, deadline=None)
@given(facts, moments)
def test_the_rate_is_bounded_order_free_and_counts_each_report_once(
        items: list[RateFact], as_of: datetime) -> None:
    got = rules.rate(items, START, END, as_of)
    assert 0 <= got.on_time <= got.due <= len(items)
    assert rules.rate(list(reversed(items)), START, END, as_of) == got
    # Splitting the month in two adds up to the month.
    mid = START + (END - START) / 2
    a, b = rules.rate(items, START, mid, as_of), rules.rate(items, mid, END, as_of)
    assert (a.due + b.due, a.on_time + b.on_time) == (got.due, got.on_time)
    assert got.value is None if got.due == 0 else got.value == got.on_time / got.due
