"""Report jobs (plain, idempotent functions the scheduler calls): every 10 minutes, open
reports from new supervision-log incidents and escalate overdue reports one level up."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from community.reports import services


def escalate(session: Session, *, now: datetime) -> dict[str, int]:
    """Reports from the supervision logs saved in the last two days (once per log and kind),
    then every overdue open report one level up (once per deadline). Safe to re-run."""
    made = services.reports_from_logs(session, now=now)
    return {"from_logs": made, "escalated": services.escalate_overdue(session, now=now)}
