"""Foreign-access cases of the volunteers shifts pages (see tests/scope.py).

Each case function first stores some of community A's rota (a station, a shift tomorrow with
A's steward signed up, the steward's calendar key), so the manager of B has real targets.
The steward pages (/steward/...) take no area from the request: B's manager, who is no
steward, gets an empty page without A's data, and is refused A's shifts. The calendar feed
needs no login (its key is the secret): an unknown key is a 404.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from community import clock
from community.volunteers.models import Shift, ShiftAssignment, Steward
from tests import builders
from tests.builders import World
from tests.scope import Case, foreign
from tests.volunteers.shifts import builders as rb

A_STATION = "玉龙北门值守亭"
ABSENT = [A_STATION, "stewardrota"]


@dataclass
class AData:
    """Ids of A's rota objects the cases aim at."""

    shift: int
    steward: int
    assignment: int
    key: str


def _a_data(w: World) -> AData:
    owner = object_session(w.households_a[0])
    assert owner is not None
    # A session of our own, closed at once: an open SQLite transaction would lock the app out.
    with Session(owner.get_bind()) as session:
        row = session.exec(select(ShiftAssignment)).first()
        if row is None:
            st = builders.station(session, session.merge(w.a, load=False), A_STATION)
            sw = rb.steward(session, session.merge(w.a, load=False), name="stewardrota")
            sw.calendar_key = "k" * 32
            shift = rb.shift(session, st, clock.now() + timedelta(days=1), needed=2)
            row = rb.assignment(session, shift, sw)
        shift = session.get(Shift, row.shift_id)
        steward = session.get(Steward, row.steward_id)
        assert shift is not None
        assert steward is not None
        data = AData(shift.id, steward.id, row.id, steward.calendar_key or "")  # type: ignore
        session.commit()
    return data


@foreign("shifts.mine")
def _mine(w: World) -> list[Case]:
    _a_data(w)
    return [Case("GET", "/steward/shifts", expect=(200,), absent=ABSENT)]


@foreign("shifts.open_list")
def _open(w: World) -> list[Case]:
    _a_data(w)
    return [Case("GET", "/steward/shifts/open", expect=(200,), absent=ABSENT)]


@foreign("shifts.sign_up")
def _sign_up(w: World) -> list[Case]:
    d = _a_data(w)
    return [Case("POST", f"/steward/shifts/{d.shift}/sign-up", data={})]


@foreign("shifts.cancel")
def _cancel(w: World) -> list[Case]:
    d = _a_data(w)
    return [Case("POST", f"/steward/shifts/{d.shift}/cancel", data={})]


@foreign("shifts.new_calendar_link")
def _new_link(w: World) -> list[Case]:
    d = _a_data(w)
    return [Case("POST", f"/steward/calendar/{d.steward}/new-link", data={})]


@foreign("shifts.calendar")
def _calendar(w: World) -> list[Case]:
    d = _a_data(w)
    return [Case("GET", f"/steward/calendar/{'x' * 32}.ics", expect=(404,)),
            Case("GET", f"/steward/calendar/{d.key[:-1]}.ics", expect=(404,))]


@foreign("rota.index")
def _roster(w: World) -> list[Case]:
    _a_data(w)
    return [Case("GET", f"/manage/rota?community_id={w.a.id}"),
            Case("GET", f"/manage/rota?community_id={w.street_a.id}"),
            Case("GET", "/manage/rota", expect=(200,), absent=ABSENT)]


@foreign("rota.generate")
def _generate(w: World) -> list[Case]:
    _a_data(w)
    return [Case("POST", f"/manage/rota/generate?community_id={w.a.id}",
                 data={"weeks": "2", "needed": "1"})]


@foreign("rota.shift")
def _shift(w: World) -> list[Case]:
    d = _a_data(w)
    return [Case("GET", f"/manage/rota/shifts/{d.shift}")]


@foreign("rota.assign")
def _assign(w: World) -> list[Case]:
    d = _a_data(w)
    return [Case("POST", f"/manage/rota/shifts/{d.shift}/assign",
                 data={"steward_id": str(d.steward)})]


@foreign("rota.unassign")
def _unassign(w: World) -> list[Case]:
    d = _a_data(w)
    return [Case("POST", f"/manage/rota/assignments/{d.assignment}/unassign", data={})]


@foreign("rota.needed")
def _needed(w: World) -> list[Case]:
    d = _a_data(w)
    return [Case("POST", f"/manage/rota/shifts/{d.shift}/needed", data={"needed": "5"})]


@foreign("rota.coverage")
def _coverage(w: World) -> list[Case]:
    _a_data(w)
    return [Case("GET", f"/manage/rota/coverage?community_id={w.a.id}"),
            Case("GET", "/manage/rota/coverage", expect=(200,), absent=ABSENT)]


@foreign("rota.at_risk")
def _at_risk(w: World) -> list[Case]:
    _a_data(w)
    return [Case("GET", f"/manage/rota/at-risk?community_id={w.a.id}"),
            Case("GET", "/manage/rota/at-risk", expect=(200,), absent=ABSENT)]
