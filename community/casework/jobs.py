"""Casework jobs (plain, idempotent functions the scheduler calls): evaluating households
for cases and escalating overdue tasks (every 10 minutes); every night, re-checking every
open case and, on Mondays, drawing the week's verdict-audit sample."""
from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from community.casework import queries, services


def evaluate_cases(session: Session, *, now: datetime) -> dict[str, int]:
    """Open, close (with refunds) and withdraw cases from the drops and regrades since the
    last run, re-check every open case, escalate overdue tasks. Safe to re-run."""
    return services.evaluate_all(session, now=now)


def nightly(session: Session, *, day: date, now: datetime) -> dict[str, int]:
    """Every night: re-check every open case (voids change no id, so only this sweep sees
    them); after a week's Sunday, draw that week's audit sample."""
    swept = services.evaluate_all(session, now=now, every_open=True)
    drawn = {"drawn": 0}
    if day.weekday() == 6:  # `day` is the local day just ended; the week ends on Sunday
        drawn = services.draw_all(session, week=queries.week_of(day), now=now)
    return {**{f"cases_{k}": v for k, v in swept.items()}, **drawn}
