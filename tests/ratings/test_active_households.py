"""Active households at a period's end and participation, from the household history
(DOMAIN.md "Exact readings"), at the boundaries: a move-out at 23:59 of the month's last day
is not active at its end, one at 00:00 of the next month is; a household that moved in
mid-month counts from then; a household that dropped and moved out is in neither count, so
participation never exceeds 100%; a month without households is "not available"."""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from community.ratings import metrics, rollups
from community.ratings.models import CommunityDay
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=SH)
OCT_FIRST, OCT_LAST = date(2026, 10, 1), date(2026, 10, 31)


def local(day: date, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SH)


def _october(session: Session, community_id: int) -> metrics.Totals:
    return rollups.community_totals(session, [community_id], OCT_FIRST, OCT_LAST,
                                    now=NOW)[community_id]


@pytest.fixture
def community(session: Session, world: builders.World):
    """A community of its own (no builder households), with one station."""
    c = builders.area(session, world.street_a, "历史花园")
    return c, builders.station(session, c, "北门")


@pytest.mark.parametrize(("left", "active_at_end"), [
    (local(OCT_LAST, 23, 59), False),                  # took effect before the end
    (local(OCT_LAST, 23, 59, 59), False),
    (local(date(2026, 11, 1)), True),                   # the next month's first moment
])
def test_a_move_out_at_the_month_boundary(session: Session, community, left: datetime,
                                          active_at_end: bool) -> None:
    c, _ = community
    stays = builders.household(session, c)
    goes = builders.household(session, c)
    builders.household_event(session, goes, left, status="moved_out")
    session.commit()
    t = _october(session, c.id)
    assert t.active_households == (2 if active_at_end else 1)
    assert stays.status == "active"
    # The same reading through a rebuilt daily row of the month's last day.
    rollups.build_day(session, OCT_LAST, community_ids=[c.id], now=NOW)
    row = session.exec(select(CommunityDay).where(CommunityDay.community_id == c.id,
                                                  CommunityDay.local_date == OCT_LAST)).one()
    assert row.active_households == (2 if active_at_end else 1)


def test_a_household_that_moved_in_mid_month(session: Session, community) -> None:
    c, _ = community
    builders.household(session, c)
    builders.household(session, c, since=local(date(2026, 10, 15), 9))
    session.commit()
    assert _october(session, c.id).active_households == 2
    september = rollups.community_totals(session, [c.id], date(2026, 9, 1),
                                         date(2026, 9, 30), now=NOW)[c.id]
    assert september.active_households == 1
    # Daily rows: each day counts the households active at ITS end, whatever today's table.
    for day, expected in ((date(2026, 10, 14), 1), (date(2026, 10, 15), 2)):
        rollups.build_day(session, day, community_ids=[c.id], now=NOW)
        row = session.exec(select(CommunityDay).where(CommunityDay.community_id == c.id,
                                                      CommunityDay.local_date == day)).one()
        assert row.active_households == expected


def test_participation_never_exceeds_100_percent(session: Session, community) -> None:
    """Three households drop in October; two of them move out before its end; a fourth
    stays and never drops. Before: 3 dropped / 2 active = 150%. Now: 1 / 2."""
    c, st = community
    homes = [builders.household(session, c) for _ in range(4)]
    for hh in homes[:3]:
        builders.drop(session, st, hh, happened_at=local(date(2026, 10, 10), 8),
                      quality="correct")
    for hh in homes[1:3]:
        builders.household_event(session, hh, local(date(2026, 10, 20), 12),
                                 status="moved_out")
    session.commit()
    for day in (date(2026, 10, 10), date(2026, 10, 20)):  # rolled up, and read raw
        t = _october(session, c.id)
        assert (t.households_dropped, t.active_households) == (1, 2)
        assert metrics.all_metrics(t)["participation"] == 0.5
        rollups.build_day(session, day, community_ids=[c.id], now=NOW)
    row = session.exec(select(CommunityDay).where(
        CommunityDay.community_id == c.id, CommunityDay.local_date == date(2026, 10, 10))).one()
    assert (row.households_dropped, row.active_households) == (3, 4)  # all still there that day


def test_a_month_without_households_is_not_available(session: Session, community) -> None:
    c, st = community
    builders.drop(session, st, None, happened_at=local(date(2026, 10, 10), 8))  # a tally
    builders.household(session, c, since=datetime(2026, 11, 3, tzinfo=UTC))  # came later
    session.commit()
    t = _october(session, c.id)
    assert (t.households_dropped, t.active_households) == (0, 0)
    assert metrics.all_metrics(t)["participation"] is None  # "not available", never 0%


def test_many_communities_in_one_reading(session: Session, world: builders.World) -> None:
    """An area's communities in one call, each at its own end of the period."""
    t = rollups.community_totals(session, [world.a.id, world.b.id], OCT_FIRST, OCT_LAST,
                                 now=NOW)
    assert t[world.a.id].active_households == len(world.households_a)
    assert t[world.b.id].active_households == len(world.households_b)
