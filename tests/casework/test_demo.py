"""The demo's casework step (community/demo/casework.py) on a small world: a steward's task
messages are dated when each case opened, carry its real due date and are read once the case
closed or the task was done; the latest week's audit sample waits ungraded (the blind
grading a manager opens), the week before is graded."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from community import clock
from community.casework.models import MisdropCase, VerdictAudit
from community.demo import casework as demo_casework
from community.demo.context import Demo
from community.inbox.models import Notification
from community.volunteers.models import Steward
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=SH)  # a Wednesday
WAITING, GRADED = date(2026, 11, 16), date(2026, 11, 9)


def test_demo_task_messages_are_dated_and_this_weeks_sample_waits(
        session: Session, world: builders.World) -> None:
    st = builders.station(session, world.a)
    session.add(Steward(community_id=world.a.id, account_id=world.steward_a.id,
                        status="approved"))
    hh0, hh1, hh2 = world.households_a

    def drop(hh, day: int, quality: str, category: str = "kitchen") -> None:
        builders.drop(session, st, hh, quality=quality, category=category,
                      recorded_by=world.steward_a.id,
                      happened_at=datetime(2026, 11, day, 7, 30, tzinfo=SH))

    for day in (10, 11, 12):  # a case, closed by the five correct drops after it
        drop(hh0, day, "incorrect")
    for day in range(13, 18):
        drop(hh0, day, "correct", "recyclable")
    for day in (20, 21, 22):  # a case still open
        drop(hh1, day, "incorrect")
    for day in range(9, 23):
        drop(hh2, day, "correct")
    session.commit()
    demo = Demo(session=session, seed=3, echo=lambda _line: None, rng=random.Random(3),
                communities={"a": world.a}, days=30)
    with clock.freeze(NOW):
        demo_casework.add_casework(demo)
    cases = {c.household_id: c for c in session.exec(select(MisdropCase))}
    assert cases[hh0.id].status == "closed"
    assert cases[hh1.id].status == "open"
    notes = {n.link: n for n in session.exec(select(Notification).where(
        Notification.account_id == world.steward_a.id, Notification.kind == "case_task"))}
    assert len(notes) == 2
    for case in cases.values():
        note = notes[f"/casework/cases/{case.id}"]
        assert note.created_at == case.opened_at < NOW - timedelta(days=2)
        assert note.params["due"] == case.due_on.isoformat()
        assert (note.read_at is None) == (case.status == "open" and case.done_at is None)
    assert cases[hh1.id].due_on == date(2026, 11, 29)
    assert notes[f"/casework/cases/{cases[hh0.id].id}"].read_at is not None
    audits = session.exec(select(VerdictAudit)).all()
    waiting = [a for a in audits if a.week == WAITING]
    graded = [a for a in audits if a.week == GRADED]
    assert waiting
    assert all(a.verdict is None for a in waiting)
    assert graded
    assert all(a.verdict is not None for a in graded)
    assert {a.week for a in audits} == {WAITING, GRADED}
