"""Daily rollups on both backends: equal to a direct recount of the raw drops, idempotent,
local-midnight boundaries, by hour and building, steward coverage at window edges, and
totals that merge today's raw rows."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlmodel import Session, SQLModel, col

from community.ratings import metrics, rollups
from community.ratings.models import (
    BuildingDay,
    CommunityDay,
    CoverageDay,
    HourDay,
    HouseholdMonth,
    StationDay,
)
from community.stations.models import Drop
from community.volunteers.models import Shift, ShiftAssignment, Steward
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 20)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH)


@pytest.fixture
def scene(session: Session, world: builders.World):
    """Two stations in A (7–9 and 18–20 windows), one in B, and a day of mixed drops."""
    st1 = builders.station(session, world.a, "东门")
    st2 = builders.station(session, world.a, "西门")
    st_b = builders.station(session, world.b, "南门")
    h1, h2, h3 = world.households_a
    drop = builders.drop
    drop(session, st1, h1, happened_at=at(7, 30), category="kitchen", quality="correct",
         weight_kg=Decimal("1.5"))
    drop(session, st1, h1, happened_at=at(7, 40), category="other", quality="incorrect")
    drop(session, st1, h2, happened_at=at(12, 0), category="kitchen", quality="ungraded",
         in_window=False)
    drop(session, st1, None, happened_at=at(19, 0), category="kitchen", quality="correct")
    drop(session, st2, h3, happened_at=at(18, 30), category="recyclable", quality="correct",
         weight_kg=Decimal("0.5"))
    # Local midnight: 23:59 on the 20th counts on the 20th, 00:00 on the 21st does not.
    drop(session, st2, h2, happened_at=at(23, 59), category="other", quality="correct",
         in_window=False)
    drop(session, st2, h3, happened_at=at(0, 0, DAY + timedelta(days=1)), category="other",
         quality="correct", in_window=False)
    drop(session, st_b, world.households_b[0], happened_at=at(8, 0), category="kitchen",
         quality="correct")
    session.commit()
    return world, st1, st2, st_b


def _table_rows(session: Session, model: type[SQLModel]) -> list[tuple]:
    table = model.__table__
    rows = session.execute(select(table).order_by(*table.primary_key.columns)).all()
    session.commit()
    return [tuple(r) for r in rows]


def _recount(session: Session, community_id: int, day: date) -> dict[str, int]:
    rows = session.execute(select(Drop).where(col(Drop.community_id) == community_id,
                                              col(Drop.local_date) == day)).scalars().all()
    session.commit()
    return {"drops": len(rows),
            "identified": sum(1 for d in rows if d.household_id),
            "graded": sum(1 for d in rows if d.quality in ("correct", "incorrect")),
            "correct": sum(1 for d in rows if d.quality == "correct"),
            "out_of_window": sum(1 for d in rows if not d.in_window)}


def test_a_day_equals_a_direct_recount_and_is_idempotent(app: Flask, session: Session,
                                                          scene) -> None:
    world, st1, st2, _st_b = scene
    got = rollups.build_day(session, DAY)
    session.commit()
    assert got.drops == 7
    totals = rollups.community_totals(session, [world.a.id, world.b.id], DAY, DAY,
                                      now=at(12, 0, DAY + timedelta(days=5)))
    for community in (world.a, world.b):
        c = totals[community.id].all
        assert {"drops": c.drops, "identified": c.identified, "graded": c.graded,
                "correct": c.correct, "out_of_window": c.out_of_window} == \
            _recount(session, community.id, DAY)
    a = totals[world.a.id]
    assert a.all.tallies == 1
    assert a.all.kg == Decimal("2.0")
    assert a.category("kitchen").kg == Decimal("1.5")
    assert a.households_dropped == 3
    assert a.active_households == 3
    assert metrics.kitchen_separation(a) == pytest.approx(0.75)
    before = {m.__name__: _table_rows(session, m)
              for m in (StationDay, HourDay, BuildingDay, CommunityDay, CoverageDay,
                        HouseholdMonth)}
    rollups.build_day(session, DAY)
    session.commit()
    assert {m.__name__: _table_rows(session, m)
            for m in (StationDay, HourDay, BuildingDay, CommunityDay, CoverageDay,
                      HouseholdMonth)} == before


def test_hours_are_local_and_buildings_group_identified_drops(session: Session, scene) -> None:
    world, *_ = scene
    rollups.build_day(session, DAY)
    session.commit()
    hours = {h: (d, o) for _c, _day, h, d, o, _g, _k in _table_rows(session, HourDay)
             if _c == world.a.id}
    assert hours == {7: (2, 0), 12: (1, 1), 18: (1, 0), 19: (1, 0), 23: (1, 1)}
    buildings = [r for r in _table_rows(session, BuildingDay) if r[0] == world.a.id]
    assert [(r[2], r[3]) for r in buildings] == [("1", 5)]  # the tally has no building


def test_a_later_drop_of_a_rebuilt_day_is_counted(session: Session, scene) -> None:
    world, st1, *_ = scene
    rollups.build_day(session, DAY)
    session.commit()
    builders.drop(session, st1, world.households_a[2], happened_at=at(8, 30),
                  quality="correct")  # an offline phone syncing late
    session.commit()
    rollups.build_day(session, DAY)
    session.commit()
    totals = rollups.community_totals(session, [world.a.id], DAY, DAY,
                                      now=at(12, 0, DAY + timedelta(days=2)))
    assert totals[world.a.id].all.drops == 7


def test_today_is_merged_from_raw_rows_since_local_midnight(session: Session, scene) -> None:
    world, st1, *_ = scene
    rollups.build_day(session, DAY)  # yesterday, seen from the 21st
    session.commit()
    now = at(10, 0, DAY + timedelta(days=1))
    totals = rollups.community_totals(session, [world.a.id], DAY, DAY + timedelta(days=1),
                                      now=now)
    # The 21st is not rolled up: its one drop (00:00) comes from the raw table.
    assert totals[world.a.id].all.drops == 7
    assert totals[world.a.id].households_dropped == 3
    today_only = rollups.community_totals(session, [world.a.id], DAY + timedelta(days=1),
                                          DAY + timedelta(days=1), now=now)
    assert today_only[world.a.id].all.drops == 1
    # A future day is never read from raw rows (nothing there anyway) and adds nothing.
    later = rollups.community_totals(session, [world.a.id], DAY + timedelta(days=2),
                                     DAY + timedelta(days=3), now=now)
    assert later[world.a.id].all.drops == 0


def test_steward_coverage_counts_windows_with_a_check_in_inside(session: Session,
                                                                scene) -> None:
    world, st1, st2, _st_b = scene
    steward = Steward(community_id=world.a.id, account_id=world.steward_a.id,
                      status="approved")
    session.add(steward)
    session.flush()

    def shift(st, start: int, end: int, checked_in, checked_out) -> None:
        s = Shift(community_id=world.a.id, station_id=st.id, local_date=DAY,
                  starts_at=at(start), ends_at=at(end))
        session.add(s)
        session.flush()
        session.add(ShiftAssignment(shift_id=s.id, steward_id=steward.id,
                                    checked_in_at=checked_in, checked_out_at=checked_out,
                                    status="done" if checked_out else "signed_up"))

    # st1: morning staffed (in at 06:50, before the start, out at 09:00); evening: checked in
    # exactly at the window's end → not staffed.
    shift(st1, 7, 9, at(6, 50), at(9, 0))
    shift(st1, 18, 20, at(20, 0), at(20, 30))
    # st2: the evening steward checked out exactly at the start → not staffed; morning none.
    shift(st2, 18, 20, at(17, 0), at(18, 0))
    session.commit()
    rollups.build_day(session, DAY)
    session.commit()
    totals = rollups.community_totals(session, [world.a.id], DAY, DAY,
                                      now=at(12, 0, DAY + timedelta(days=3)))
    assert (totals[world.a.id].windows_scheduled, totals[world.a.id].windows_staffed) == (4, 1)
    assert metrics.steward_coverage(1, 4) == 0.25


def test_participation_over_a_month_counts_distinct_households(session: Session,
                                                               scene) -> None:
    world, st1, *_ = scene
    builders.drop(session, st1, world.households_a[0], happened_at=at(8, 0, DAY.replace(
        day=2)), quality="correct")
    session.commit()
    for day in (DAY.replace(day=2), DAY, DAY + timedelta(days=1)):
        rollups.build_day(session, day)
    session.commit()
    month = rollups.month_start(DAY)
    totals = rollups.community_totals(session, [world.a.id], month, date(2026, 11, 30),
                                      now=at(12, 0, date(2026, 12, 2)))
    assert totals[world.a.id].households_dropped == 3  # h1 on two days counts once
    rows = session.execute(select(func.count()).select_from(HouseholdMonth).where(
        col(HouseholdMonth.community_id) == world.a.id)).scalar_one()
    session.commit()
    assert rows == 3


def test_a_city_without_communities_builds_nothing(session: Session) -> None:
    got = rollups.build_day(session, DAY)
    session.commit()
    assert (got.communities, got.drops) == (0, 0)
    assert _table_rows(session, CommunityDay) == []
