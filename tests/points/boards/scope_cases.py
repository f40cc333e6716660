"""Foreign-access cases of the points board pages.

The manager of B tries A's honour board, A's street ranking and A's households through the
resident pages (/me/board takes a household id, so it gets cases too, not an exemption: a
household that is not one's own is 404 and its opt-out never changes).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from community import clock
from community.points.models import PointsAccount
from tests.builders import World
from tests.points.boards.helpers import earn
from tests.scope import Case, foreign

A_ROOMS = ["1栋1单元**1室", "1栋1单元**2室", "1栋1单元101室", "玉龙社区", "玉山镇"]


def _a_points(w: World) -> None:
    """A's households earn points this month and last (once per World)."""
    owner = object_session(w.households_a[0])
    assert owner is not None
    # A session of our own, closed at once: an open SQLite transaction would lock the app out.
    with Session(owner.get_bind()) as session:
        if session.exec(select(PointsAccount.id)).first() is None:
            now = clock.now()
            today = clock.local(now).date()
            for hh in w.households_a:
                earn(session, hh, date(today.year, today.month, 1), "kitchen", now=now)
            for hh in w.households_a[:2]:
                earn(session, hh, today, "kitchen", now=now)
        session.commit()


@foreign("board.index")
def _index(w: World) -> list[Case]:
    _a_points(w)
    return [
        Case("GET", f"/manage/board?community_id={w.a.id}"),
        Case("GET", f"/manage/board?community_id={w.street_a.id}"),
        Case("GET", f"/manage/board?area_id={w.street_a.id}"),
        Case("GET", f"/manage/board?area_id={w.district.id}"),
        Case("GET", f"/manage/board?community_id={w.b.id}&area_id={w.street_a.id}"),
        # B's own board answers, without anything of A.
        Case("GET", "/manage/board", expect=(200,), absent=A_ROOMS),
        Case("GET", f"/manage/board?community_id={w.b.id}&month=last", expect=(200,),
             absent=A_ROOMS),
    ]


@foreign("resident_board.mine")
def _mine(w: World) -> list[Case]:
    _a_points(w)
    return [
        Case("GET", f"/me/board?household_id={w.households_a[0].id}"),
        Case("GET", f"/me/board?household_id={w.households_a[1].id}&month=last"),
        # No household of one's own: back to the home page, nothing of A shown.
        Case("GET", "/me/board", expect=(302,), absent=A_ROOMS),
    ]


@foreign("resident_board.opt_out")
def _opt_out(w: World) -> list[Case]:
    return [
        Case("POST", "/me/board/opt-out",
             data={"household_id": str(w.households_a[0].id), "hide": "1"}),
        Case("POST", "/me/board/opt-out",
             data={"household_id": str(w.households_b[0].id), "hide": "1"}),
    ]
