"""'Run now' from the jobs page: the periods of a job that are due, run in the request
through the scheduler's own exactly-once claim (`runner.run_period`, trigger "hand").

Chosen over a request row the scheduler process picks up: the city admin sees the outcome
at once, and nothing new is needed to keep exactly-once — a period the scheduler is running
at the same moment waits on its uncommitted `job_run` row and is then skipped, as a second
scheduler would be. A period already done is never run again (that is the point of the
claim): the page then says nothing was due.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from community import clock
from community.errors import NotFound
from community.scheduler.registry import JOBS
from community.scheduler.runner import due, run_period


def run_now(engine: Engine, name: str, timezone: str,
            now: datetime | None = None) -> dict[str, str]:
    """Run every due period of job `name`, oldest first; period key → outcome ({}: none)."""
    job = JOBS.get(name)
    if job is None:
        raise NotFound()
    at = now or clock.now()
    return {p.key: run_period(engine, job, p, trigger="hand", now=now)
            for p in due(engine, job, ZoneInfo(timezone), at)}
