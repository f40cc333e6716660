"""Honour boards (红榜): the resident and manager pages, and the opt-out toggle, on both
backends."""
from __future__ import annotations

import re
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session

from community import clock
from community.households.models import Household
from tests import builders
from tests.points.boards.helpers import NOW
from tests.points.boards.helpers import earn as _earn
from tests.points.boards.helpers import member as _member
from tests.residents.helpers import to_english

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
    # The link's attributes in the order the template writes them (a 44 px tap-link class
    # sits between them since c8ad535).
    assert f'href="/me/board?household_id={hh.id}" class="tap-link" ' \
        'data-testid="board-link">红榜</a>' in page


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

    css = (Path(__file__).resolve().parents[3] / "static/css/board.css").read_text()
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


def _board_points(page: str) -> dict[str, str]:
    """Masked room → points, as the board's rows show them."""
    rows = page.split('data-testid="board-row"')[1:]
    return {m.group(1): m.group(2) for row in rows
            if (m := re.search(r"(\d栋\d单元\*\*\d室).*?(\d+)</", row, re.S))}


def test_residents_share_the_board_for_a_minute_their_own_points_are_fresh(
        app, client: FlaskClient, session: Session, ranked, monkeypatch) -> None:
    """A community's month is read once for the residents' pages of the next minute; each
    page reads its own household on top, so one's own drop shows at once and a neighbour's
    within BOARD_TTL_SECONDS."""
    from community.points.boards import queries as boards
    from tests.statements import statements_sent

    world, _opted, _idle, _gone = ranked
    h1, h2, _h3 = world.households_a
    _member(session, h1, world.resident_a.id)
    neighbour = builders.account(session, "resident", world.a, phone="13900000042")
    _member(session, h2, neighbour.id)
    other = app.test_client()
    builders.login(client, world.resident_a)
    builders.login(other, neighbour)
    _get(client, "/me/board")  # fills the community's list
    engine = session.get_bind().engine
    with statements_sent(engine, lambda sql, _p, _c: sql) as sent:
        _status, page = _get(other, "/me/board")
    ledger = [sql for sql in sent if "ledger_entry" in sql]
    assert len(ledger) == 1
    assert "GROUP BY" not in ledger[0]  # its own household only
    assert _board_points(page)["1栋1单元**1室"] == "6"

    _earn(session, h1, date(2026, 11, 20), "kitchen")  # +2 for household 101
    _status, mine = _get(client, "/me/board")
    assert 'data-testid="board-my-points">8</span>' in mine  # at once, for its own members
    assert _board_points(mine)["1栋1单元**1室"] == "8"
    _status, theirs = _get(other, "/me/board")
    assert _board_points(theirs)["1栋1单元**1室"] == "6"  # the shared list, still fresh enough
    later = boards.time.monotonic() + boards.BOARD_TTL_SECONDS + 1
    monkeypatch.setattr(boards.time, "monotonic", lambda: later)
    _status, theirs = _get(other, "/me/board")
    assert _board_points(theirs)["1栋1单元**1室"] == "8"
