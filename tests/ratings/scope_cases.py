"""Foreign-access cases of the rating pages (see tests/scope.py).

Each case function first rates community A for October 2026 from rollups with a
distinctive scan rate (77.7%), so the foreign manager of B has a real target and a leak of
A's figures would show. The policy page, the simulator and publishing are the city admin's:
a manager is refused there whatever area they name.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from community.ratings import services
from community.ratings.models import Rating
from tests import builders
from tests.builders import World
from tests.ratings.helpers import month_rollup
from tests.scope import Case, foreign

OCT = date(2026, 10, 1)
ABSENT = ["玉龙社区", "77.7%"]
DRAFT = {"min_active_households": "0", "compliant_scan_rate": "50",
         "effective_month": "2099-01", "simulate_month": "2026-10", "note": "外来草案"}


def _a_rated(w: World) -> None:
    """Rate A's October once (from rollup rows written directly)."""
    owner = object_session(w.households_a[0])
    assert owner is not None
    # A session of our own, closed at once: an open SQLite transaction would lock the app out.
    with Session(owner.get_bind()) as session:
        if session.exec(select(Rating).where(Rating.community_id == w.a.id)).first():
            session.commit()
            return
        a = session.get(type(w.a), w.a.id)
        st = builders.station(session, a, "A北门")
        homes = [session.get(type(h), h.id) for h in w.households_a]
        month_rollup(session, a, st.id, OCT, homes, drops=1000, identified=777, graded=10,
                     correct=9, out_of_window=0, households=3, scheduled=62, staffed=62)
        services.rate_month(session, month=OCT,
                            now=datetime(2026, 11, 1, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
        session.commit()


@foreign("ratings.index")
def _index(w: World) -> list[Case]:
    _a_rated(w)
    return [
        Case("GET", "/manage/ratings", expect=(200,), absent=ABSENT),
        Case("GET", "/manage/ratings?month=2026-10", expect=(200,), absent=ABSENT),
        Case("GET", "/manage/ratings?month=2026-10&level=insufficient", expect=(200,),
             absent=ABSENT),
        Case("GET", f"/manage/ratings?month=2026-10&community_id={w.a.id}", expect=(200,),
             absent=ABSENT),
    ]


@foreign("ratings.community")
def _community(w: World) -> list[Case]:
    _a_rated(w)
    return [
        Case("GET", f"/manage/ratings/communities/{w.a.id}"),
        Case("GET", f"/manage/ratings/communities/{w.a.id}?month=2026-10"),
        Case("GET", f"/manage/ratings/communities/{w.street_a.id}"),
        Case("GET", f"/manage/ratings/communities/{w.city.id}"),
        Case("GET", "/manage/ratings/communities/999999"),
    ]


@foreign("ratings.policy")
def _policy(w: World) -> list[Case]:
    _a_rated(w)
    return [
        Case("GET", "/manage/ratings/policy"),
        Case("GET", f"/manage/ratings/policy?area_id={w.a.id}"),
        Case("GET", f"/manage/ratings/policy?area_id={w.b.id}"),  # even their own: city admin's
        Case("GET", f"/manage/ratings/policy?area_id={w.city.id}"),
    ]


@foreign("ratings.simulate")
def _simulate(w: World) -> list[Case]:
    _a_rated(w)
    return [
        Case("POST", f"/manage/ratings/policy/simulate?area_id={w.a.id}", data=DRAFT),
        Case("POST", f"/manage/ratings/policy/simulate?area_id={w.city.id}", data=DRAFT),
        Case("POST", "/manage/ratings/policy/simulate", data=DRAFT),
        Case("POST", f"/manage/ratings/policy/simulate?area_id={w.a.id}",
             data=DRAFT | {"compliant_scan_rate": "x"}),
        Case("GET", f"/manage/ratings/policy/simulate?area_id={w.a.id}", expect=(405,)),
    ]


@foreign("ratings.publish")
def _publish(w: World) -> list[Case]:
    _a_rated(w)
    return [
        Case("POST", f"/manage/ratings/policy?area_id={w.a.id}", data=DRAFT),
        Case("POST", f"/manage/ratings/policy?area_id={w.street_a.id}", data=DRAFT),
        Case("POST", f"/manage/ratings/policy?area_id={w.b.id}", data=DRAFT),
        Case("POST", "/manage/ratings/policy", data=DRAFT),
        Case("POST", f"/manage/ratings/policy?area_id={w.a.id}",
             data=DRAFT | {"min_active_households": "-1"}),
    ]
