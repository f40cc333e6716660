"""The audit log page: scope, newest first, action filter, "older" paging, labels, local time."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from community import clock
from community.audit import services as audit
from tests import builders


def _ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-testid="audit-(\d+)"', page)]


@pytest.fixture
def entries(session: Session, world: builders.World) -> dict[str, int]:
    """One entry per kind of place: community A, street A, community B, no area."""
    with clock.freeze(datetime(2026, 3, 1, 0, 30, tzinfo=UTC)):
        made = {
            "a": audit.record(session, actor_id=world.manager_a.id, action="card.reissued",
                              area=world.a, target_type="household",
                              target_id=world.households_a[0].id, new_card=7),
            "street_a": audit.record(session, actor_id=world.area_admin_a.id,
                                     action="role.granted", area=world.street_a,
                                     target_type="account", target_id=world.manager_a.id,
                                     role="manager"),
            "b": audit.record(session, actor_id=world.manager_b.id, action="households.imported",
                              area=world.b, rows=12),
            "none": audit.record(session, actor_id=None, action="login.failed", login="admin"),
            "custom": audit.record(session, actor_id=world.manager_a.id, action="x.custom",
                                   area=world.a),
        }
    session.commit()
    return {k: e.id for k, e in made.items()}


def test_manager_sees_own_community_only(client, world: builders.World, entries: dict) -> None:
    builders.login(client, world.manager_a)
    resp = client.get("/admin/audit/")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert _ids(page) == [entries["custom"], entries["a"]]  # newest first
    assert "补发卡" in page
    assert "玉龙社区" in page
    assert "managera" in page
    assert "x.custom" in page  # an unknown action falls back to its code
    assert "金浦社区" not in page
    assert "导入住户" not in page
    assert "登录失败" not in page


def test_area_admin_sees_the_street(client, world: builders.World, entries: dict) -> None:
    builders.login(client, world.area_admin_a)
    page = client.get("/admin/audit/").get_data(as_text=True)
    assert set(_ids(page)) == {entries["a"], entries["street_a"], entries["custom"]}
    assert "授予角色" in page
    assert "社区管理员" in page


def test_city_admin_sees_everything(client, world: builders.World, entries: dict) -> None:
    builders.login(client, world.city_admin)
    page = client.get("/admin/audit/").get_data(as_text=True)
    ids = _ids(page)
    assert set(entries.values()) <= set(ids)
    assert ids == sorted(ids, reverse=True)
    assert "登录失败" in page
    assert "导入住户" in page
    assert "系统" in page


def test_local_time(client, world: builders.World, entries: dict) -> None:
    builders.login(client, world.manager_a)
    page = client.get("/admin/audit/").get_data(as_text=True)
    assert "2026-03-01 08:30:00" in page  # 00:30 UTC is 08:30 in Asia/Shanghai


def test_filter_by_action_prefix(client, world: builders.World, entries: dict) -> None:
    builders.login(client, world.city_admin)
    assert _ids(client.get("/admin/audit/?action=card").get_data(as_text=True)) == [entries["a"]]
    assert _ids(client.get("/admin/audit/?action=household").get_data(as_text=True)) == [
        entries["b"]]
    login_page = client.get("/admin/audit/?action=login").get_data(as_text=True)
    assert entries["none"] in _ids(login_page)
    assert entries["a"] not in _ids(login_page)
    assert '<option value="card" selected>' in client.get(
        "/admin/audit/?action=card").get_data(as_text=True)


@pytest.mark.parametrize("app_config", [{"PAGE_SIZE": 2}])
def test_older_pages(client, session: Session, world: builders.World) -> None:
    made = [audit.record(session, actor_id=None, action="area.renamed", area=world.a,
                         new=f"n{i}").id for i in range(5)]
    session.commit()
    builders.login(client, world.manager_a)
    seen: list[int] = []
    url = "/admin/audit/?action=area"
    while url:
        page = client.get(url).get_data(as_text=True)
        ids = _ids(page)
        assert len(ids) <= 2
        seen += ids
        more = re.search(r'href="([^"]+)" data-testid="audit-older"', page)
        url = more.group(1).replace("&amp;", "&") if more else None
    assert seen == sorted(made, reverse=True)


def test_residents_and_stewards_are_refused(client, world: builders.World) -> None:
    for who in (world.resident_a, world.steward_a):
        builders.login(client, who)
        assert client.get("/admin/audit/").status_code == 403
        client.post("/logout")


def test_english_labels(client, world: builders.World, entries: dict) -> None:
    builders.login(client, world.city_admin)
    client.post("/lang", data={"lang": "en", "next": "/admin/audit/"})
    page = client.get("/admin/audit/").get_data(as_text=True)
    assert "Card reissued" in page
    assert "Login failed" in page
    assert "Households imported" in page
