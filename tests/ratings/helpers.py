"""Rollup rows of a whole month written directly (the figures a test wants, exactly), for the
rating page and demo tests; the services tests build theirs from real drops instead."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import insert
from sqlmodel import Session

from community import clock
from community.areas.models import Area
from community.households.models import Household
from community.ratings import services
from community.ratings.models import (
    CommunityDay,
    CoverageDay,
    HouseholdMonth,
    RollupDay,
    StationDay,
)


def month_rollup(session: Session, community: Area, station_id: int, month: date,
                 homes: list[Household], *, drops: int, identified: int, graded: int,
                 correct: int, out_of_window: int, households: int, scheduled: int,
                 staffed: int, kitchen_kg: str = "0", other_kg: str = "0") -> None:
    """One month of rollups for a community: kitchen drops on the 15th (other-waste weight
    on the side), `households` of `homes` dropping, active = every active home, and the
    month's coverage; every day marked rolled up."""
    first, last = services.month_days(month)
    mid = first + timedelta(days=14)
    rows = [{"station_id": station_id, "local_date": mid, "category": "kitchen",
             "community_id": community.id, "drops": drops, "identified": identified,
             "tallies": drops - identified, "graded": graded, "correct": correct,
             "incorrect": graded - correct, "out_of_window": out_of_window,
             "weighed": 1 if Decimal(kitchen_kg) else 0, "kg": Decimal(kitchen_kg)}]
    if Decimal(other_kg):
        rows.append({"station_id": station_id, "local_date": mid, "category": "other",
                     "community_id": community.id, "drops": 0, "identified": 0, "tallies": 0,
                     "graded": 0, "correct": 0, "incorrect": 0, "out_of_window": 0,
                     "weighed": 1, "kg": Decimal(other_kg)})
    session.execute(insert(StationDay.__table__), rows)
    active = sum(1 for h in homes if h.status == "active")
    session.execute(insert(CommunityDay.__table__), [
        {"community_id": community.id, "local_date": last, "households_dropped": households,
         "active_households": active}])
    if households:
        session.execute(insert(HouseholdMonth.__table__), [
            {"community_id": community.id, "month": first, "household_id": h.id}
            for h in homes[:households]])
    session.execute(insert(CoverageDay.__table__), [
        {"station_id": station_id, "local_date": mid, "community_id": community.id,
         "scheduled": scheduled, "staffed": staffed}])
    days = []
    day = first
    while day <= last:
        days.append({"community_id": community.id, "local_date": day, "built_at": clock.now()})
        day += timedelta(days=1)
    session.execute(insert(RollupDay.__table__), days)
