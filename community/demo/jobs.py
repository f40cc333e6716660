"""The demo's job history: what the scheduler would have recorded while the demo's days
went by (daily, monthly and every-few-minutes runs, with counts, two retried failures and
one failure left in the record), so the jobs page shows a working system, not "never run".

Each job's latest due period is left to the real scheduler: the demo never claims work it
did not do for a period the scheduler would still run (a claimed period is never re-run).
One job is really run for its latest due period, through the scheduler's own runner: the
daily digest (`dashboard.digest`), so managers and station chiefs find in their inbox what
waits for them on the demo's last day (it reads only the built data, in a fraction of a
second). The rows are written once (a second build finds the table filled and adds nothing).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlmodel import col

from community import clock
from community.demo.context import Demo
from community.scheduler.models import JobRun
from community.scheduler.periods import Daily, EveryMinutes, Monthly
from community.scheduler.registry import JOBS
from community.scheduler.runner import make_period, run_period

RECENT_HOURS = 6  # how far back the every-few-minutes jobs' history goes
RUN_FOR_REAL = ("dashboard.digest",)  # run for their latest due period, as the scheduler would
SMS_ERROR = "SMS provider: timed out after 10 s (will retry)"


def _counts(name: str, rng: Any, communities: int) -> dict[str, int]:
    """Plausible counts of one run of a job."""
    if name == "points.verify":
        return {"drifted": 0}
    if name == "ratings.rollups":
        return {"communities": communities, "drops": rng.randint(2_400, 4_200)}
    if name == "ratings.refresh":
        return {"days_rebuilt": rng.choice((0, 0, 1, 2)), "levels_changed": 0}
    if name == "ratings.monthly":
        return {"communities": communities}
    if name == "volunteers.rotas":
        return {"created": rng.randint(0, 40), "updated": 0, "cancelled": 0,
                "kept": rng.randint(300, 400)}
    if name == "volunteers.close_shifts":
        return {"auto_checked_out": rng.choice((0, 0, 1)), "no_shows": rng.choice((0, 0, 1))}
    if name == "volunteers.reminders":
        return {"reminded": rng.choice((0, 0, 3, 5))}
    if name == "inbox.sms":
        return {"sent": rng.choice((0, 0, 0, 1, 2))}
    if name == "casework.cases":
        return {"opened": rng.choice((0, 0, 1)), "closed": rng.choice((0, 0, 1))}
    if name == "casework.nightly":
        return {"closed": rng.choice((0, 1)), "drawn": 0}
    if name == "reports.escalate":
        return {"escalated": rng.choice((0, 0, 0, 1))}
    if name == "maintenance.clean_up":
        return {"devices": 0, "request_ids": rng.randint(20, 200)}
    if name == "dashboard.digest":
        return {"digests": rng.randint(20, 30), "skipped": rng.randint(0, 4)}
    if name == "maintenance.partitions":
        return {"created": 0, "moved": 0}
    return {}


def _periods(cadence: Any, local_now: datetime, days: int) -> list[datetime]:
    """The periods before the latest due one, back over the demo's days (newest first)."""
    if isinstance(cadence, EveryMinutes):
        since = local_now - timedelta(hours=RECENT_HOURS)
    elif isinstance(cadence, Daily | Monthly):
        since = local_now - timedelta(days=days)
    else:
        return []  # yearly: its last run was before the demo's days
    out, period = [], cadence.previous(cadence.latest_due(local_now))
    while cadence.due_at(period) >= since:
        out.append(period)
        period = cadence.previous(period)
    return out


def add_job_history(demo: Demo) -> None:
    """Record the scheduler's runs over the demo's days (once)."""
    session = demo.session
    if session.execute(select(col(JobRun.id)).limit(1)).first() is not None:
        return
    tz = next(iter(demo.communities.values())).timezone if demo.communities \
        else clock.DEFAULT_TZ
    zone = ZoneInfo(tz)
    local_now = clock.now().astimezone(zone).replace(tzinfo=None)
    rows: list[dict[str, Any]] = []
    for name, job in JOBS.items():
        rng = demo.rng_for("jobs", name)
        periods = _periods(job.cadence, local_now, demo.days)
        for i, period in enumerate(periods):
            started = (job.cadence.due_at(period) + timedelta(seconds=rng.randint(1, 50))
                       ).replace(tzinfo=zone)
            took = timedelta(seconds=rng.randint(1, 40) if not isinstance(
                job.cadence, EveryMinutes) else rng.randint(0, 3), milliseconds=rng.randint(
                    50, 900))
            row: dict[str, Any] = {
                   "job": name, "period": job.cadence.key(period), "status": "succeeded",
                   "started_at": started, "finished_at": started + took, "attempts": 1,
                   "counts": _counts(name, rng, len(demo.communities)), "error": "",
                   "trigger": "schedule"}
            # Two failures that a retry fixed, and one SMS slot the provider lost (kept as
            # failed: the next slot sent its texts).
            if name == "points.verify" and i == 9:
                retried = started + timedelta(minutes=30)
                row.update(attempts=2, started_at=retried, finished_at=retried + took)
            if name == "ratings.refresh" and i == 20:
                row.update(attempts=2)
            if name == "inbox.sms" and i == 30:
                row.update(status="failed", counts={}, error=SMS_ERROR)
            rows.append(row)
    if rows:
        session.execute(insert(JobRun), rows)
        demo.created += len(rows)
    session.commit()
    engine = session.get_bind()
    for name in RUN_FOR_REAL:
        job = JOBS[name]
        latest = make_period(job, job.cadence.latest_due(local_now), zone)
        if run_period(engine, job, latest) == "succeeded":  # type: ignore[arg-type]
            demo.created += 1
