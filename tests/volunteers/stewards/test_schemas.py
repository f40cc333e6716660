"""The stewards' input models: ranges, strict whole numbers, and the cross-field rules."""
from __future__ import annotations

from datetime import date, time

import pytest

from community.errors import InvalidInput
from community.volunteers.stewards.schemas import AvailabilityIn, InviteIn, RejectIn, TrainingIn


def _field(model, **values) -> str:
    with pytest.raises(InvalidInput) as err:
        model.parse(**values)
    return err.value.details["field"]


def test_invite_limits_and_strict_numbers() -> None:
    assert InviteIn.parse(days=90, max_uses=1) == InviteIn(days=90, max_uses=1)
    assert _field(InviteIn, days=0, max_uses=5) == "days"
    assert _field(InviteIn, days=14, max_uses=501) == "max_uses"
    assert _field(InviteIn, days="14", max_uses=5) == "days"  # no silent "14" → 14
    assert _field(InviteIn, days=True, max_uses=5) == "days"
    assert _field(InviteIn, days=None, max_uses=5) == "days"


def test_reject_reason_is_stripped_and_short() -> None:
    assert RejectIn.parse(reason="  名额已满 ").reason == "名额已满"
    assert _field(RejectIn, reason="   ") == "reason"
    assert _field(RejectIn, reason="长" * 201) == "reason"


def test_trained_needs_a_date_other_statuses_do_not() -> None:
    assert _field(TrainingIn, training="trained") == "trained_on"
    assert _field(TrainingIn, training="expert") == "training"
    assert TrainingIn.parse(training="trained", trained_on=date(2026, 1, 5)).trained_on == date(
        2026, 1, 5)
    assert TrainingIn.parse(training="in_training").trained_on is None


def test_availability_times_and_the_end_that_equals_the_start() -> None:
    slot = AvailabilityIn.parse(weekday=0, start="22:00", end="02:00")  # past midnight: fine
    assert (slot.start, slot.end) == (time(22), time(2))
    assert AvailabilityIn.parse(weekday=6, start=time(7), end=time(9)).end == time(9)
    assert _field(AvailabilityIn, weekday=0, start="07:00", end="07:00") == "end"
    assert _field(AvailabilityIn, weekday=0, start="7:00", end="09:00") == "start"
    assert _field(AvailabilityIn, weekday=7, start="07:00", end="09:00") == "weekday"
    assert _field(AvailabilityIn, weekday=0, start="07:00", end=9) == "end"
