"""The appeal rules, pure: when a household may appeal, and what a decision needs."""
from __future__ import annotations

from datetime import datetime, timedelta

APPEAL_WINDOW = timedelta(days=7)
OUTCOMES = ("uphold", "regrade")


def appeal_deadline(verdict_at: datetime) -> datetime:
    """The last moment an appeal of a verdict given at `verdict_at` is accepted."""
    return verdict_at + APPEAL_WINDOW


def appeal_refusal(*, quality: str, voided: bool, appealed: bool, verdict_at: datetime,
                   now: datetime) -> str | None:
    """Why an appeal cannot be filed now (a code), or None when it can.

    Only a standing incorrect verdict is appealed, once per drop, within 7 days of the
    verdict (the scan, or the regrade that made the drop incorrect).
    """
    if appealed:
        return "appealed"
    if voided:
        return "voided"
    if quality != "incorrect":
        return "not_incorrect"
    if now > appeal_deadline(verdict_at):
        return "too_late"
    return None


def decision_refusal(*, status: str, outcome: str, reason: str) -> str | None:
    """Why a decision cannot be recorded (a code), or None: an open appeal, a known outcome,
    and a reason (the household is told it, whichever the outcome)."""
    if status != "open":
        return "decided"
    if outcome not in OUTCOMES:
        return "outcome"
    if not reason.strip():
        return "reason_required"
    return None
