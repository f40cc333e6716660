"""Scope cases of the casework pages (community/casework/views.py); see tests/scope.py.

Community A gets a case (assigned to A's steward, with a note only A may read) and a drawn,
ungraded audit of one of A's drops. The manager of B can neither open, act on nor assign
A's case, nor grade, reveal or draw A's audits, nor read or publish A's rules; B's own
board, tasks and audit pages answer without A's data.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from community.casework.models import CaseRuleSet, MisdropCase, VerdictAudit
from tests import builders
from tests.builders import World
from tests.scope import Case, foreign

A_NOTE = "A户桶边指导记录"
A_MOMENT = datetime(2026, 11, 3, 0, 30, tzinfo=UTC)
A_WEEK = date(2026, 11, 2)


@dataclass
class AData:
    """Ids of A's casework data the cases aim at."""

    case: int
    audit: int
    graded: int


def _a_data(w: World) -> AData:
    owner = object_session(w.households_a[0])
    assert owner is not None
    # A session of our own, closed at once: an open SQLite transaction would lock the app out.
    with Session(owner.get_bind()) as session:
        case = session.exec(select(MisdropCase).where(
            MisdropCase.community_id == w.a.id)).first()
        if case is None:
            st = builders.station(session, w.a, "玉龙个案投放点")
            drops = [builders.drop(session, st, w.households_a[0], happened_at=A_MOMENT,
                                   quality=q, photo="x/1.jpg", recorded_by=w.steward_a.id)
                     for q in ("incorrect", "correct")]
            case = MisdropCase(community_id=w.a.id, household_id=w.households_a[0].id,
                               trigger_drop_id=drops[0].id, trigger_at=A_MOMENT,
                               window_start=A_WEEK, strikes=3, rule_version=1, close_after=5,
                               refund=False, opened_at=A_MOMENT, opened_on=A_WEEK,
                               task="bin_side", assignee_id=w.steward_a.id,
                               due_on=date(2026, 11, 9), done_note=A_NOTE)
            session.add(case)
            session.add(CaseRuleSet(community_id=w.a.id, version=1, effective_from=A_WEEK,
                                    params={"threshold": 4}))
            for drop, verdict in zip(drops, (None, "correct"), strict=True):
                session.add(VerdictAudit(
                    community_id=w.a.id, drop_id=drop.id, steward_id=w.steward_a.id,
                    week=A_WEEK, original=drop.quality, drawn_at=A_MOMENT,
                    verdict=verdict, auditor_id=w.manager_a.id if verdict else None,
                    graded_at=A_MOMENT if verdict else None))
            session.flush()
        audits = session.exec(select(VerdictAudit).where(
            VerdictAudit.community_id == w.a.id).order_by(VerdictAudit.id)).all()
        data = AData(case.id, audits[0].id, audits[1].id)  # type: ignore[arg-type]
        session.commit()
    return data


ADDRESS = "1栋1单元101室"
ABSENT = [A_NOTE, ADDRESS, "玉龙个案投放点"]


@foreign("casework.board")
def _board(w: World) -> list[Case]:
    _a_data(w)
    return [Case("GET", f"/casework?community_id={w.a.id}"),
            Case("GET", f"/casework?community_id={w.street_a.id}"),
            Case("GET", "/casework", expect=(200,), absent=ABSENT),
            Case("GET", f"/casework?community_id={w.b.id}", expect=(200,), absent=ABSENT)]


@foreign("casework.tasks")
def _tasks(w: World) -> list[Case]:
    _a_data(w)
    # A manager acts on cases: the page answers, with none of A's.
    return [Case("GET", "/casework/tasks", expect=(200,), absent=ABSENT)]


@foreign("casework.case")
def _case(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("GET", f"/casework/cases/{a.case}"),
            Case("GET", "/casework/cases/999999999")]


@foreign("casework.record_task")
def _record_task(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("POST", f"/casework/cases/{a.case}/task",
                 data={"task": "home_visit", "note": "外来记录"})]


@foreign("casework.assign")
def _assign(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("POST", f"/casework/cases/{a.case}/assign",
                 data={"assignee_id": str(w.manager_b.id), "task": "home_visit",
                       "due_on": "2030-01-01"})]


@foreign("casework.audits")
def _audits(w: World) -> list[Case]:
    _a_data(w)
    return [Case("GET", f"/casework/audits?community_id={w.a.id}"),
            Case("GET", "/casework/audits", expect=(200,), absent=ABSENT),
            Case("GET", f"/casework/audits?community_id={w.b.id}", expect=(200,),
                 absent=ABSENT)]


@foreign("casework.audit")
def _audit(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("GET", f"/casework/audits/{a.graded}"),
            Case("GET", f"/casework/audits/{a.audit}")]


@foreign("casework.grade")
def _grade(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("POST", f"/casework/audits/{a.audit}", data={"verdict": "incorrect"}),
            Case("POST", f"/casework/audits/{a.graded}", data={"verdict": "incorrect"})]


@foreign("casework.draw")
def _draw(w: World) -> list[Case]:
    _a_data(w)
    return [Case("POST", f"/casework/audits/draw?community_id={w.a.id}"),
            Case("POST", f"/casework/audits/draw?community_id={w.street_a.id}")]


@foreign("casework.rules")
def _rules(w: World) -> list[Case]:
    _a_data(w)
    return [Case("GET", f"/casework/rules?community_id={w.a.id}"),
            Case("GET", "/casework/rules", expect=(200,), absent=ABSENT)]


@foreign("casework.publish")
def _publish(w: World) -> list[Case]:
    _a_data(w)
    return [Case("POST", f"/casework/rules?community_id={w.a.id}",
                 data={"threshold": "2", "window_days": "30", "close_after": "5",
                       "due_days": "7", "task": "home_visit", "watch_cases": "2",
                       "watch_days": "180", "effective_from": "2030-01-01"})]
