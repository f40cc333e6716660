"""The runner on both backends: each (job, period) runs once — with two runners at once, two
scheduler processes, a job killed half-way, a failure and its retry, catch-up after an
outage — and every registered job is idempotent when run twice by hand."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time as time_mod
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlmodel import Session, SQLModel, col

from community.db import get_engine
from community.scheduler.models import JobRun
from community.scheduler.registry import JOBS
from community.scheduler.runner import (
    RETRY_AFTER,
    Job,
    JobFailed,
    due,
    make_period,
    run_due,
    run_period,
)
from tests.scheduler.jobs_for_tests import rows, writer

pytestmark = pytest.mark.real_db  # commits for real: see tests/conftest.py

ZONE = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parents[2]
PERIOD_START = datetime(2026, 11, 20)  # noqa: DTZ001 - a naive local period start
TICK = 1  # seconds between the scheduler process's ticks in the SIGTERM test


def runs(session: Session, job: str = "test.writer") -> list[JobRun]:
    session.expire_all()
    got = list(session.execute(select(JobRun).where(col(JobRun.job) == job)
                               .order_by(col(JobRun.period))).scalars())
    session.commit()
    return got


def test_a_period_runs_once_and_a_rerun_is_skipped(app: Flask, session: Session) -> None:
    job = writer()
    period = make_period(job, PERIOD_START, ZONE)
    assert run_period(get_engine(app), job, period) == "succeeded"
    assert run_period(get_engine(app), job, period, trigger="hand") == "skipped"
    assert rows(session, "2026-11-20") == 1
    [run] = runs(session)
    assert (run.period, run.status, run.attempts, run.counts) == ("2026-11-20", "succeeded", 1,
                                                                   {"rows": 1})


def test_two_runners_at_once_run_the_period_once(app: Flask, session: Session,
                                                 db_url: str) -> None:
    job = writer(seconds=0.5)  # long enough for the second runner to arrive mid-run
    period = make_period(job, PERIOD_START, ZONE)
    engine = get_engine(app)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def go() -> None:
        barrier.wait()
        outcomes.append(run_period(engine, job, period))

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["skipped", "succeeded"]
    assert rows(session, "2026-11-20") == 1


def _env(db_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": db_url, "PYTHONPATH": str(ROOT),
            "SECRET_KEY": "test-only-secret-key-not-used-anywhere-else"}


def test_two_scheduler_processes_run_each_period_once(app: Flask, session: Session,
                                                      db_url: str) -> None:
    cmd = [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run", "--once"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=_env(db_url), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    lines = [line for out, _err in outs for line in out.splitlines()]
    for name in JOBS:
        mine = [line for line in lines if line.startswith(f"{name} ")]
        # Each due period: one process ran it, the other found it done.
        assert sum(line.endswith(": succeeded") for line in mine) == len(runs(session, name))
        assert not any(line.endswith(": failed") for line in mine), mine
    all_runs = runs(session, "points.verify") + runs(session, "points.expire") + \
        runs(session, "maintenance.clean_up")
    assert all_runs
    assert all(r.attempts == 1 and r.status == "succeeded" for r in all_runs)


def test_a_job_killed_half_way_leaves_nothing_and_is_redone(app: Flask, session: Session,
                                                            db_url: str, tmp_path: Path) -> None:
    marker = tmp_path / "written"
    child = subprocess.Popen([sys.executable, "-m", "tests.scheduler.jobs_for_tests", db_url,
                              str(marker)], cwd=ROOT, env=_env(db_url))
    try:
        deadline = time_mod.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, "the child job ended before it was killed"
            assert time_mod.monotonic() < deadline, "the child job never started"
            time_mod.sleep(0.05)
    finally:
        child.kill()  # SIGKILL: no clean-up code runs in the child
        child.wait(timeout=30)
    assert rows(session, "2026-11-20") == 0  # its half-written work is gone
    assert runs(session) == []               # and the period is not marked done
    job = writer()
    assert run_period(get_engine(app), job, make_period(job, PERIOD_START, ZONE)) == "succeeded"
    assert rows(session, "2026-11-20") == 1


def test_a_failure_is_recorded_rolled_back_and_retried(app: Flask, session: Session) -> None:
    calls = {"n": 0}

    def flaky(s: Session, period) -> dict[str, int]:
        calls["n"] += 1
        writer().fn(s, period)
        if calls["n"] == 1:
            raise JobFailed("drift in 2 accounts")
        return {"rows": 1}

    job = Job("test.writer", writer().cadence, flaky, "test", "test")
    period = make_period(job, PERIOD_START, ZONE)
    assert run_period(get_engine(app), job, period) == "failed"
    [run] = runs(session)
    assert (run.status, run.error, run.attempts) == ("failed", "drift in 2 accounts", 1)
    assert rows(session, "2026-11-20") == 0
    # Not retried at once (no hammering), but after RETRY_AFTER and by hand.
    soon = [p.key for p in due(get_engine(app), job, ZONE, run.finished_at + timedelta(minutes=1))]
    later = [p.key for p in due(get_engine(app), job, ZONE, run.finished_at + RETRY_AFTER
                                + timedelta(minutes=1))]
    assert "2026-11-20" not in soon
    assert "2026-11-20" in later
    assert run_period(get_engine(app), job, period, trigger="hand") == "succeeded"
    [run] = runs(session)
    assert (run.status, run.error, run.attempts, run.trigger) == ("succeeded", "", 2, "hand")
    assert rows(session, "2026-11-20") == 1


def test_catch_up_after_a_three_day_outage_runs_each_missed_day_once(
        app: Flask, session: Session) -> None:
    job = writer()
    engine = get_engine(app)
    before = datetime(2026, 11, 20, 5, 0, tzinfo=ZONE)
    run_due(engine, job, ZONE, now=before - timedelta(days=1))  # seeds the history
    assert run_due(engine, job, ZONE, now=before) == {"2026-11-20": "succeeded"}
    after = before + timedelta(days=3)  # down from the 20th to the 23rd
    assert run_due(engine, job, ZONE, now=after) == {
        "2026-11-21": "succeeded", "2026-11-22": "succeeded", "2026-11-23": "succeeded"}
    assert run_due(engine, job, ZONE, now=after) == {}
    assert [r.period for r in runs(session)][-4:] == ["2026-11-20", "2026-11-21",
                                                      "2026-11-22", "2026-11-23"]
    for day in ("2026-11-21", "2026-11-22", "2026-11-23"):
        assert rows(session, day) == 1


@pytest.mark.parametrize("name", sorted(JOBS))
def test_every_job_is_idempotent_when_run_twice_by_hand(app: Flask, session: Session,
                                                        name: str) -> None:
    job = JOBS[name]
    local_now = datetime(2027, 1, 2, 12, 0)  # noqa: DTZ001 - naive local
    period = make_period(job, job.cadence.latest_due(local_now), ZONE)
    engine = get_engine(app)
    assert run_period(engine, job, period, trigger="hand") == "succeeded"
    assert run_period(engine, job, period, trigger="hand") == "skipped"
    # The job function itself changes nothing the second time, even without job_run.
    def state() -> dict[str, list]:
        with Session(engine) as s:
            return {t.name: sorted(map(repr, s.execute(select(t)).all()))
                    for t in SQLModel.metadata.sorted_tables if t.name != "job_run"}

    with Session(engine) as s:
        job.fn(s, period)
        s.commit()
    before = state()
    with Session(engine) as s:
        job.fn(s, period)
        s.commit()
    after = state()
    # Rollups record when they were built; everything else must be identical.
    before.pop("rollup_day", None)
    after.pop("rollup_day", None)
    assert after == before
    count = session.execute(select(func.count()).select_from(JobRun)).scalar_one()
    assert count == 1


def test_the_scheduler_process_runs_due_jobs_and_stops_on_sigterm(
        app: Flask, session: Session, db_url: str) -> None:
    import signal

    proc = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run", "--tick", str(TICK)],
        cwd=ROOT, env=_env(db_url), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time_mod.monotonic() + 60
        while True:
            done = [r for name in JOBS for r in runs(session, name)]
            if len({r.job for r in done}) == len(JOBS):
                break
            assert proc.poll() is None, proc.communicate()[0]
            assert time_mod.monotonic() < deadline, "the scheduler ran nothing"
            time_mod.sleep(0.2)
        # Every job ticks again (each second) after its periods ran: wait until one tick
        # and a margin have passed since the last one finished (the process's real clock).
        last = max(r.finished_at or r.started_at for r in done).timestamp()
        time_mod.sleep(max(0.0, last + TICK + 0.3 - time_mod.time()))
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    for name in JOBS:
        assert all(r.attempts == 1 and r.status == "succeeded" for r in runs(session, name))
    assert "scheduler started" in out


def test_a_batched_job_commits_batches_and_records_the_period_at_the_end(
        app: Flask, session: Session) -> None:
    from dataclasses import replace

    from community.audit.models import AuditEntry

    calls = {"n": 0}

    def batches(s: Session, period) -> dict[str, int]:
        """Two idempotent batches; the first call dies between them."""
        calls["n"] += 1
        written = 0
        for batch in ("a", "b"):
            action = f"test.job:{period.key}:{batch}"
            if not s.execute(select(AuditEntry.id).where(col(AuditEntry.action) == action)).first():
                s.add(AuditEntry(action=action, detail={}))
                written += 1
            s.commit()
            if calls["n"] == 1:
                raise RuntimeError("killed between batches")
        return {"written": written}

    job = replace(writer(), fn=batches, batched=True)
    period = make_period(job, PERIOD_START, ZONE)
    engine = get_engine(app)
    assert run_period(engine, job, period) == "failed"
    assert [r.status for r in runs(session)] == ["failed"]
    assert run_period(engine, job, period, trigger="hand") == "succeeded"
    [run] = runs(session)
    assert (run.status, run.counts) == ("succeeded", {"written": 1})  # batch a was kept
    assert run_period(engine, job, period) == "skipped"
    total = session.execute(select(func.count()).select_from(AuditEntry).where(
        col(AuditEntry.action).startswith("test.job:2026-11-20:"))).scalar_one()
    session.commit()
    assert total == 2
