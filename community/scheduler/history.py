"""What the job history page and `flask jobs list` show: each job's last run and next due
time, recent runs and failures (reads only)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session, col

from community import clock
from community.scheduler.models import JobRun
from community.scheduler.periods import next_due
from community.scheduler.registry import JOBS
from community.scheduler.runner import Job

RECENT = 50


@dataclass(frozen=True)
class JobRow:
    """One registered job with its latest run and its next due time (local)."""

    job: Job
    last: JobRun | None
    next_due: datetime
    failures: int


def job_rows(session: Session, timezone: str, now: datetime | None = None) -> list[JobRow]:
    """Every registered job, in registry order."""
    zone = ZoneInfo(timezone)
    local_now = (now or clock.now()).astimezone(zone).replace(tzinfo=None)
    latest = session.execute(select(func.max(JobRun.id)).group_by(JobRun.job)).scalars()
    last = {r.job: r for r in session.execute(
        select(JobRun).where(col(JobRun.id).in_(list(latest)))).scalars()}
    failed = dict(session.execute(select(col(JobRun.job), func.count()).where(
        col(JobRun.status) == "failed").group_by(JobRun.job)).all())
    return [JobRow(job, last.get(name), next_due(job.cadence, local_now).replace(tzinfo=zone),
                   int(failed.get(name, 0))) for name, job in JOBS.items()]


def recent_runs(session: Session, *, failed_only: bool = False,
                limit: int = RECENT) -> list[JobRun]:
    """The latest runs (newest first), or only the failed ones."""
    stmt = select(JobRun)
    if failed_only:
        stmt = stmt.where(col(JobRun.status) == "failed")
    return list(session.execute(
        stmt.order_by(col(JobRun.started_at).desc(), col(JobRun.id).desc())
        .limit(limit)).scalars())


def failing_jobs(session: Session) -> int:
    """How many jobs' latest run failed (e.g. ledger drift), for the admins' navigation badge."""
    latest = select(func.max(JobRun.id)).group_by(JobRun.job)
    return int(session.execute(select(func.count()).select_from(JobRun).where(
        col(JobRun.id).in_(latest), col(JobRun.status) == "failed")).scalar_one())
