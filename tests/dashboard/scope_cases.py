"""Scope cases for the dashboards; see tests/scope.py.

Community B's manager tries community A's dashboard and exports, the areas above A (street,
district, city: rankings and tonnages a manager never reads) and a tonnage entry for A's
street. Each case function first stores a rating and a tonnage entry of A's, so the pages
have A's data to leak.

Exempt: `dashboard.index` only redirects to the reader's own dashboard (no area in it).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from community.ratings.models import Rating, TonnageEntry
from tests import builders
from tests.builders import World
from tests.scope import Case, exempt, foreign

exempt("dashboard.index")

A_STATION = "玉龙仪表投放点"
OCT = date(2026, 10, 1)
TONNAGE = {"month": "2026-10", "recyclables": "1", "incineration_grate": "1",
           "incineration_fluid": "1", "kitchen": "1", "landfill": "1"}


def _a_data(w: World) -> None:
    owner = object_session(w.households_a[0])
    assert owner is not None
    # A session of our own, closed at once: an open SQLite transaction would lock the app out.
    with Session(owner.get_bind()) as session:
        if session.exec(select(Rating).where(Rating.community_id == w.a.id)).first() is None:
            builders.station(session, w.a, A_STATION)
            session.add(Rating(community_id=w.a.id, month=OCT, level="star",
                               metrics={"kitchen_accuracy": 0.97}, checks=[]))
            session.add(TonnageEntry(area_id=w.street_a.id, month=OCT,
                                     recyclables=Decimal("123.45"),
                                     incineration_grate=Decimal(0),
                                     incineration_fluid=Decimal(0), kitchen=Decimal(0),
                                     landfill=Decimal(0)))
        session.commit()


ABSENT = ["玉龙社区", A_STATION, "玉山镇", "123.45"]


@foreign("dashboard.community")
def _community(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("GET", f"/dashboard/community?community_id={w.a.id}"),
        Case("GET", f"/dashboard/community?community_id={w.a.id}&month=2026-10"),
        Case("GET", f"/dashboard/community?community_id={w.street_a.id}"),
        Case("GET", f"/dashboard/community?community_id={w.city.id}"),
        Case("GET", "/dashboard/community", expect=(200,), absent=ABSENT),
    ]


@foreign("dashboard.community_csv")
def _community_csv(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("GET", f"/dashboard/community/export.csv?community_id={w.a.id}"),
        Case("GET", f"/dashboard/community/export.csv?community_id={w.street_a.id}"),
        Case("GET", "/dashboard/community/export.csv", expect=(200,), absent=ABSENT),
    ]


@foreign("dashboard.community_xlsx")
def _community_xlsx(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("GET", f"/dashboard/community/export.xlsx?community_id={w.a.id}"),
        Case("GET", f"/dashboard/community/export.xlsx?community_id={w.street_a.id}"),
    ]


@foreign("dashboard.area")
def _area(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("GET", "/dashboard/area"),
        Case("GET", f"/dashboard/area?area_id={w.street_a.id}&month=2026-10"),
        Case("GET", f"/dashboard/area?area_id={w.district.id}"),
        Case("GET", f"/dashboard/area?area_id={w.city.id}"),
        Case("GET", f"/dashboard/area?area_id={w.a.id}"),
    ]


@foreign("dashboard.ranking")
def _ranking(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("GET", "/dashboard/ranking"),
        Case("GET", f"/dashboard/ranking?area_id={w.street_a.id}&month=2026-10"),
        Case("GET", f"/dashboard/ranking?area_id={w.city.id}&month=2026-10&sort=scan_rate"),
    ]


@foreign("dashboard.tonnage")
def _tonnage(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("GET", "/dashboard/tonnage"),
        Case("GET", f"/dashboard/tonnage?area_id={w.street_a.id}&month=2026-10"),
        Case("POST", f"/dashboard/tonnage?area_id={w.street_a.id}", data=TONNAGE),
        Case("POST", f"/dashboard/tonnage?area_id={w.city.id}", data=TONNAGE),
        Case("POST", f"/dashboard/tonnage?area_id={w.a.id}", data=TONNAGE),
        Case("POST", "/dashboard/tonnage", data=TONNAGE),
    ]
