"""The appeal rules as pure functions: the 7-day window, once per drop, what a decision needs."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from community.stations.appeals import rules

VERDICT = datetime(2026, 11, 20, 0, 30, tzinfo=UTC)


def _refusal(**kw):
    args = {"quality": "incorrect", "voided": False, "appealed": False, "verdict_at": VERDICT,
            "now": VERDICT + timedelta(days=1)} | kw
    return rules.appeal_refusal(**args)


def test_an_incorrect_verdict_may_be_appealed_within_seven_days() -> None:
    assert _refusal() is None
    assert _refusal(now=VERDICT + timedelta(days=7)) is None  # the last moment still counts
    assert _refusal(now=VERDICT + timedelta(days=7, seconds=1)) == "too_late"
    assert rules.appeal_deadline(VERDICT) == VERDICT + timedelta(days=7)


@pytest.mark.parametrize(("kw", "code"), [
    ({"appealed": True}, "appealed"),
    ({"voided": True}, "voided"),
    ({"quality": "correct"}, "not_incorrect"),
    ({"quality": "ungraded"}, "not_incorrect"),
    # Once is once, even inside the window; "appealed" is said before "too late".
    ({"appealed": True, "now": VERDICT + timedelta(days=30)}, "appealed"),
])
def test_refusals(kw: dict, code: str) -> None:
    assert _refusal(**kw) == code


@given(st.integers(min_value=0, max_value=60 * 24 * 20))
def test_window_is_exactly_seven_days(minutes: int) -> None:
    now = VERDICT + timedelta(minutes=minutes)
    assert (_refusal(now=now) is None) == (minutes <= 7 * 24 * 60)


@pytest.mark.parametrize(("status", "outcome", "reason", "code"), [
    ("open", "uphold", "照片显示混有塑料袋", None),
    ("open", "regrade", "照片看不清，按正确计", None),
    ("open", "regrade", "   ", "reason_required"),
    ("open", "uphold", "", "reason_required"),
    ("open", "maybe", "x", "outcome"),
    ("upheld", "regrade", "x", "decided"),
    ("regraded", "uphold", "x", "decided"),
])
def test_decision_needs_an_open_appeal_an_outcome_and_a_reason(status: str, outcome: str,
                                                               reason: str,
                                                               code: str | None) -> None:
    assert rules.decision_refusal(status=status, outcome=outcome, reason=reason) == code
