"""The job history page: jobs with their schedule and next run, recent runs, failures with
their errors; the city admin only; Chinese and English."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from community.db import get_engine
from community.scheduler.runner import Job, JobFailed, make_period, run_period
from tests import builders
from tests.residents.helpers import to_english
from tests.scheduler.jobs_for_tests import writer

pytestmark = pytest.mark.real_db  # commits for real: see tests/conftest.py

ZONE = ZoneInfo("Asia/Shanghai")


def _failing(session: Session, period) -> dict[str, int]:
    raise JobFailed("3 points account(s) drifted from their entries")


def test_city_admin_sees_jobs_runs_and_failures(app: Flask, client: FlaskClient,
                                                world: builders.World) -> None:
    engine = get_engine(app)
    ok = writer()
    bad = Job("test.failing", ok.cadence, _failing, "test", "test")
    run_period(engine, ok, make_period(ok, datetime(2026, 11, 19), ZONE))  # noqa: DTZ001
    run_period(engine, bad, make_period(bad, datetime(2026, 11, 20), ZONE))  # noqa: DTZ001
    builders.login(client, world.city_admin)
    page = client.get("/admin/jobs/").get_data(as_text=True)
    assert "定时任务" in page
    for name in ("points.expire", "points.verify", "maintenance.clean_up"):
        assert f'data-testid="job-{name}"' in page
    assert "每天 03:00" in page
    assert 'data-status="succeeded"' in page
    assert 'data-status="failed"' in page
    assert 'data-testid="jobs-failing"' in page  # the nav shows one job failing
    failures = client.get("/admin/jobs/?failed=1").get_data(as_text=True)
    assert "3 points account(s) drifted" in failures
    assert 'data-status="succeeded"' not in failures
    to_english(client, "/admin/jobs/")
    english = client.get("/admin/jobs/").get_data(as_text=True)
    assert "Scheduled jobs" in english
    assert "Every day at 03:00" in english


def test_others_are_refused(client: FlaskClient, world: builders.World) -> None:
    for who in (world.manager_a, world.area_admin_a, world.steward_a):
        client.post("/logout")
        builders.login(client, who)
        assert client.get("/admin/jobs/").status_code == 403


def test_jobs_have_titles_and_run_now_runs_a_due_period_once(
        app: Flask, client: FlaskClient, session: Session, world: builders.World) -> None:
    """'Run now' goes through the runner's claim: the due period runs once, a second click
    finds nothing due; the page names jobs in words and the audit log says who ran what."""
    from sqlalchemy import select

    from community.audit.models import AuditEntry
    from community.scheduler.models import JobRun

    builders.login(client, world.city_admin)
    page = client.get("/admin/jobs/").get_data(as_text=True)
    assert 'data-testid="job-title">积分账核对</strong>' in page
    assert 'data-testid="run-now"' in page
    resp = client.post("/admin/jobs/points.verify/run")
    assert resp.status_code == 302
    runs = list(session.execute(select(JobRun).where(JobRun.job == "points.verify")).scalars())
    assert [(r.status, r.trigger) for r in runs] == [("succeeded", "hand")]
    page = client.get("/admin/jobs/").get_data(as_text=True)
    assert f"积分账核对：{runs[0].period} 成功" in page
    assert "不一致的账户：0" in page  # the run's counts in words
    client.post("/admin/jobs/points.verify/run")
    page = client.get("/admin/jobs/").get_data(as_text=True)
    assert "积分账核对：没有待运行的周期，最近一期已运行。" in page
    session.commit()  # a fresh snapshot (SQLite keeps the read transaction's)
    assert len(session.execute(select(JobRun).where(JobRun.job == "points.verify")).all()) == 1
    audits = list(session.execute(select(AuditEntry).where(
        AuditEntry.action == "job.run_by_hand")).scalars())
    assert len(audits) == 2
    assert client.post("/admin/jobs/no.such/run").status_code == 404
    client.post("/logout")
    builders.login(client, world.manager_a)
    assert client.post("/admin/jobs/points.verify/run").status_code == 403
    session.commit()
