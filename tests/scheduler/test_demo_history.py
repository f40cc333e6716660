"""The demo's job history: every periodic job but the yearly one has runs over the demo's
days, counts in words on the jobs page, one failure kept in the record but not as a job's
latest run, each job's latest due period left to the real scheduler but the daily digest's,
which the demo runs (the managers' inbox has it); written once."""
from __future__ import annotations

import random
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlmodel import Session

from community import clock
from community.db import open_session
from community.demo.context import Demo
from community.demo.jobs import add_job_history
from community.households.models import HouseholdMember
from community.inbox.models import Notification
from community.scheduler import history
from community.scheduler.models import JobRun
from community.scheduler.periods import Yearly
from community.scheduler.registry import JOBS
from community.scheduler.runner import due
from tests import builders

pytestmark = pytest.mark.real_db  # commits for real: see tests/conftest.py

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 10, 7, tzinfo=ZONE)


def test_demo_job_history(app: Flask, client: FlaskClient, session: Session,
                          world: builders.World) -> None:
    # Something waits in community A: a join request (the digest names it).
    applicant = builders.account(session, "resident", world.a, phone="13700009999")
    session.add(HouseholdMember(community_id=world.a.id, household_id=world.households_a[0].id,
                                account_id=applicant.id, status="pending"))
    session.commit()
    with clock.freeze(NOW), open_session(app) as demo_session:
        demo = Demo(session=demo_session, seed=7, echo=lambda _l: None, rng=random.Random(7))
        add_job_history(demo)
        made = demo.created
        add_job_history(demo)  # a second build adds nothing
        assert demo.created == made
    runs = list(session.execute(select(JobRun)).scalars())
    per_job = Counter(r.job for r in runs)
    yearly = {n for n, j in JOBS.items() if isinstance(j.cadence, Yearly)}
    assert "points.expire" in yearly
    assert set(per_job) == set(JOBS) - yearly
    assert per_job["points.verify"] == 59  # 60 days back, but the latest
    assert per_job["inbox.sms"] == 6 * 12 - 1  # six hours of 5-minute slots but the latest
    assert [r.error for r in runs if r.status == "failed"] == [
        "SMS provider: timed out after 10 s (will retry)"]
    assert history.failing_jobs(session) == 0  # the failure is not any job's latest run
    # The scheduler still has each job's latest due period to run (none claimed for it),
    # but the digest's: the demo ran it as the scheduler would, and the managers got it.
    from community.db import get_engine
    for name, job in JOBS.items():
        if name not in yearly:
            assert len(due(get_engine(app), job, ZONE, NOW)) == (name != "dashboard.digest"), name
    (digest_run,) = [r for r in runs if r.job == "dashboard.digest" and r.period == "2026-11-20"]
    assert (digest_run.status, digest_run.trigger) == ("succeeded", "schedule")
    assert digest_run.counts["digests"] >= 1
    sent = session.execute(select(Notification.kind, Notification.account_id)).all()
    assert ("daily_digest", world.manager_a.id) in sent
    session.commit()
    builders.login(client, world.city_admin)
    with clock.freeze(NOW):
        page = client.get("/admin/jobs/").get_data(as_text=True)
    assert page.count("从未运行") == len(yearly)  # the yearly jobs only
    assert "已发送：" in page  # counts in words (the SMS runs)
