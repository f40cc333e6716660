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
