"""The scheduler process (`flask --app wsgi scheduler run`): APScheduler 3 ticks each job.

Every job gets an interval trigger; each tick asks the runner for the job's due periods
(catch-up included) and runs them. The first tick fires at start-up, so a restart after
downtime catches up at once, each missed period once. `job_run` makes a period run once
even when two scheduler processes run by mistake; APScheduler's max_instances=1 and
coalesce keep one process from piling up ticks of a slow job.
"""
from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterable
from datetime import datetime
from types import FrameType
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from community import clock
from community.db import get_engine
from community.ratings import jobs as ratings_jobs
from community.scheduler.registry import JOBS
from community.scheduler.runner import Job, run_due

log = logging.getLogger(__name__)
TICK_SECONDS = 60


def tick(app: Flask, job: Job, now: datetime | None = None) -> dict[str, str]:
    """Run a job's due periods now (one scheduler tick); period → outcome."""
    zone = ZoneInfo(app.config["TIMEZONE"])
    with app.app_context():
        try:
            return run_due(get_engine(app), job, zone, now=now)
        except Exception:  # the database may be down: log, keep ticking
            log.exception("scheduler tick of %s failed", job.name)
            return {}


def run_once(app: Flask, names: Iterable[str] | None = None,
             now: datetime | None = None) -> dict[str, dict[str, str]]:
    """One pass over the jobs (what start-up does): job → period → outcome."""
    return {name: tick(app, JOBS[name], now) for name in (names or JOBS)}


def serve(app: Flask, *, tick_seconds: int = TICK_SECONDS) -> None:
    """Run the scheduler in the foreground until SIGTERM or SIGINT."""
    zone = ZoneInfo(app.config["TIMEZONE"])
    threads = max(2, len(JOBS))
    # Each job thread may hold a connection at once: room for all of them in the pool, not
    # a web worker's 2 + 3 (README, "Connection budget"), plus the refresh's worker sessions
    # (ratings.jobs.WORKERS). Set before the engine is made.
    app.config["DATABASE_MAX_OVERFLOW"] = max(
        int(app.config.get("DATABASE_MAX_OVERFLOW", 0)),
        threads + ratings_jobs.WORKERS - int(app.config.get("DATABASE_POOL_SIZE", 0)))
    scheduler = BlockingScheduler(
        timezone=zone, executors={"default": ThreadPoolExecutor(threads)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
    start = clock.now().astimezone(zone)
    for job in JOBS.values():
        scheduler.add_job(tick, IntervalTrigger(seconds=tick_seconds, timezone=zone),
                          args=(app, job), id=job.name, name=job.name, next_run_time=start)

    def stop(signum: int, _frame: FrameType | None) -> None:
        # Never wait inside the handler: it interrupts the main thread wherever it is (in a
        # logging call, holding the handler's lock), and a job thread that logs would then
        # wait for that lock while the handler waits for the job: a hang. A thread of its
        # own logs and shuts down once the handler has returned.
        threading.Thread(target=_shut_down, args=(signum,)).start()

    def _shut_down(signum: int) -> None:
        log.info("scheduler stopping (signal %s); running jobs finish first", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler started: %s", ", ".join(JOBS))
    scheduler.start()
