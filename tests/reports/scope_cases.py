"""Scope cases of the report pages (community/reports/views.py); see tests/scope.py.

Community A gets a report (with a note only A may read). The manager of B can neither open,
see the photo of, start, handle, confirm nor reopen it, nor file a report in A, nor read A's
board; B's own board and "my reports" answer without A's data; the overdue list and the
deadlines are not a manager's at all.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from community.reports.models import Report, ReportPlus
from tests import builders
from tests.builders import World
from tests.scope import Case, foreign

A_NOTE = "A社区满溢随手拍"
A_STATION = "玉龙随手拍投放点"
A_MOMENT = datetime(2026, 11, 3, 0, 30, tzinfo=UTC)
ABSENT = [A_NOTE, A_STATION]


def _a_report(w: World) -> int:
    owner = object_session(w.households_a[0])
    assert owner is not None
    # A session of our own, closed at once: an open SQLite transaction would lock the app out.
    with Session(owner.get_bind()) as session:
        report = session.exec(select(Report).where(Report.community_id == w.a.id)).first()
        if report is None:
            st = builders.station(session, w.a, A_STATION)
            due = A_MOMENT + timedelta(hours=4)
            report = Report(community_id=w.a.id, station_id=st.id, kind="overflow",
                            note=A_NOTE, photo="x/1-before.jpg", reporter_id=w.resident_a.id,
                            status="handled", level="community", route_area_id=w.a.id,
                            hours=4, created_at=A_MOMENT, due_at=due, level_due_at=due,
                            handled_at=due, handle_note="已清运", after_photo="x/1-after.jpg")
            session.add(report)
            session.flush()
        report_id = report.id
        session.commit()
    assert report_id is not None
    return report_id


@foreign("reports.new")
def _new(w: World) -> list[Case]:
    _a_report(w)
    return [Case("GET", f"/reports/new?community_id={w.a.id}"),
            Case("POST", "/reports/new", data={"community_id": str(w.a.id), "kind": "overflow",
                                               "station_id": "elsewhere", "place": "外来"}),
            Case("GET", "/reports/new", expect=(200,), absent=ABSENT)]


@foreign("reports.mine")
def _mine(w: World) -> list[Case]:
    _a_report(w)
    return [Case("GET", "/reports/mine", expect=(200,), absent=ABSENT)]


@foreign("reports.detail")
def _detail(w: World) -> list[Case]:
    r = _a_report(w)
    return [Case("GET", f"/reports/{r}"), Case("GET", "/reports/999999999")]


@foreign("reports.photo")
def _photo(w: World) -> list[Case]:
    r = _a_report(w)
    return [Case("GET", f"/reports/{r}/photo/before"), Case("GET", f"/reports/{r}/photo/after")]


@foreign("reports.plus_photo")
def _plus_photo(w: World) -> list[Case]:
    r = _a_report(w)
    owner = object_session(w.households_a[0])
    assert owner is not None
    with Session(owner.get_bind()) as session:
        plus = session.exec(select(ReportPlus).where(ReportPlus.report_id == r)).first()
        if plus is None:
            joiner = builders.account(session, "resident", w.a)
            plus = ReportPlus(report_id=r, account_id=joiner.id, note="A社区+1",
                              photo="x/1-plus1.jpg", at=A_MOMENT)
            session.add(plus)
            session.flush()
        plus_id = plus.id
        session.commit()
    return [Case("GET", f"/reports/{r}/plus/{plus_id}/photo"),
            Case("GET", f"/reports/{r}/plus/999999999/photo")]


@foreign("reports.start")
def _start(w: World) -> list[Case]:
    return [Case("POST", f"/reports/{_a_report(w)}/start")]


@foreign("reports.handle")
def _handle(w: World) -> list[Case]:
    return [Case("POST", f"/reports/{_a_report(w)}/handle", data={"note": "外来处理"})]


@foreign("reports.handle_page")
def _handle_page(w: World) -> list[Case]:
    # Only a redirect to the report's own page (which refuses B): nothing of A is sent.
    return [Case("GET", f"/reports/{_a_report(w)}/handle", expect=(302,), absent=ABSENT)]


@foreign("reports.confirm")
def _confirm(w: World) -> list[Case]:
    return [Case("POST", f"/reports/{_a_report(w)}/confirm")]


@foreign("reports.reopen")
def _reopen(w: World) -> list[Case]:
    return [Case("POST", f"/reports/{_a_report(w)}/reopen", data={"reason": "外来重开"})]


@foreign("reports.board")
def _board(w: World) -> list[Case]:
    _a_report(w)
    return [Case("GET", f"/reports/board?community_id={w.a.id}"),
            Case("GET", f"/reports/board?community_id={w.street_a.id}"),
            Case("GET", "/reports/board", expect=(200,), absent=ABSENT),
            Case("GET", f"/reports/board?community_id={w.b.id}&status=all", expect=(200,),
                 absent=ABSENT)]


@foreign("reports.overdue")
def _overdue(w: World) -> list[Case]:
    _a_report(w)
    return [Case("GET", "/reports/overdue"),
            Case("GET", f"/reports/overdue?area_id={w.street_a.id}")]


@foreign("reports.deadlines")
def _deadlines(w: World) -> list[Case]:
    return [Case("GET", "/reports/deadlines"),
            Case("POST", "/reports/deadlines", data={"overflow": "1"})]
