"""Run a job's period exactly once, and find the periods that are due (with catch-up).

Exactly once: the runner claims (job, period) by writing its `job_run` row as "succeeded"
in the SAME transaction as the job's work, with
`INSERT … ON CONFLICT (job, period) DO UPDATE … WHERE status = 'failed'`. A second runner's
claim waits on the first one's uncommitted row, then finds the period done and skips it; a
job killed half-way rolls back its work and its claim together, so the period is redone on
the next run. A failure rolls the work back and records the period as failed (with the
error) in a transaction of its own; failed periods are retried after `RETRY_AFTER`.
"""
from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from community import clock
from community.rows import dialect_insert, table_of
from community.scheduler.models import JobRun
from community.scheduler.periods import Cadence, due_periods

log = logging.getLogger(__name__)
RETRY_AFTER = timedelta(minutes=30)  # a failed period is not hammered every tick
ERROR_MAX = 4000


@dataclass(frozen=True)
class Period:
    """One period handed to a job: its key, its local start and when it became due."""

    key: str
    start: datetime    # aware, local time zone
    due_at: datetime   # aware, local time zone


JobFn = Callable[[Session, Period], Mapping[str, Any]]


@dataclass(frozen=True)
class Job:
    """A registered job: a name, a cadence and the function that does one period's work."""

    name: str
    cadence: Cadence
    fn: JobFn
    description: Any  # lazy translated text
    schedule: Any     # lazy translated text, e.g. "Every day at 03:00"
    # A batched job commits its own batches (each batch idempotent, e.g. a city's points
    # expiry); its period is recorded when the last batch is done.
    batched: bool = False


class JobFailed(Exception):
    """Raised by a job whose check found a problem (e.g. ledger drift): a failed run."""


def make_period(job: Job, start: datetime, zone: ZoneInfo) -> Period:
    """The Period of a naive local period start."""
    return Period(job.cadence.key(start), start.replace(tzinfo=zone),
                  job.cadence.due_at(start).replace(tzinfo=zone))


def parse_period(job: Job, key: str, zone: ZoneInfo) -> Period:
    """The Period of a key typed by hand (ValueError when malformed)."""
    start = job.cadence.parse(key)
    if job.cadence.key(start) != key:
        raise ValueError(f"not a period key of {job.name}: {key!r}")
    return make_period(job, start, zone)


def _upsert(session: Session, values: dict[str, Any], update: dict[str, Any]) -> Any:
    table = table_of(JobRun)
    stmt = dialect_insert(session, table).values(**values).on_conflict_do_update(
        index_elements=["job", "period"], set_=update,
        where=table.c.status == "failed").returning(table.c.id)
    return session.execute(stmt).scalar_one_or_none()


def run_period(engine: Engine, job: Job, period: Period, *, trigger: str = "schedule",
               now: datetime | None = None) -> str:
    """Run one period of a job once: "succeeded", "skipped" (already done) or "failed"."""
    started = now or clock.now()
    table = table_of(JobRun)
    claim = ({"job": job.name, "period": period.key, "status": "succeeded",
              "started_at": started, "attempts": 1, "counts": {}, "error": "",
              "trigger": trigger},
             {"status": "succeeded", "started_at": started, "error": "", "trigger": trigger,
              "attempts": table.c.attempts + 1})
    with Session(engine, expire_on_commit=False) as session:
        try:
            if job.batched:
                if _succeeded(session, job, period):
                    return "skipped"
                # Batches commit as they go; each is idempotent, so a crash or a second
                # runner redoes nothing twice. The period is recorded after the last one.
                counts = dict(job.fn(session, period) or {})
                run_id = _upsert(session, *claim)
            else:
                # The claim and the work share this transaction: both land, or neither.
                run_id = _upsert(session, *claim)
                counts = dict(job.fn(session, period) or {}) if run_id is not None else {}
            if run_id is None:
                session.rollback()
                return "skipped"
            session.execute(table.update().where(table.c.id == run_id).values(
                counts=counts, finished_at=clock.now() if now is None else now))
            session.commit()
            log.info("job %s %s succeeded %s", job.name, period.key, counts)
            return "succeeded"
        except Exception as exc:  # noqa: BLE001 - every failure is recorded (not re-raised)
            session.rollback()
            error = _error_text(exc)
    _record_failure(engine, job, period, started, error, trigger, now)
    log.error("job %s %s failed: %s", job.name, period.key, error.splitlines()[-1:])
    return "failed"


def _succeeded(session: Session, job: Job, period: Period) -> bool:
    got = session.execute(select(col(JobRun.status)).where(
        col(JobRun.job) == job.name, col(JobRun.period) == period.key)).scalar_one_or_none()
    session.rollback()  # end the read: the batches run in transactions of their own
    return got == "succeeded"


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, JobFailed):
        return str(exc)[:ERROR_MAX]
    return "".join(traceback.format_exception(exc))[-ERROR_MAX:]


def _record_failure(engine: Engine, job: Job, period: Period, started: datetime, error: str,
                    trigger: str, now: datetime | None) -> None:
    table = table_of(JobRun)
    finished = now or clock.now()
    with Session(engine) as session:
        _upsert(session, {
            "job": job.name, "period": period.key, "status": "failed", "started_at": started,
            "finished_at": finished, "attempts": 1, "counts": {}, "error": error,
            "trigger": trigger,
        }, {"started_at": started, "finished_at": finished, "error": error,
            "trigger": trigger, "attempts": table.c.attempts + 1})
        session.commit()


def due(engine: Engine, job: Job, zone: ZoneInfo, now: datetime) -> list[Period]:
    """The periods of `job` to run at `now`: the latest due one plus missed ones (catch-up).

    A period is skipped when it succeeded, or failed less than RETRY_AFTER ago.
    """
    local_now = now.astimezone(zone).replace(tzinfo=None)
    candidates = due_periods(job.cadence, local_now, set())
    keys = [job.cadence.key(p) for p in candidates]
    with Session(engine) as session:
        rows = session.execute(
            select(col(JobRun.period), col(JobRun.status), col(JobRun.finished_at)).where(
                col(JobRun.job) == job.name, col(JobRun.period).in_(keys))).all()
    done = {p for p, status, finished in rows
            if status == "succeeded" or (finished is not None and now - finished < RETRY_AFTER)}
    return [make_period(job, start, zone)
            for start in due_periods(job.cadence, local_now, done)]


def run_due(engine: Engine, job: Job, zone: ZoneInfo,
            now: datetime | None = None) -> dict[str, str]:
    """Run every due period of a job, oldest first; period key → outcome.

    `now` pretends the clock reads that time (tests, hand runs); by default the real clock.
    """
    at = now or clock.now()
    return {p.key: run_period(engine, job, p, now=now) for p in due(engine, job, zone, at)}
