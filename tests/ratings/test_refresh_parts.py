"""The refresh rebuilds only what a dirty mark's causes can change, and on PostgreSQL the
districts in parallel, with the same rows as a full build."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select
from sqlmodel import Session, SQLModel, col

from community.db import get_engine
from community.dirty import services as dirty
from community.ratings import jobs, rollups
from community.ratings.models import (
    BuildingDay,
    CommunityDay,
    CoverageDay,
    HourDay,
    HouseholdMonth,
    RollupDay,
    StationDay,
)
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=SH)
TABLES: tuple[type[SQLModel], ...] = (StationDay, HourDay, BuildingDay, CommunityDay,
                                      CoverageDay, HouseholdMonth)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=SH)


def test_each_cause_rebuilds_the_parts_it_can_change() -> None:
    drop_parts = {"stations", "hours", "buildings", "household_months", "community"}
    assert rollups.parts_for({"drops": 2, "regrades": 0}) == drop_parts
    assert rollups.parts_for({"regrades": 1}) == {"stations", "hours", "buildings"}
    assert rollups.parts_for({"households": 1}) == {"community"}
    assert rollups.parts_for({"presence": 1, "schedule": 2}) == {"coverage"}
    assert rollups.parts_for({"presence": 1, "households": 1}) == {"coverage", "community"}
    # A cause the rollups do not know, or a mark without counts: everything.
    assert rollups.parts_for({"voids": 1}) == rollups.PARTS
    assert rollups.parts_for({"drops": 0}) == rollups.PARTS


def _rows(session: Session, community_ids: list[int]) -> dict[str, list[tuple]]:
    session.expire_all()
    out = {}
    for model in TABLES:
        t = model.__table__  # type: ignore[attr-defined]
        out[t.name] = sorted(tuple(str(v) for v in r) for r in session.execute(
            select(t).where(t.c.community_id.in_(community_ids))).all())
    return out


def test_a_presence_mark_rebuilds_coverage_only_and_a_drops_mark_the_drops(
        session: Session, world: builders.World) -> None:
    st = builders.station(session, world.a, "东门")
    h1, h2, _h3 = world.households_a
    builders.drop(session, st, h1, happened_at=at(7, 30), quality="correct")
    rollups.build_day(session, DAY, community_ids=[world.a.id], now=NOW)
    session.commit()
    # A drop stored without its mark (as if its mark were still to come): a presence-only
    # refresh leaves the drop rollups as they were, but rewrites the day's built_at.
    builders.drop(session, st, h2, happened_at=at(8, 0), quality="incorrect")
    dirty.mark(session, "presence", {(world.a.id, DAY): 1})
    session.commit()
    later = NOW + timedelta(hours=1)
    assert jobs.refresh_dirty(session, now=later)["days_rebuilt"] == 1
    [sd] = session.execute(select(StationDay).where(col(StationDay.local_date) == DAY)).scalars()
    assert (sd.drops, sd.incorrect) == (1, 0)
    [cd] = session.execute(select(CommunityDay).where(
        col(CommunityDay.community_id) == world.a.id)).scalars()
    assert cd.households_dropped == 1
    built = session.execute(select(RollupDay.built_at).where(
        col(RollupDay.community_id) == world.a.id)).scalar_one()
    assert built == later
    # Its mark arrives: the drop rollups now count it, exactly as a full build does.
    dirty.mark(session, "drops", {(world.a.id, DAY): 1})
    session.commit()
    assert jobs.refresh_dirty(session, now=later)["days_rebuilt"] == 1
    refreshed = _rows(session, [world.a.id])
    assert sum(int(r[4]) for r in refreshed["rollup_station_day"]) == 2  # drops
    rollups.build_day(session, DAY, community_ids=[world.a.id], now=later)
    assert _rows(session, [world.a.id]) == refreshed


@pytest.mark.real_db
def test_districts_are_rebuilt_in_parallel_with_the_rows_of_a_full_build(
        app: Flask, db_url: str, session: Session, world: builders.World) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite rebuilds one district after another (one writer)")
    # A second district with a community of its own, beside world's A and B (district 1).
    district2 = builders.area(session, world.city, "太仓市")
    c = builders.area(session, builders.area(session, district2, "城厢镇"), "东林社区")
    homes = {world.a.id: world.households_a, world.b.id: world.households_b,
             c.id: [builders.household(session, c, building="9") for _ in range(2)]}
    for cid, hhs in homes.items():
        community = session.get(type(world.a), cid)
        st = builders.station(session, community)
        for k, hh in enumerate(hhs):
            builders.drop(session, st, hh, happened_at=at(7, 10 + k), quality="correct")
            builders.drop(session, st, hh, happened_at=at(18, 30), category="other",
                          quality="incorrect", in_window=k % 2 == 0)
        builders.drop(session, st, None, happened_at=at(12, 0))  # a tally
    ids = sorted(homes)
    dirty.mark(session, "drops", {(cid, DAY): 1 for cid in ids})
    session.commit()
    with app.app_context():
        engine = get_engine()
    with Session(engine) as s:
        got = jobs.refresh_dirty(s, now=NOW, workers=2)
    assert got["days_rebuilt"] == 3
    parallel = _rows(session, ids)
    assert len(parallel["rollup_station_day"]) == 6  # 2 categories and 3 communities
    assert session.execute(select(dirty.DirtyDay)).all() == []
    rollups.build_day(session, DAY, community_ids=ids, now=NOW)
    assert _rows(session, ids) == parallel
