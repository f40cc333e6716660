"""The area tree page: city admins add and rename, area admins read their subtree, others 403."""
from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from community.areas.models import Area
from community.audit.models import AuditEntry
from tests import builders


def _area_count(session: Session) -> int:
    session.commit()  # end any open read transaction: SQLite would show an old snapshot
    return session.exec(select(func.count()).select_from(Area)).one()


def _english(client, path: str) -> None:
    client.post("/lang", data={"lang": "en", "next": path})


def test_city_admin_sees_the_tree(client, world: builders.World) -> None:
    builders.login(client, world.city_admin)
    resp = client.get("/")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/dashboard/area")  # the command view (issue 19)
    page = client.get("/admin/areas").get_data(as_text=True)
    assert "区域树" in page
    for area in (world.city, world.district, world.street_a, world.street_b, world.a, world.b):
        assert f'data-testid="area-{area.id}"' in page
        assert area.name in page
    for label in ("市", "区/镇", "街道", "社区"):
        assert f'<span class="badge">{label}</span>' in page
    # The district has two streets below it and two communities in its subtree.
    counts = page.split(f'data-testid="area-counts-{world.district.id}">')[1].split("<")[0]
    assert counts == "下级区域 2 个 · 社区 2 个"
    city_counts = page.split(f'data-testid="area-counts-{world.city.id}">')[1].split("<")[0]
    assert city_counts == "下级区域 1 个 · 社区 2 个"


def test_nested_lists_follow_the_tree(client, world: builders.World) -> None:
    builders.login(client, world.city_admin)
    page = client.get("/admin/areas").get_data(as_text=True)
    # Community A's item opens inside street A's item, which closes before street B's opens.
    street_a = page.index(f'data-testid="area-{world.street_a.id}"')
    a = page.index(f'data-testid="area-{world.a.id}"')
    street_b = page.index(f'data-testid="area-{world.street_b.id}"')
    assert street_a < a < street_b
    assert page[a:street_b].count("</ul>") >= 1


def test_city_admin_adds_a_community(client, session: Session, world: builders.World) -> None:
    builders.login(client, world.city_admin)
    resp = client.post("/admin/areas", data={"parent_id": world.street_a.id, "name": " 新城社区 "})
    assert resp.status_code == 302
    new = session.exec(select(Area).where(Area.name == "新城社区")).one()
    assert new.level == "community"
    assert new.parent_id == world.street_a.id
    assert new.path == f"{world.street_a.path}{new.id}/"
    assert resp.headers["Location"].endswith(f"/admin/areas?node={new.id}")
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "area.created")).one()
    assert entry.actor_id == world.city_admin.id
    assert entry.area_id == new.id
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已添加 新城社区。" in page


def test_levels_follow_the_parent(client, session: Session, world: builders.World) -> None:
    builders.login(client, world.city_admin)
    client.post("/admin/areas", data={"parent_id": world.city.id, "name": "太仓市"})
    client.post("/admin/areas", data={"parent_id": world.district.id, "name": "千灯镇"})
    assert session.exec(select(Area.level).where(Area.name == "太仓市")).one() == "district"
    assert session.exec(select(Area.level).where(Area.name == "千灯镇")).one() == "street"


@pytest.mark.parametrize("name", ["", "   ", "长" * 81])
def test_bad_name_is_a_field_error(client, session: Session, world: builders.World,
                                   name: str) -> None:
    builders.login(client, world.city_admin)
    before = _area_count(session)
    resp = client.post("/admin/areas", data={"parent_id": world.street_a.id, "name": name})
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "请输入名称，最多 80 个字。" in page
    assert 'aria-invalid="true"' in page
    assert _area_count(session) == before
    _english(client, "/admin/areas")
    resp = client.post("/admin/areas", data={"parent_id": world.street_a.id, "name": name})
    assert "Enter a name of at most 80 characters." in resp.get_data(as_text=True)


def test_nothing_below_a_community(client, session: Session, world: builders.World) -> None:
    builders.login(client, world.city_admin)
    before = _area_count(session)
    resp = client.post("/admin/areas", data={"parent_id": world.a.id, "name": "楼栋"})
    assert resp.status_code == 422
    assert "社区下不能再添加下级区域。" in resp.get_data(as_text=True)
    assert _area_count(session) == before
    assert not session.exec(select(AuditEntry).where(AuditEntry.action == "area.created")).all()


def test_missing_or_unknown_parent(client, world: builders.World) -> None:
    builders.login(client, world.city_admin)
    assert client.post("/admin/areas", data={"name": "x"}).status_code == 400
    assert client.post("/admin/areas", data={"parent_id": 99999, "name": "x"}).status_code == 404


def test_rename(client, session: Session, world: builders.World) -> None:
    builders.login(client, world.city_admin)
    page = client.get(f"/admin/areas?node={world.a.id}").get_data(as_text=True)
    assert 'data-testid="rename-form"' in page
    assert 'value="玉龙社区"' in page
    # A community's panel offers no "add" form.
    assert 'data-testid="add-form"' not in page
    resp = client.post(f"/admin/areas/{world.a.id}/rename", data={"name": "玉龙新村"})
    assert resp.status_code == 302
    session.commit()
    session.expire_all()
    assert session.get(Area, world.a.id).name == "玉龙新村"
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "area.renamed")).one()
    assert entry.detail == {"old": "玉龙社区", "new": "玉龙新村"}


def test_rename_to_empty_is_refused(client, session: Session, world: builders.World) -> None:
    builders.login(client, world.city_admin)
    resp = client.post(f"/admin/areas/{world.a.id}/rename", data={"name": ""})
    assert resp.status_code == 422
    assert "请输入名称，最多 80 个字。" in resp.get_data(as_text=True)
    session.commit()
    session.expire_all()
    assert session.get(Area, world.a.id).name == "玉龙社区"


def test_area_admin_reads_own_subtree_only(client, world: builders.World) -> None:
    builders.login(client, world.area_admin_a)
    resp = client.get("/admin/areas")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert world.street_a.name in page
    assert world.a.name in page
    for other in (world.city, world.district, world.street_b, world.b):
        assert f'data-testid="area-{other.id}"' not in page
    assert world.b.name not in page
    assert world.street_b.name not in page
    panel = client.get(f"/admin/areas?node={world.a.id}").get_data(as_text=True)
    assert "您可以查看此区域，但不能修改。" in panel
    assert 'data-testid="rename-form"' not in panel
    assert 'data-testid="add-form"' not in panel
    assert client.get(f"/admin/areas?node={world.b.id}").status_code == 404


def test_area_admin_cannot_change_the_tree(client, session: Session,
                                           world: builders.World) -> None:
    builders.login(client, world.area_admin_a)
    before = _area_count(session)
    assert client.post("/admin/areas", data={"parent_id": world.street_a.id,
                                             "name": "新社区"}).status_code == 403
    assert client.post(f"/admin/areas/{world.a.id}/rename",
                       data={"name": "新名"}).status_code == 403
    session.commit()
    session.expire_all()
    assert _area_count(session) == before
    assert session.get(Area, world.a.id).name == "玉龙社区"


@pytest.mark.parametrize("who", ["manager_a", "steward_a", "resident_a"])
def test_others_are_refused(client, world: builders.World, who: str) -> None:
    builders.login(client, getattr(world, who))
    resp = client.get("/admin/areas")
    assert resp.status_code == 403
    assert "您没有执行此操作的权限。" in resp.get_data(as_text=True)


def test_anonymous_goes_to_login(client, world: builders.World) -> None:
    resp = client.get("/admin/areas")
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]


def test_english_labels(client, world: builders.World) -> None:
    builders.login(client, world.city_admin)
    _english(client, "/admin/areas")
    page = client.get(f"/admin/areas?node={world.district.id}").get_data(as_text=True)
    assert "Area tree" in page
    assert "District/town" in page
    assert "Add a street" in page
    assert "2 sub-areas · 2 communities" in page
