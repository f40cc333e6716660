"""Honour boards (红榜): masked rooms, month rankings of households, buildings and communities
from the ledger, opt-out, and the resident and manager pages, on both backends."""
from __future__ import annotations

import itertools
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session

from community import clock
from community.areas.models import Area
from community.auth import services as auth_services
from community.households.models import Household, HouseholdMember
from community.points import boards, services
from community.points.boards import Month, mask_room
from community.points.rules import DropFacts
from tests import builders
from tests.residents.helpers import to_english

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=SH)
NOV, OCT = Month(2026, 11), Month(2026, 10)
_drop_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _fresh_rankings():
    """Area rankings are cached per (database, area, month); ids repeat across test databases."""
    boards.forget_rankings()
    yield
    boards.forget_rankings()


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


# --- Ledger helpers ------------------------------------------------------------------------

def _earn(session: Session, hh: Household, day: date, *categories: str) -> list[int]:
    """Score one correct in-window drop per category for `hh` on `day` (fake drop ids)."""
    facts = [DropFacts(next(_drop_ids), hh.id, c, "correct", True, day) for c in categories]
    services.award_for_drops(session, facts, community_id=hh.community_id, now=NOW)
    session.commit()
    return [f.drop_id for f in facts]


def _household(session: Session, community: Area, building: str, room: str, *,
               status: str = "active", opt_out: bool = False) -> Household:
    hh = builders.household(session, community, building=building, unit="1", room=room,
                            with_card=False)
    hh.status, hh.honour_opt_out = status, opt_out
    session.add(hh)
    session.commit()
    return hh


def _rows(board: boards.TopBoard) -> list[tuple[int, str, int]]:
    return [(r.rank, r.label, r.points) for r in board.rows]


@pytest.fixture
def ranked(session: Session, world: builders.World):
    """Community A this November: 101 and 102 tie at 6, 103 has 2, an opted-out household has
    8, one has nothing and a moved-out one has 6."""
    h1, h2, h3 = world.households_a
    opted = _household(session, world.a, "2", "201", opt_out=True)
    idle = _household(session, world.a, "2", "202")
    gone = _household(session, world.a, "2", "203", status="moved_out")
    _earn(session, h1, date(2026, 11, 2), "hazardous", "hazardous")
    _earn(session, h2, date(2026, 11, 3), "kitchen", "kitchen", "kitchen")
    _earn(session, h3, date(2026, 11, 4), "kitchen")
    _earn(session, opted, date(2026, 11, 5), "hazardous", "hazardous")
    _earn(session, opted, date(2026, 11, 6), "kitchen")
    _earn(session, gone, date(2026, 11, 5), "hazardous", "hazardous")
    return world, opted, idle, gone


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
    services.reverse_and_reaward(
        session, facts=DropFacts(undone, h1.id, "kitchen", "incorrect", True, day),
        community_id=world.a.id, regrade_id=next(_drop_ids), now=NOW)
    # A manager's adjustment moves the balance, never the board.
    manager = auth_services.load_actor(session, world.manager_a.id)
    services.adjust(session, actor=manager, household_id=h2.id, amount=50, reason="活动奖励",
                    now=NOW)
    session.commit()
    assert services.balance(session, h1.id) == 2
    assert services.balance(session, h2.id) == 53
    assert _rows(boards.top_households(session, community_id=world.a.id, month=NOV)) == [
        (1, "1栋1单元**2室", 3), (2, "1栋1单元**1室", 2)]
    assert boards.household_rank(session, household=h1, month=NOV).points == 2


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


# --- Opt-out service -----------------------------------------------------------------------

def _member(session: Session, hh: Household, account_id: int, status: str = "approved") -> None:
    session.add(HouseholdMember(household_id=hh.id, account_id=account_id, status=status))
    session.commit()


def test_opt_out_needs_approved_membership(session: Session, world: builders.World) -> None:
    from community.errors import InvalidInput, NotFound

    h1, h2, _h3 = world.households_a
    _member(session, h1, world.resident_a.id)
    _member(session, h2, world.resident_a.id, status="pending")
    got = boards.set_honour_opt_out(session, account_id=world.resident_a.id,
                                    household_id=h1.id, hide=True)
    session.commit()
    assert got.honour_opt_out is True
    for hid in (h2.id, world.households_b[0].id, 10**6):
        with pytest.raises(NotFound):
            boards.set_honour_opt_out(session, account_id=world.resident_a.id,
                                      household_id=hid, hide=True)
    with pytest.raises(InvalidInput):
        boards.set_honour_opt_out(session, account_id=world.resident_a.id,
                                  household_id=h1.id, hide="yes")  # type: ignore[arg-type]
    session.rollback()
    session.refresh(h2)
    assert h2.honour_opt_out is False


# --- Resident page -------------------------------------------------------------------------

def _get(client: FlaskClient, url: str) -> tuple[int, str]:
    with clock.freeze(NOW):
        resp = client.get(url)
    return resp.status_code, resp.get_data(as_text=True)


def test_resident_board_shows_masked_rooms_only(client: FlaskClient, session: Session,
                                                ranked) -> None:
    world, opted, _idle, _gone = ranked
    h1, h2, _h3 = world.households_a
    _member(session, h1, world.resident_a.id)
    neighbour = builders.account(session, "resident", world.a, phone="13900000042")
    _member(session, h2, neighbour.id)
    builders.login(client, world.resident_a)
    status, page = _get(client, "/me/board")
    assert status == 200
    assert "红榜" in page
    assert 'class="container resident"' in page
    for masked in ("1栋1单元**1室", "1栋1单元**2室", "1栋1单元**3室"):
        assert masked in page
    # Never another household's full room, nor a person's name or phone.
    for secret in ("1栋1单元102室", "1栋1单元103室", "2栋1单元201室", "2栋1单元203室",
                   "13900000042", neighbour.display_name, "managera"):
        assert secret not in page
    assert "2栋1单元**1室" not in page  # opted out: skipped entirely
    my = page.split('data-testid="board-mine"')[1]
    assert '<span class="stat" data-testid="board-my-points">6</span>' in my
    assert '<span class="stat" data-testid="board-my-rank">1</span>' in my
    assert "/ 3" in my
    assert "玉龙社区" in page
    assert "玉山镇" in page
    assert page.count('data-testid="board-row"') == 3
    assert page.count('data-testid="building-row"') == 2
    to_english(client, "/me/board")
    _status, page = _get(client, "/me/board")
    assert "Honour board" in page
    assert "Hide my household from the honour board" in page
    assert "玉龙社区 is number 1 of 1 communities in 玉山镇" in page


def test_resident_month_selector(client: FlaskClient, session: Session,
                                 world: builders.World) -> None:
    h1, h2, _h3 = world.households_a
    _member(session, h1, world.resident_a.id)
    _earn(session, h1, date(2026, 10, 12), "hazardous")
    _earn(session, h2, date(2026, 10, 12), "hazardous", "kitchen")
    _earn(session, h1, date(2026, 11, 12), "other")
    builders.login(client, world.resident_a)
    _status, page = _get(client, "/me/board")
    assert 'data-testid="board-my-points">1</span>' in page
    assert "2026-11" in page
    _status, page = _get(client, "/me/board?month=last")
    assert 'data-testid="board-my-points">3</span>' in page
    assert '<span class="stat" data-testid="board-my-rank">2</span>' in page
    assert "2026-10" in page
    assert 'class="is-current" aria-current="page" data-testid="month-last"' in page
    # Any other month is not offered: it reads as this month.
    _status, page = _get(client, "/me/board?month=2025-01")
    assert "2026-11" in page


def test_resident_board_needs_own_household(client: FlaskClient, session: Session,
                                            world: builders.World) -> None:
    builders.login(client, world.resident_a)
    with clock.freeze(NOW):
        resp = client.get("/me/board")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/me/")
    _member(session, world.households_a[0], world.resident_a.id)
    status, _page = _get(client, f"/me/board?household_id={world.households_a[1].id}")
    assert status == 404
    status, _page = _get(client, f"/me/board?household_id={world.households_a[0].id}")
    assert status == 200


def test_home_links_to_the_board(client: FlaskClient, session: Session,
                                 world: builders.World) -> None:
    hh = world.households_a[0]
    _member(session, hh, world.resident_a.id)
    builders.login(client, world.resident_a)
    page = client.get("/me/").get_data(as_text=True)
    assert f'href="/me/board?household_id={hh.id}" data-testid="board-link">红榜</a>' in page


def _opt_out(session: Session, hh: Household) -> bool:
    return bool(session.get(Household, hh.id, populate_existing=True).honour_opt_out)  # type: ignore


def test_toggle_hides_and_shows_the_household(client: FlaskClient, session: Session,
                                              ranked) -> None:
    world, *_ = ranked
    h1 = world.households_a[0]
    _member(session, h1, world.resident_a.id)
    builders.login(client, world.resident_a)
    with clock.freeze(NOW):
        resp = client.post("/me/board/opt-out", data={"household_id": h1.id, "hide": "1",
                                                      "month": "last"})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/me/board?household_id={h1.id}&month=last")
    assert _opt_out(session, h1) is True
    session.commit()
    _status, page = _get(client, "/me/board")
    assert "您家已不在红榜上显示" in page
    assert "1栋1单元**1室" not in page.split('data-testid="board-households"')[1]
    assert '<span class="stat" data-testid="board-my-rank">1</span>' in page  # still told
    assert 'data-testid="board-show"' in page
    with clock.freeze(NOW):
        client.post("/me/board/opt-out", data={"household_id": h1.id, "hide": "0"})
    assert _opt_out(session, h1) is False
    session.commit()


def test_toggle_refuses_other_households_and_bad_input(client: FlaskClient, session: Session,
                                                       world: builders.World) -> None:
    h1, h2, _h3 = world.households_a
    _member(session, h1, world.resident_a.id)
    _member(session, h2, world.resident_a.id, status="pending")
    builders.login(client, world.resident_a)
    for hid in (h2.id, world.households_b[0].id):
        resp = client.post("/me/board/opt-out", data={"household_id": hid, "hide": "1"})
        assert resp.status_code == 404
    for data in ({"household_id": h1.id, "hide": "yes"}, {"household_id": "x", "hide": "1"},
                 {"hide": "1"}):
        resp = client.post("/me/board/opt-out", data=data)
        assert resp.status_code == 422
        assert "部分字段无效。" in resp.get_data(as_text=True)
    assert not any(_opt_out(session, hh) for hh in (h1, h2, world.households_b[0]))
    session.commit()


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_toggle_needs_csrf(client: FlaskClient, session: Session, world: builders.World) -> None:
    h1 = world.households_a[0]
    _member(session, h1, world.resident_a.id)

    def token(page: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore

    login_page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"login": world.resident_a.phone,
                                "password": builders.PASSWORD, "csrf_token": token(login_page)})
    _status, page = _get(client, "/me/board")
    resp = client.post("/me/board/opt-out", data={"household_id": h1.id, "hide": "1"})
    assert resp.status_code == 400
    assert _opt_out(session, h1) is False
    session.commit()
    resp = client.post("/me/board/opt-out", data={"household_id": h1.id, "hide": "1",
                                                  "csrf_token": token(page)})
    assert resp.status_code == 302
    assert _opt_out(session, h1) is True
    session.commit()


# --- Manager page --------------------------------------------------------------------------

def test_manager_board_is_masked_and_printable(client: FlaskClient, session: Session,
                                               ranked) -> None:
    world, *_ = ranked
    builders.login(client, world.manager_a)
    status, page = _get(client, "/manage/board")
    assert status == 200
    assert "红榜" in page
    assert "玉龙社区" in page
    assert "2026-11" in page
    assert _rows_in(page) == ["1栋1单元**1室", "1栋1单元**2室", "1栋1单元**3室"]
    assert "1栋1单元101室" not in page
    assert "2栋1单元**1室" not in page
    assert page.count('data-testid="building-row"') == 2
    assert 'css/board.css' in page
    assert 'js/board.js' in page
    assert "data-print" in page
    # A community manager ranks no area: no picker, no community table.
    assert 'data-testid="area-picker"' not in page
    assert 'data-testid="board-communities"' not in page
    _status, page = _get(client, "/manage/board?month=2026-10")
    assert 'data-testid="board-empty"' in page
    # A month outside the picker falls back to this month.
    _status, page = _get(client, "/manage/board?month=2020-01")
    assert _rows_in(page) == ["1栋1单元**1室", "1栋1单元**2室", "1栋1单元**3室"]
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "static/css/board.css").read_text()
    assert re.search(r"@media print\s*{\s*\.topbar, \.no-print", css)


def _rows_in(page: str) -> list[str]:
    return [m.group(1) for m in re.finditer(
        r'<tr data-testid="board-row"><td>\d+</td><td>([^<]+)</td>', page)]


def test_area_admins_rank_the_communities_of_an_area(client: FlaskClient, session: Session,
                                                     ranked) -> None:
    world, *_ = ranked
    builders.area(session, world.street_a, "玉湖社区")
    session.commit()
    builders.login(client, world.area_admin_a)
    status, page = _get(client, "/manage/board")
    assert status == 200
    assert 'data-testid="area-picker"' in page
    table = page.split('data-testid="board-communities"')[1]
    assert "玉龙社区" in table
    assert "玉湖社区" in table
    assert "金浦社区" not in table
    status, _page = _get(client, f"/manage/board?area_id={world.district.id}")
    assert status == 403  # a street admin cannot rank the whole district
    client.post("/logout")
    builders.login(client, world.city_admin)
    status, page = _get(client, f"/manage/board?community_id={world.a.id}"
                                f"&area_id={world.district.id}")
    assert status == 200
    table = page.split('data-testid="board-communities"')[1]
    assert "金浦社区" in table
    assert "玉湖社区" in table
    status, _page = _get(client, f"/manage/board?area_id={world.a.id}")
    assert status == 404  # a community is not an area to rank communities in
    status, _page = _get(client, f"/manage/board?area_id={world.city.id}")
    assert status == 404


def test_residents_and_stewards_cannot_open_the_manager_board(client: FlaskClient,
                                                              world: builders.World) -> None:
    for acct in (world.resident_a, world.steward_a):
        client.post("/logout")
        builders.login(client, acct)
        status, _page = _get(client, f"/manage/board?community_id={world.a.id}")
        assert status == 403
