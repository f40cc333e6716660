"""The household list (search, filters, paging, scope) and the create/edit forms."""
from __future__ import annotations

import pytest
from sqlmodel import Session, select

from community.households import services
from community.households.models import Household
from tests import builders
from tests.households.helpers import active_cards, audits, count_households, english, read


def _rows(page: str) -> int:
    return page.count('data-testid="household-row"')


def test_manager_lands_on_own_community(client, session: Session, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    assert client.get("/").headers["Location"].endswith("/dashboard/community")
    resp = client.get("/manage/households")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert f"住户 · {world.a.name}" in page
    assert "共 3 户" in page
    assert "1栋1单元101室" in page
    card = builders.active_card(session, world.households_a[0])
    session.commit()
    assert f"{card.short_code[:4]}-{card.short_code[4:]}" in page
    assert "2栋1单元201室" not in page  # community B
    assert 'data-testid="community-picker"' not in page  # one community: no picker


def test_city_admin_picks_a_community(client, world: builders.World) -> None:
    builders.login(client, world.city_admin)
    page = client.get("/manage/households").get_data(as_text=True)
    assert 'data-testid="community-picker"' in page
    assert world.a.name in page
    assert world.b.name in page
    page_b = client.get(f"/manage/households?community_id={world.b.id}").get_data(as_text=True)
    assert "2栋1单元201室" in page_b
    assert "1栋1单元101室" not in page_b


def test_out_of_scope_and_non_community(client, world: builders.World) -> None:
    builders.login(client, world.area_admin_a)
    assert client.get(f"/manage/households?community_id={world.a.id}").status_code == 200
    assert client.get(f"/manage/households?community_id={world.b.id}").status_code == 403
    assert client.get(f"/manage/households?community_id={world.street_a.id}").status_code == 404
    assert client.get("/manage/households?community_id=99999").status_code == 404
    client.post("/logout")
    builders.login(client, world.resident_a)
    assert client.get("/manage/households").status_code == 403


@pytest.fixture
def street(session: Session, world: builders.World) -> builders.World:
    """Community A with buildings 2 and 10, mixed room order, one moved out, one without card."""
    for building, room in [("10", "1001"), ("2", "202"), ("2", "10"), ("2", "9")]:
        builders.household(session, world.a, building=building, unit="1", room=room)
    builders.household(session, world.a, building="2", unit="3", room="301", with_card=False)
    moved = builders.household(session, world.a, building="2", unit="3", room="302")
    moved.status = "moved_out"
    session.add(moved)
    session.commit()
    return world


@pytest.mark.parametrize(("query", "expected"), [
    ("q=2-1-202", ["2栋1单元202室"]),
    ("q=2栋1单元202", ["2栋1单元202室"]),
    ("q=2栋1单元202室", ["2栋1单元202室"]),
    ("q=202", ["2栋1单元202室"]),
    ("q=2-3", ["2栋3单元301室", "2栋3单元302室"]),
    ("q=nonsense!!", []),
    ("building=10", ["10栋1单元1001室"]),
    ("building=2&status=moved_out", ["2栋3单元302室"]),
    ("building=2&card=none", ["2栋3单元301室"]),
    ("building=2栋&card=active&status=active", ["2栋1单元9室", "2栋1单元10室", "2栋1单元202室"]),
])
def test_search_and_filters(client, street: builders.World, query: str,
                            expected: list[str]) -> None:
    builders.login(client, street.manager_a)
    page = client.get(f"/manage/households?{query}").get_data(as_text=True)
    shown = [label for label in expected if label in page]
    assert shown == expected
    assert _rows(page) == len(expected)
    if not expected:
        assert "没有符合条件的住户" in page


def test_search_by_card_code(client, session: Session, street: builders.World) -> None:
    hh = street.households_a[1]
    code = builders.active_card(session, hh).short_code
    session.commit()
    builders.login(client, street.manager_a)
    page = client.get(f"/manage/households?q={code[:4]}-{code[4:].lower()}").get_data(as_text=True)
    assert _rows(page) == 1
    assert services.address_label(hh) in page


@pytest.mark.parametrize("app_config", [{"PAGE_SIZE": 4}])
def test_natural_order_and_pages(client, street: builders.World) -> None:
    builders.login(client, street.manager_a)
    first = client.get("/manage/households").get_data(as_text=True)
    order = ["1栋1单元101室", "1栋1单元102室", "1栋1单元103室", "2栋1单元9室"]
    positions = [first.index(label) for label in order]
    assert positions == sorted(positions)
    assert _rows(first) == 4
    assert "第 1 / 3 页" in first
    third = client.get("/manage/households?page=3").get_data(as_text=True)
    # 9 households: 2栋 (9, 10, 202, 3-301, 3-302) then 10栋 — page 3 holds the last one.
    assert _rows(third) == 1
    assert "10栋1单元1001室" in third
    second = client.get("/manage/households?page=2").get_data(as_text=True)
    assert second.index("2栋1单元10室") < second.index("2栋1单元202室")


def test_english_list(client, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    english(client)
    page = client.get("/manage/households").get_data(as_text=True)
    assert "3 households" in page
    assert "Living here" in page
    assert "Print all cards (PDF)" in page


# ---- create and edit ------------------------------------------------------------------------

NEW = {"building": "8栋", "unit": "2", "room": "801", "members": "4", "status": "active"}


def test_create_household(client, session: Session, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    form = client.get(f"/manage/households/new?community_id={world.a.id}")
    assert form.status_code == 200
    assert "新增住户" in form.get_data(as_text=True)
    before = count_households(session, world.a.id)
    resp = client.post(f"/manage/households/new?community_id={world.a.id}", data=NEW)
    assert resp.status_code == 302
    [hh] = read(session, select(Household).where(Household.building == "8"))
    assert (hh.community_id, hh.unit, hh.room, hh.members, hh.status) == (world.a.id, "2", "801",
                                                                          4, "active")
    assert count_households(session, world.a.id) == before + 1
    assert active_cards(session, world.a.id) == before + 1
    entry = audits(session, "household.created")[-1]
    assert entry.target_id == hh.id
    assert entry.area_id == world.a.id
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已登记住户 8栋2单元801室" in page


def test_create_without_community_uses_the_first(client, session: Session,
                                                 world: builders.World) -> None:
    builders.login(client, world.manager_b)
    resp = client.post("/manage/households/new", data=NEW)
    assert resp.status_code == 302
    [hh] = read(session, select(Household).where(Household.building == "8"))
    assert hh.community_id == world.b.id


@pytest.mark.parametrize(("data", "message_zh", "message_en"), [
    ({**NEW, "members": "0"}, "人数须在 1 到 30 之间", "Members must be from 1 to 30."),
    ({**NEW, "members": "31"}, "人数须在 1 到 30 之间", "Members must be from 1 to 30."),
    ({**NEW, "members": ""}, "请填写家庭人数", "Please enter the number of members."),
    ({**NEW, "building": " "}, "请填写楼栋", "Please enter the building."),
    ({**NEW, "room": "9" * 21}, "", ""),
    ({**NEW, "building": "1", "unit": "1", "room": "101室"}, "该地址已有住户",
     "A household at this address already exists."),
])
def test_create_errors_save_nothing(client, session: Session, world: builders.World, data: dict,
                                    message_zh: str, message_en: str) -> None:
    builders.login(client, world.manager_a)
    before = count_households(session, world.a.id)
    url = f"/manage/households/new?community_id={world.a.id}"
    resp = client.post(url, data=data)
    assert resp.status_code == 422
    assert 'role="alert"' in resp.get_data(as_text=True)
    assert message_zh in resp.get_data(as_text=True)
    english(client, url)
    assert message_en in client.post(url, data=data).get_data(as_text=True)
    assert count_households(session, world.a.id) == before
    assert audits(session, "household.created") == []


def test_edit_household(client, session: Session, world: builders.World) -> None:
    hh = world.households_a[0]
    builders.login(client, world.manager_a)
    form = client.get(f"/manage/households/{hh.id}/edit").get_data(as_text=True)
    assert "编辑住户 · 1栋1单元101室" in form
    assert 'value="101"' in form
    data = {"building": "1", "unit": "1", "room": "101", "members": "6", "status": "moved_out"}
    resp = client.post(f"/manage/households/{hh.id}/edit", data=data)
    assert resp.status_code == 302
    [fresh] = read(session, select(Household).where(Household.id == hh.id))
    assert (fresh.members, fresh.status) == (6, "moved_out")
    entry = audits(session, "household.updated")[-1]
    assert entry.detail["changes"] == {"members": [3, 6], "status": ["active", "moved_out"]}
    # Saving without a change records nothing more.
    client.post(f"/manage/households/{hh.id}/edit", data=data)
    assert len(audits(session, "household.updated")) == 1


def test_edit_to_taken_address_is_refused(client, session: Session,
                                          world: builders.World) -> None:
    hh = world.households_a[0]
    builders.login(client, world.manager_a)
    data = {"building": "1", "unit": "1", "room": "102", "members": "3", "status": "active"}
    resp = client.post(f"/manage/households/{hh.id}/edit", data=data)
    assert resp.status_code == 422
    assert "该地址已有住户" in resp.get_data(as_text=True)
    [fresh] = read(session, select(Household).where(Household.id == hh.id))
    assert fresh.room == "101"
    # The same address in another community is fine: B has no 1栋1单元102室 conflict with A.
    assert audits(session, "household.updated") == []
