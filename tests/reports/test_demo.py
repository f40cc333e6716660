"""The demo's reports step (community/demo/reports.py) on the test world: reports in every
state with handling times around their deadlines, a few left overdue and escalated (with real
escalation rows and messages), and a second run changes nothing."""
from __future__ import annotations

import random
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session, col

from community import clock
from community.demo import reports as demo_reports
from community.demo.context import Demo
from community.reports import queries
from community.reports.models import Report, ReportEscalation
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=SH)


def test_demo_reports_in_every_state_with_some_escalated(session: Session,
                                                         world: builders.World) -> None:
    for name in ("一号", "二号"):
        st = builders.station(session, world.a, f"玉龙{name}投放点")
        st.chief_id = builders.account(session, "station_chief", world.a).id
        session.add(st)
    builders.account(session, "area_admin", world.district)
    session.commit()
    demo = Demo(session=session, seed=5, echo=lambda _line: None, rng=random.Random(5),
                communities={"a": world.a}, days=60)
    with clock.freeze(NOW):
        demo_reports.add_reports(demo)
        session.commit()
        made = demo.created
        demo_reports.add_reports(demo)  # a second run changes nothing
    reports = list(session.execute(select(Report)).scalars())
    assert len(reports) == made
    assert 25 <= made <= 80, made
    states = {r.status for r in reports}
    assert {"confirmed", "handled"} <= states
    assert states & {"new", "assigned", "in_progress", "reopened"}
    handled = [r for r in reports if r.handled_at is not None]
    assert all(r.handled_at > r.created_at for r in handled)
    late = [r for r in handled if r.handled_at > r.due_at]
    assert 0 < len(late) < len(handled) / 3  # a tail beyond the deadline, most on time
    escalations = session.execute(select(func.count()).select_from(ReportEscalation)
                                  ).scalar_one()
    assert escalations >= 1
    assert any(r.level != "community" for r in reports if r.kind != "mixed_collection")
    rate = queries.on_time_rate(session, world.a.id, date(2026, 10, 1), now=NOW)
    assert rate.value is not None
    assert 0.6 < rate.value < 1.0
    assert session.execute(select(func.count()).select_from(Report).where(
        col(Report.reporter_id).is_(None))).scalar_one() == 0


def test_demo_reports_follow_the_plus_one_rule(session: Session,
                                               world: builders.World) -> None:
    """No two reports of one kind at one station are open at once: a later one joined the
    open one (+1), as reports.services does, whatever state the open one is in."""
    from collections import Counter

    from community.reports import rules

    st = builders.station(session, world.a, "玉龙合并投放点")  # one station: repeats meet
    st.chief_id = builders.account(session, "station_chief", world.a).id
    session.add(st)
    session.commit()
    for seed in (1, 5, 9):
        demo = Demo(session=session, seed=seed, echo=lambda _line: None,
                    rng=random.Random(seed), communities={"a": world.a}, days=60)
        with clock.freeze(NOW):
            demo_reports.add_reports(demo)
        reports = list(session.execute(select(Report)).scalars())
        open_now = Counter((r.station_id, r.kind) for r in reports
                           if r.station_id is not None and r.status in rules.OPEN)
        assert max(open_now.values()) == 1, (seed, open_now)
        # Nor were two open at one moment: each opened after the one before it was handled.
        by_place: dict[tuple[int, str], list[Report]] = {}
        for r in sorted(reports, key=lambda r: r.created_at):
            if r.station_id is not None:
                by_place.setdefault((r.station_id, r.kind), []).append(r)
        for place, rows in by_place.items():
            for earlier, later in zip(rows, rows[1:], strict=False):
                assert earlier.handled_at is not None, (seed, place)
                assert earlier.handled_at <= later.created_at, (seed, place)
        session.rollback()
