"""Escalation runs once per deadline with two schedulers (real commits, both backends): two
runners of the same period (job_run lets one through), and two runs of the job function
itself at once for different periods (the conditional update and the unique escalation row
let one through). Mirrors tests/scheduler/test_runner.py. Also: two first reports of the same
problem at once make one report and a +1 (the partial unique index settles the race)."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlmodel import Session, col

from community.db import get_engine
from community.inbox.models import Notification
from community.reports import jobs
from community.reports.models import Report, ReportEscalation
from community.scheduler.registry import JOBS
from community.scheduler.runner import make_period, run_period
from tests import builders

pytestmark = pytest.mark.real_db  # commits for real: see tests/conftest.py

SH = ZoneInfo("Asia/Shanghai")
MADE = datetime(2026, 11, 20, 8, 0, tzinfo=SH)


def _overdue_report(session: Session) -> tuple[int, int]:
    """A committed overflow report due at MADE + 4 h, and the street admin's account id."""
    w = builders.world(session)
    st = builders.station(session, w.a)
    due = MADE + timedelta(hours=4)
    report = Report(community_id=w.a.id, station_id=st.id, kind="overflow", note="满了",
                    reporter_id=w.resident_a.id, status="new", level="community",
                    route_area_id=w.a.id, hours=4, created_at=MADE, due_at=due,
                    level_due_at=due)
    session.add(report)
    session.commit()
    return report.id or 0, w.area_admin_a.id or 0


def _state(session: Session, report_id: int, admin_id: int) -> tuple[int, int, str]:
    session.expire_all()
    escalations = session.execute(select(func.count()).select_from(ReportEscalation)).scalar_one()
    told = session.execute(select(func.count()).select_from(Notification).where(
        col(Notification.account_id) == admin_id,
        col(Notification.kind) == "report_escalated")).scalar_one()
    level = session.execute(select(col(Report.level)).where(col(Report.id) == report_id)
                            ).scalar_one()
    session.commit()
    return escalations, told, level


def _together(*targets) -> list:
    barrier = threading.Barrier(len(targets))
    out: list = []
    errors: list[BaseException] = []

    def go(fn) -> None:
        try:
            barrier.wait(timeout=30)
            out.append(fn())
        except BaseException as exc:  # a failing thread fails the test, never hangs it
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=go, args=(fn,)) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return out


def test_two_schedulers_escalate_a_deadline_once(app: Flask, session: Session) -> None:
    report_id, admin = _overdue_report(session)
    job = JOBS["reports.escalate"]
    period = make_period(job, datetime(2026, 11, 20, 12, 10), SH)  # noqa: DTZ001 - local
    engine = get_engine(app)
    outcomes = _together(lambda: run_period(engine, job, period),
                         lambda: run_period(engine, job, period))
    assert sorted(outcomes) == ["skipped", "succeeded"]
    assert _state(session, report_id, admin) == (1, 1, "street")


def test_two_runs_of_the_job_at_once_escalate_a_deadline_once(app: Flask,
                                                             session: Session) -> None:
    report_id, admin = _overdue_report(session)
    engine = get_engine(app)
    late = MADE + timedelta(hours=4, minutes=10)

    def run(now: datetime):
        def fn() -> dict[str, int]:
            with Session(engine) as s:
                got = jobs.escalate(s, now=now)
                s.commit()
                return got
        return fn

    counts = _together(run(late), run(late + timedelta(minutes=10)))
    assert sorted(c["escalated"] for c in counts) == [0, 1]
    assert _state(session, report_id, admin) == (1, 1, "street")
    # Run again by hand for a later period, before the street's deadline: nothing more.
    with Session(engine) as s:
        assert jobs.escalate(s, now=late + timedelta(hours=1))["escalated"] == 0
        s.commit()
    assert _state(session, report_id, admin) == (1, 1, "street")


def test_two_first_reports_at_once_make_one_report_and_a_plus(app: Flask, session: Session,
                                                              tmp_path) -> None:
    from community.auth import services as auth_services
    from community.reports import services
    from community.reports.models import ReportPlus
    from community.reports.schemas import ReportIn
    from tests.reports.photos import jpeg

    w = builders.world(session)
    st = builders.station(session, w.a)
    other = builders.account(session, "resident", w.a)
    session.commit()
    engine = get_engine(app)
    data = ReportIn.parse(community_id=w.a.id, station_id=st.id, kind="overflow")

    def file(account_id: int):
        def fn() -> bool:
            with Session(engine) as s:
                filed = services.file_report(s, actor=auth_services.load_actor(s, account_id),
                                             data=data, photo=jpeg(), photo_dir=tmp_path,
                                             now=MADE)
                s.commit()
                return filed.joined
        return fn

    joined = _together(file(w.resident_a.id or 0), file(other.id or 0))
    assert sorted(joined) == [False, True]
    session.expire_all()
    reports = session.execute(select(Report)).scalars().all()
    pluses = session.execute(select(func.count()).select_from(ReportPlus)).scalar_one()
    session.commit()
    assert (len(reports), reports[0].plus_count, pluses) == (1, 1, 1)
