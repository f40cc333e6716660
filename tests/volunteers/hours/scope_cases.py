"""Foreign-access cases of the volunteers hours pages (see tests/scope.py).

Each case function first stores community A's hours data once (a steward with a distinctive
name, a pending and an approved shift), so the foreign manager of B has real targets and a
leak of A's figures would show.

The steward's own pages (/steward/hours) are not exempt: they are tried with A's steward
id, which must be refused, and without one, which must answer without A's data (the manager
of B is no steward).

Exempt: `hours_public.verify`, the public certificate check. It belongs to no area and needs
no login by design (anyone holding a printed certificate may scan it); what it shows is
decided by the signed token alone, never by the visitor, and it writes nothing. Forged and
edited tokens are tested in tests/volunteers/hours/test_services.py.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from community.auth import services as auth_services
from community.volunteers.hours import services as hours
from community.volunteers.models import ShiftAssignment, Steward
from tests import builders
from tests.builders import World
from tests.scope import Case, exempt, foreign
from tests.volunteers.hours import builders as builders_hours

exempt("hours_public.verify")

A_NAME = "甲社区督导员"
ABSENT = [A_NAME, "玉龙社区"]
DAY = date(2026, 10, 12)
PERIOD = "day_from=2026-10-01&day_to=2026-10-31"


def _a_data(w: World) -> tuple[int, int, int]:
    """A's steward, its pending and its approved assignment (stored once per world)."""
    owner = object_session(w.a)
    assert owner is not None
    # A session of our own, closed at once: an open SQLite transaction would lock the app out.
    with Session(owner.get_bind()) as session:
        stw = session.exec(select(Steward).where(Steward.community_id == w.a.id)).first()
        if stw is None:
            st = builders.station(session, w.a, "A的投放点")
            stw = builders_hours.steward(session, w.a, name=A_NAME)
            builders_hours.worked(session, st, stw, DAY, start=7, minutes=100)
            approved = builders_hours.worked(session, st, stw, DAY, start=18, minutes=90)
            manager = auth_services.load_actor(session, w.manager_a.id)  # type: ignore
            hours.approve_hours(session, actor=manager, assignment_id=approved.id)  # type: ignore
            session.commit()
        rows = session.exec(select(ShiftAssignment).where(ShiftAssignment.steward_id == stw.id)
                            .order_by(ShiftAssignment.id)).all()
        out = (stw.id, rows[0].id, rows[1].id)
        session.commit()
    return out  # type: ignore[return-value]


@foreign("hours.pending")
def _pending(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("GET", f"/manage/volunteers/hours?community_id={w.a.id}"),
        Case("GET", f"/manage/volunteers/hours?community_id={w.street_a.id}"),
        Case("GET", f"/manage/volunteers/hours?community_id={w.city.id}"),
        Case("GET", "/manage/volunteers/hours", expect=(200,), absent=ABSENT),
    ]


@foreign("hours.detail")
def _detail(w: World) -> list[Case]:
    _sid, pending, approved = _a_data(w)
    return [Case("GET", f"/manage/volunteers/hours/{pending}"),
            Case("GET", f"/manage/volunteers/hours/{approved}")]


@foreign("hours.approve")
def _approve(w: World) -> list[Case]:
    _sid, pending, approved = _a_data(w)
    url = f"/manage/volunteers/hours/{pending}/approve"
    return [
        Case("POST", url, data={}),
        Case("POST", url, data={"minutes": "30", "reason": "外来修改"}),
        Case("POST", url, data={"minutes": "-5", "reason": ""}),  # refused, not shown A's page
        Case("POST", f"/manage/volunteers/hours/{approved}/approve", data={}),
        Case("GET", url, expect=(405,)),
    ]


@foreign("hours.approve_many")
def _approve_many(w: World) -> list[Case]:
    _sid, pending, _approved = _a_data(w)
    url = "/manage/volunteers/hours/approve"
    return [
        Case("POST", url, data={"community_id": str(w.a.id), "ids": [str(pending)]}),
        Case("POST", url, data={"community_id": str(w.b.id), "ids": [str(pending)]}),
        Case("POST", url, data={"community_id": str(w.a.id)}),
        Case("POST", url, data={"ids": [str(pending)]}),
    ]


@foreign("hours.report")
def _report(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("GET", f"/manage/volunteers/hours/report?community_id={w.a.id}&{PERIOD}"),
        Case("GET", f"/manage/volunteers/hours/report?community_id={w.a.id}"),
        Case("GET", f"/manage/volunteers/hours/report?community_id={w.street_a.id}"),
        Case("GET", f"/manage/volunteers/hours/report?{PERIOD}", expect=(200,), absent=ABSENT),
    ]


@foreign("hours.report_csv")
def _report_csv(w: World) -> list[Case]:
    _a_data(w)
    return [Case("GET", f"/manage/volunteers/hours/report.csv?community_id={w.a.id}&{PERIOD}"),
            Case("GET", f"/manage/volunteers/hours/report.csv?community_id={w.a.id}"),
            Case("GET", f"/manage/volunteers/hours/report.csv?{PERIOD}", expect=(200,),
                 absent=[A_NAME])]


@foreign("hours.report_xlsx")
def _report_xlsx(w: World) -> list[Case]:
    _a_data(w)
    return [Case("GET", f"/manage/volunteers/hours/report.xlsx?community_id={w.a.id}&{PERIOD}"),
            Case("GET", f"/manage/volunteers/hours/report.xlsx?month=2026-10"
                            f"&community_id={w.a.id}")]


@foreign("hours.certificate_pdf")
def _certificate(w: World) -> list[Case]:
    sid, _p, _a = _a_data(w)
    url = f"/manage/volunteers/hours/stewards/{sid}/certificate.pdf"
    return [Case("GET", f"{url}?{PERIOD}"), Case("GET", url)]


@foreign("my_hours.index")
def _mine(w: World) -> list[Case]:
    sid, _p, _a = _a_data(w)
    return [Case("GET", f"/steward/hours?steward_id={sid}"),
            Case("GET", "/steward/hours", expect=(200,), absent=ABSENT)]


@foreign("my_hours.certificate_mine")
def _mine_certificate(w: World) -> list[Case]:
    sid, _p, _a = _a_data(w)
    return [Case("GET", f"/steward/hours/certificate.pdf?steward_id={sid}&{PERIOD}"),
            Case("GET", f"/steward/hours/certificate.pdf?{PERIOD}")]
