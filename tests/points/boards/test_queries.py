"""Honour boards (红榜): masked rooms and month rankings of households, buildings and
communities from the ledger, on both backends."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from community.auth import services as auth_services
from community.points import services
from community.points.boards import queries as boards
from community.points.boards.queries import Month, mask_room
from community.points.rules import DropFacts
from community.points.schemas import AdjustIn
from tests import builders
from tests.points.boards.helpers import NOV, NOW, OCT
from tests.points.boards.helpers import earn as _earn
from tests.points.boards.helpers import household as _household
from tests.points.boards.helpers import regrade_ids as _regrade_ids

# --- Pure ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("building", "unit", "room", "expected"), [
    ("3", "2", "301", "3栋2单元**1室"),
    ("3", "2", "1201", "3栋2单元***1室"),
    ("3栋", "2单元", "1201", "3栋2单元***1室"),   # suffixes are not doubled
    ("12", "1", "B3", "12栋1单元**3室"),         # short rooms still get two stars
    ("1", "1", "1", "1栋1单元**1室"),
    ("5", "1", "302室", "5栋1单元**2室"),         # a room stored with 室
    ("A座", "3", "12A", "A座3单元***室"),         # no trailing digit: nothing of it shows
    ("7", "", "", "7栋**室"),
])
def test_mask_room(building: str, unit: str, room: str, expected: str) -> None:
    assert mask_room(building, unit, room) == expected
    bare = room.removesuffix("室")
    if len(bare) >= 2:
        assert bare not in expected  # never the full room number


def test_month_helpers() -> None:
    assert Month(2026, 1).previous() == Month(2025, 12)
    assert Month(2028, 2).last == date(2028, 2, 29)
    assert Month(2026, 12).last == date(2026, 12, 31)
    assert Month.parse("2026-10") == OCT
    assert [Month.parse(x) for x in ("2026-13", "2026-1", "abcd-ef", "", None)] == [None] * 5
    # The local month: 2026-10-31 16:30 UTC is already November in Shanghai.
    moment = datetime(2026, 10, 31, 16, 30, tzinfo=ZoneInfo("UTC"))
    assert boards.local_month(moment, "Asia/Shanghai") == NOV
    assert boards.local_month(moment, "UTC") == OCT


def test_competition_ranks() -> None:
    assert boards.competition_ranks([9, 6, 6, 2, 2, 1], lambda x: x) == [1, 2, 2, 4, 4, 6]
    assert boards.competition_ranks([], lambda x: x) == []


def _rows(board: boards.TopBoard) -> list[tuple[int, str, int]]:
    return [(r.rank, r.label, r.points) for r in board.rows]


def _earned(session: Session, hh, month: Month) -> int:
    """The board's measure by its definition, from every entry of the household
    (`points.facts.entries`): the month's earns and bonuses no entry reverses."""
    entries = builders.ledger(session, household=hh)
    undone = {e.reverses_id for e in entries if e.reverses_id is not None}
    return sum(e.amount for e in entries if e.kind in boards.EARNING_KINDS
               and month.first <= e.local_date <= month.last and e.id not in undone)


def _regrade(session: Session, drop_id: int, quality: str) -> None:
    """Regrade a drop as the stations do: its row first, then its household's points."""
    from community.stations.models import Drop

    drop = session.get(Drop, drop_id)
    assert drop is not None
    assert drop.household_id is not None
    drop.quality = quality
    session.flush()
    services.reverse_and_reaward(
        session, facts=DropFacts(drop.id, drop.household_id, drop.category, quality,
                                 drop.in_window, drop.local_date),
        community_id=drop.community_id, regrade_id=next(_regrade_ids), now=NOW)
    session.commit()


# --- Rankings ------------------------------------------------------------------------------

def test_top_households_ties_share_a_rank_and_opt_out_is_skipped(session: Session,
                                                                  ranked) -> None:
    world, opted, idle, gone = ranked
    top = boards.top_households(session, community_id=world.a.id, month=NOV)
    assert _rows(top) == [(1, "1栋1单元**1室", 6), (1, "1栋1单元**2室", 6),
                          (3, "1栋1单元**3室", 2)]
    assert top.ranked == 3
    assert top.tied_beyond == 0
    shown = {r.household_id for r in top.rows}
    assert opted.id not in shown
    assert idle.id not in shown
    assert gone.id not in shown
    # Another community's board is its own: B has earned nothing.
    assert boards.top_households(session, community_id=world.b.id, month=NOV).rows == []
    # Last month is empty: everything was earned in November.
    assert boards.top_households(session, community_id=world.a.id, month=OCT).ranked == 0


def test_a_tie_beyond_the_limit_is_counted(session: Session, world: builders.World) -> None:
    extra = [_household(session, world.a, "3", f"30{i}") for i in range(1, 3)]
    for hh in [*world.households_a, *extra]:
        _earn(session, hh, date(2026, 11, 10), "kitchen")
    top = boards.top_households(session, community_id=world.a.id, month=NOV, limit=3)
    assert [r.rank for r in top.rows] == [1, 1, 1]
    assert (top.ranked, top.tied_beyond) == (5, 2)


def test_household_rank_even_when_opted_out(session: Session, ranked) -> None:
    world, opted, idle, _gone = ranked
    h1, _h2, h3 = world.households_a
    assert boards.household_rank(session, household=opted, month=NOV) == boards.MyRank(
        points=8, rank=1, ranked=4, opted_out=True)
    # The others' ranks ignore the opted-out household.
    assert boards.household_rank(session, household=h1, month=NOV) == boards.MyRank(
        6, 1, 3, False)
    assert boards.household_rank(session, household=h3, month=NOV) == boards.MyRank(
        2, 3, 3, False)
    assert boards.household_rank(session, household=idle, month=NOV) == boards.MyRank(
        0, None, 3, False)


def test_reversed_earnings_and_other_entries_do_not_count(session: Session,
                                                          world: builders.World) -> None:
    h1, h2, _h3 = world.households_a
    day = date(2026, 11, 2)
    _kept, undone = _earn(session, h1, day, "kitchen", "kitchen")  # 4 points
    _earn(session, h2, day, "hazardous")  # 3 points
    assert _rows(boards.top_households(session, community_id=world.a.id, month=NOV)) == [
        (1, "1栋1单元**1室", 4), (2, "1栋1单元**2室", 3)]
    # A regrade to incorrect reverses the second drop's earning (and adds a strike).
    _regrade(session, undone, "incorrect")
    # A manager's adjustment moves the balance, never the board.
    manager = auth_services.load_actor(session, world.manager_a.id)
    services.adjust(session, actor=manager, household_id=h2.id,
                    data=AdjustIn.parse(amount=50, reason="活动奖励"),
                    now=NOW)
    session.commit()
    assert services.balance(session, h1.id) == 2
    assert services.balance(session, h2.id) == 53
    assert _rows(boards.top_households(session, community_id=world.a.id, month=NOV)) == [
        (1, "1栋1单元**2室", 3), (2, "1栋1单元**1室", 2)]
    assert boards.household_rank(session, household=h1, month=NOV).points == 2
    assert _earned(session, h1, NOV) == 2
    # Regraded back: the earn deserved again is a ledger entry, and counts (the drop row's
    # own earn stays reversed).
    _regrade(session, undone, "correct")
    assert [(e.kind, e.amount) for e in builders.ledger(session, household=h1)] == [
        ("earn", 2), ("earn", 2), ("reversal", -2), ("earn", 2)]
    assert _rows(boards.top_households(session, community_id=world.a.id, month=NOV)) == [
        (1, "1栋1单元**1室", 4), (2, "1栋1单元**2室", 3)]
    assert boards.household_points(session, community_id=world.a.id, household_id=h1.id,
                                   month=NOV) == _earned(session, h1, NOV) == 4


def test_a_voided_drop_leaves_the_board(session: Session, world: builders.World) -> None:
    from community.stations.models import Drop

    h1 = world.households_a[0]
    day = date(2026, 11, 2)
    _kept, voided = _earn(session, h1, day, "kitchen", "hazardous")  # 2 + 3
    assert boards.household_rank(session, household=h1, month=NOV).points == 5
    drop = session.get(Drop, voided)
    assert drop is not None
    drop.voided_at = NOW
    session.flush()
    services.void_drop(session, facts=DropFacts(voided, h1.id, "hazardous", "correct", True, day),
                       community_id=world.a.id, now=NOW)
    session.commit()
    # Its own earn stays on its row, taken back by a ledger reversal: off the board.
    assert [(e.kind, e.amount) for e in builders.ledger(session, household=h1)] == [
        ("earn", 2), ("earn", 3), ("reversal", -3)]
    assert _rows(boards.top_households(session, community_id=world.a.id, month=NOV)) == [
        (1, "1栋1单元**1室", 2)]
    assert boards.household_points(session, community_id=world.a.id, household_id=h1.id,
                                   month=NOV) == _earned(session, h1, NOV) == 2


def test_month_boundaries_follow_local_date(session: Session, world: builders.World) -> None:
    h1, h2, _h3 = world.households_a
    _earn(session, h1, date(2026, 10, 31), "hazardous")  # October
    _earn(session, h1, date(2026, 11, 1), "other")  # November
    _earn(session, h1, date(2026, 11, 30), "kitchen")  # November
    _earn(session, h2, date(2026, 12, 1), "hazardous")  # December
    assert _rows(boards.top_households(session, community_id=world.a.id, month=OCT)) == [
        (1, "1栋1单元**1室", 3)]
    assert _rows(boards.top_households(session, community_id=world.a.id, month=NOV)) == [
        (1, "1栋1单元**1室", 3)]
    assert _rows(boards.top_households(session, community_id=world.a.id,
                                       month=Month(2026, 12))) == [(1, "1栋1单元**2室", 3)]


def test_streak_bonus_counts(session: Session, world: builders.World) -> None:
    hh = world.households_a[0]
    for d in range(1, 8):  # seven days in a row: 7 × 2 + the 5-point bonus
        _earn(session, hh, date(2026, 11, d), "kitchen")
    assert boards.household_rank(session, household=hh, month=NOV).points == 19


def test_building_ranking_averages_active_households(session: Session, ranked) -> None:
    world, *_ = ranked
    rows = boards.building_ranking(session, community_id=world.a.id, month=NOV)
    # Building 1: (6 + 6 + 2) / 3; building 2: the opted-out 8 and the idle 0 over two
    # active households (the moved-out household counts nowhere).
    assert [(r.rank, r.label, r.households, r.points, r.average) for r in rows] == [
        (1, "1栋", 3, 14, 4.7), (2, "2栋", 2, 8, 4.0)]


def test_building_ties_share_a_rank(session: Session, world: builders.World) -> None:
    other = _household(session, world.a, "2", "201")
    _earn(session, other, date(2026, 11, 3), "kitchen")  # building 2: 2 / 1
    for hh in world.households_a:  # building 1: 6 / 3
        _earn(session, hh, date(2026, 11, 3), "kitchen")
    rows = boards.building_ranking(session, community_id=world.a.id, month=NOV)
    assert [(r.rank, r.label, r.average) for r in rows] == [(1, "1栋", 2.0), (1, "2栋", 2.0)]


def test_community_ranking_of_a_street(session: Session, ranked) -> None:
    world, *_ = ranked
    a2 = builders.area(session, world.street_a, "玉湖社区")
    empty = builders.area(session, world.street_a, "新建社区")
    session.commit()
    _earn(session, _household(session, a2, "1", "101"), date(2026, 11, 8), "hazardous",
          "hazardous")
    _household(session, a2, "1", "102")
    b_hh = world.households_b[0]
    _earn(session, b_hh, date(2026, 11, 8), "hazardous", "hazardous")  # another street
    rows = boards.community_ranking(session, parent=world.street_a, month=NOV)
    # A: 14 + 8 (opted out, still counted) over 5 active households = 4.4; 玉湖: 6 / 2 = 3.
    assert [(r.rank, r.label, r.households, r.points) for r in rows] == [
        (1, "玉龙社区", 5, 22), (2, "玉湖社区", 2, 6), (None, "新建社区", 0, 0)]
    assert rows[-1].average is None
    assert str(empty.id) == rows[-1].key
    district = boards.community_ranking(session, parent=world.district, month=NOV)
    # The pages share a street's ranking for a few minutes; a new earning shows after that.
    cached = boards.cached_community_ranking(session, parent=world.street_a, month=NOV)
    _earn(session, _household(session, a2, "1", "103"), date(2026, 11, 9), "hazardous")
    assert boards.cached_community_ranking(session, parent=world.street_a, month=NOV) is cached
    boards.forget_rankings()
    fresh = boards.cached_community_ranking(session, parent=world.street_a, month=NOV)
    assert [(r.label, r.households, r.points) for r in fresh][1] == ("玉湖社区", 3, 9)
    assert [(r.rank, r.label) for r in district] == [
        (1, "玉龙社区"), (2, "玉湖社区"), (3, "金浦社区"), (None, "新建社区")]
    assert district[2].average == 2.0

