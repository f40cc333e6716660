"""Account and role management pages: scope, offered choices, validation, audit, password reset."""
from __future__ import annotations

import re

import pytest
from sqlmodel import Session, func, select

from community.audit.models import AuditEntry
from community.auth import services as auth_services
from community.auth.models import Account, RoleGrant
from tests import builders

GOOD = {"display_name": "王小明", "username": "wangxm", "phone": "", "password": "long-enough-pw"}


# Each helper ends the test session's transaction first: on SQLite an open read transaction
# keeps an old snapshot and would hide what the app just wrote.


def _accounts(session: Session) -> int:
    session.commit()
    return session.exec(select(func.count()).select_from(Account)).one()


def _options(page: str, name: str) -> list[str]:
    """The option values of the <select name=...> in a page."""
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select_html, name
    return [v for v in re.findall(r'value="([^"]*)"', select_html.group(1)) if v]


def _grants(session: Session, account_id: int) -> set[tuple[str, int]]:
    session.commit()
    return {(g.role, g.area_id) for g in session.exec(
        select(RoleGrant).where(RoleGrant.account_id == account_id))}


def _actions(session: Session) -> list[str]:
    session.commit()
    return list(session.exec(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_mask_phone() -> None:
    assert auth_services.mask_phone("13800000001") == "138****0001"
    assert auth_services.mask_phone(None) == ""
    assert auth_services.mask_phone("12345") == "*****"


def test_manager_lists_own_community_only(client, session: Session,
                                          world: builders.World) -> None:
    person = builders.account(session, "resident", world.a, phone="13912345678")
    person.display_name = "李四"
    session.add(person)
    session.commit()
    builders.login(client, world.manager_a)
    page = client.get("/admin/accounts").get_data(as_text=True)
    for acct in (world.manager_a, world.steward_a, person):
        assert f'data-testid="account-row-{acct.id}"' in page
    for acct in (world.manager_b, world.resident_b, world.area_admin_a, world.city_admin):
        assert f'data-testid="account-row-{acct.id}"' not in page
    assert "139****5678" in page
    assert "13912345678" not in page
    assert "居民 · 玉龙社区" in page
    assert "账号与角色" in page


def test_search_by_name_username_and_phone(client, session: Session,
                                           world: builders.World) -> None:
    person = builders.account(session, "resident", world.a, phone="13912345678")
    person.display_name = "李四"
    session.add(person)
    session.commit()
    builders.login(client, world.manager_a)

    def rows(q: str) -> set[int]:
        page = client.get("/admin/accounts", query_string={"q": q}).get_data(as_text=True)
        return {int(i) for i in re.findall(r'data-testid="account-row-(\d+)"', page)}

    assert rows("李四") == {person.id}
    assert rows("STEWARDA") == {world.steward_a.id}
    assert rows("5678") == {person.id}
    assert rows("139 1234") == {person.id}
    assert rows("managerb") == set()  # exists, but outside the scope
    assert rows("%") == set()  # LIKE wildcards are escaped


@pytest.mark.parametrize("app_config", [{"PAGE_SIZE": 2}])
def test_pagination(client, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    first = client.get("/admin/accounts").get_data(as_text=True)
    second = client.get("/admin/accounts?page=2").get_data(as_text=True)
    ids1 = set(re.findall(r'data-testid="account-row-(\d+)"', first))
    ids2 = set(re.findall(r'data-testid="account-row-(\d+)"', second))
    # Manager A, steward A and resident A: 2 + 1, no overlap.
    assert len(ids1) == 2
    assert len(ids2) == 1
    assert not ids1 & ids2
    assert "第 1 / 2 页" in first
    assert "page=2" in first


def test_city_admin_sees_accounts_without_roles(client, session: Session,
                                                world: builders.World) -> None:
    lonely = builders.account(session, username="lonely")
    session.commit()
    builders.login(client, world.city_admin)
    page = client.get("/admin/accounts?q=lonely").get_data(as_text=True)
    assert f'data-testid="account-row-{lonely.id}"' in page
    assert "无角色" in page
    assert client.get(f"/admin/accounts/{lonely.id}").status_code == 200
    client.post("/logout")
    builders.login(client, world.manager_a)
    assert client.get(f"/admin/accounts/{lonely.id}").status_code == 404


@pytest.mark.parametrize("who", ["resident_a", "steward_a"])
def test_non_admins_are_refused(client, world: builders.World, who: str) -> None:
    builders.login(client, getattr(world, who))
    assert client.get("/admin/accounts").status_code == 403
    assert client.get("/admin/accounts/new").status_code == 403
    assert client.get(f"/admin/accounts/{world.resident_a.id}").status_code == 403


def test_offered_roles_and_areas(client, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    page = client.get("/admin/accounts/new").get_data(as_text=True)
    assert _options(page, "role") == ["resident", "steward", "station_chief"]
    assert _options(page, "area_id") == [str(world.a.id)]
    assert "督导员" in page
    assert "亭长" in page
    assert "社区管理员" not in page
    client.post("/logout")

    builders.login(client, world.area_admin_a)
    page = client.get("/admin/accounts/new").get_data(as_text=True)
    assert _options(page, "role") == ["resident", "steward", "station_chief", "collector",
                                      "manager"]
    # Street A too, for its collectors (a street or district role); no area_admin grants.
    assert _options(page, "area_id") == [str(world.street_a.id), str(world.a.id)]
    client.post("/logout")

    builders.login(client, world.city_admin)
    page = client.get("/admin/accounts/new").get_data(as_text=True)
    assert _options(page, "role") == ["resident", "steward", "station_chief", "collector",
                                      "manager", "area_admin"]
    areas = _options(page, "area_id")
    assert str(world.city.id) not in areas  # nobody may create a city admin here
    assert {str(world.district.id), str(world.street_a.id), str(world.a.id)} <= set(areas)
    # Each area option lists the roles that fit its level, for the page's script.
    assert f'<option data-roles="collector area_admin" value="{world.street_a.id}">' in page
    assert (f'<option data-roles="resident steward station_chief manager" '
            f'value="{world.a.id}">') in page


def test_manager_creates_a_steward(client, session: Session, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    resp = client.post("/admin/accounts/new",
                       data={**GOOD, "role": "steward", "area_id": world.a.id})
    assert resp.status_code == 302
    acct = session.exec(select(Account).where(Account.username == "wangxm")).one()
    assert resp.headers["Location"].endswith(f"/admin/accounts/{acct.id}")
    assert _grants(session, acct.id) == {("steward", world.a.id)}
    entries = session.exec(select(AuditEntry).where(AuditEntry.target_id == acct.id)).all()
    assert sorted(e.action for e in entries) == ["account.created", "role.granted"]
    assert all(e.actor_id == world.manager_a.id and e.area_id == world.a.id for e in entries)
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已创建账号 王小明。" in page
    assert "督导员" in page
    client.post("/logout")
    builders.login(client, acct, password=GOOD["password"])


BAD = [
    ({"display_name": ""}, "display_name", "此项必填。"),
    ({"display_name": "名" * 81}, "display_name", "最多 80 个字。"),
    ({"username": "", "phone": ""}, "username", "请填写用户名或手机号。"),
    ({"username": "1abc"}, "username", "用户名须以字母开头"),
    ({"username": "ab"}, "username", "请使用 3 到 64 个字符。"),
    ({"username": "", "phone": "12345"}, "phone", "请输入 11 位手机号。"),
    ({"password": "short"}, "password", "请使用 10 到 128 个字符。"),
    ({"role": ""}, "role", "此项必填。"),
    ({"area_id": ""}, "area_id", "此项必填。"),
    ({"username": "managera"}, "username", "该用户名已被使用。"),
    ({"username": "", "phone": "138-0000-0001"}, "phone", "该手机号已有账号。"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD,
                         ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD)])
def test_create_validation(client, session: Session, world: builders.World,
                           change: dict, field: str, message: str) -> None:
    builders.login(client, world.manager_a)
    before, actions = _accounts(session), _actions(session)
    resp = client.post("/admin/accounts/new",
                       data={**GOOD, "role": "resident", "area_id": world.a.id, **change})
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    # The message sits in the field's own block, right after its input.
    block = page.split(f'name="{field}"')[1].split('class="field')[0]
    assert message in block, block
    assert _accounts(session) == before
    assert _actions(session) == actions


def test_create_validation_in_english(client, session: Session, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    client.post("/lang", data={"lang": "en", "next": "/admin/accounts/new"})
    resp = client.post("/admin/accounts/new", data={**GOOD, "password": "short",
                                                     "role": "resident", "area_id": world.a.id})
    assert resp.status_code == 422
    assert "Use 10 to 128 characters." in resp.get_data(as_text=True)


def test_role_must_fit_the_area_level(client, session: Session, world: builders.World) -> None:
    builders.login(client, world.city_admin)
    before = _accounts(session)
    for role, area in (("manager", world.street_a), ("area_admin", world.a),
                       ("resident", world.district)):
        resp = client.post("/admin/accounts/new", data={**GOOD, "role": role, "area_id": area.id})
        assert resp.status_code == 422
        assert "不能在此区域授予该角色。" in resp.get_data(as_text=True)
    assert _accounts(session) == before
    resp = client.post("/admin/accounts/new",
                       data={**GOOD, "role": "area_admin", "area_id": world.street_b.id})
    assert resp.status_code == 302


def test_no_granting_at_or_above_own_rank(client, session: Session,
                                          world: builders.World) -> None:
    builders.login(client, world.manager_a)
    before = _accounts(session)
    resp = client.post("/admin/accounts/new", data={**GOOD, "role": "manager",
                                                    "area_id": world.a.id})
    assert resp.status_code == 403
    resp = client.post(f"/admin/accounts/{world.resident_a.id}/grants",
                       data={"role": "manager", "area_id": world.a.id})
    assert resp.status_code == 403
    client.post("/logout")
    builders.login(client, world.area_admin_a)
    for role, area in (("city_admin", world.city), ("area_admin", world.street_a)):
        resp = client.post("/admin/accounts/new", data={**GOOD, "role": role, "area_id": area.id})
        assert resp.status_code == 403
        resp = client.post(f"/admin/accounts/{world.manager_a.id}/grants",
                           data={"role": role, "area_id": area.id})
        assert resp.status_code == 403
    assert _accounts(session) == before
    assert _grants(session, world.manager_a.id) == {("manager", world.a.id)}
    assert "role.granted" not in _actions(session)


def test_grant_and_revoke_are_audited(client, session: Session, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    resp = client.post(f"/admin/accounts/{world.resident_a.id}/grants",
                       data={"role": "steward", "area_id": world.a.id})
    assert resp.status_code == 302
    assert _grants(session, world.resident_a.id) == {("resident", world.a.id),
                                                     ("steward", world.a.id)}
    grant = session.exec(select(RoleGrant).where(RoleGrant.account_id == world.resident_a.id,
                                                 RoleGrant.role == "steward")).one()
    assert grant.granted_by == world.manager_a.id
    page = client.get(f"/admin/accounts/{world.resident_a.id}").get_data(as_text=True)
    assert f'data-testid="revoke-{grant.id}"' in page
    resp = client.post(f"/admin/grants/{grant.id}/revoke",
                       data={"next": f"/admin/accounts/{world.resident_a.id}"})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/admin/accounts/{world.resident_a.id}")
    assert _grants(session, world.resident_a.id) == {("resident", world.a.id)}
    entries = session.exec(select(AuditEntry).where(
        AuditEntry.action.in_(["role.granted", "role.revoked"]))).all()
    assert [(e.action, e.detail["role"], e.area_id, e.actor_id) for e in entries] == [
        ("role.granted", "steward", world.a.id, world.manager_a.id),
        ("role.revoked", "steward", world.a.id, world.manager_a.id)]


def test_grant_form_errors(client, session: Session, world: builders.World) -> None:
    builders.login(client, world.area_admin_a)
    resp = client.post(f"/admin/accounts/{world.resident_a.id}/grants",
                       data={"role": "steward", "area_id": world.street_a.id})
    assert resp.status_code == 422
    assert "不能在此区域授予该角色。" in resp.get_data(as_text=True)
    resp = client.post(f"/admin/accounts/{world.resident_a.id}/grants", data={"role": ""})
    assert resp.status_code == 422
    assert _grants(session, world.resident_a.id) == {("resident", world.a.id)}


def test_cannot_revoke_own_rank_or_foreign(client, session: Session,
                                          world: builders.World) -> None:
    own = session.exec(select(RoleGrant).where(RoleGrant.account_id == world.manager_a.id)).one()
    foreign = session.exec(select(RoleGrant).where(
        RoleGrant.account_id == world.resident_b.id)).one()
    builders.login(client, world.manager_a)
    assert client.post(f"/admin/grants/{own.id}/revoke").status_code == 403
    assert client.post(f"/admin/grants/{foreign.id}/revoke").status_code == 403
    assert client.post("/admin/grants/99999/revoke").status_code == 404
    page = client.get(f"/admin/accounts/{world.manager_a.id}").get_data(as_text=True)
    assert f'data-testid="revoke-{own.id}"' not in page
    assert _grants(session, world.manager_a.id) == {("manager", world.a.id)}


def test_detail_shows_only_grants_in_scope(client, session: Session,
                                           world: builders.World) -> None:
    auth_services.add_grant(session, account=world.resident_a, role="steward", area=world.b)
    session.commit()
    builders.login(client, world.manager_a)
    page = client.get(f"/admin/accounts/{world.resident_a.id}").get_data(as_text=True)
    assert world.a.name in page
    assert world.b.name not in page
    assert "13800000001" in page  # the full number only on the detail page
    client.post("/logout")
    builders.login(client, world.manager_b)
    page = client.get(f"/admin/accounts/{world.resident_a.id}").get_data(as_text=True)
    assert world.b.name in page
    assert world.a.name not in page


def test_password_reset(client, session: Session, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    resp = client.post(f"/admin/accounts/{world.steward_a.id}/password",
                       data={"password": "brand-new-secret"})
    assert resp.status_code == 302
    entry = session.exec(select(AuditEntry).where(
        AuditEntry.action == "account.password_reset")).one()
    assert (entry.actor_id, entry.target_id, entry.area_id) == (
        world.manager_a.id, world.steward_a.id, world.a.id)
    assert "brand-new-secret" not in str(entry.detail)
    client.post("/logout")
    builders.login(client, world.steward_a, password="brand-new-secret")


def test_password_reset_errors(client, session: Session, world: builders.World) -> None:
    old_hash = world.steward_a.password_hash
    builders.login(client, world.manager_a)
    resp = client.post(f"/admin/accounts/{world.steward_a.id}/password", data={"password": "x"})
    assert resp.status_code == 422
    assert "请使用 10 到 128 个字符。" in resp.get_data(as_text=True)
    # Not below the manager: another manager of A, or the street admin (not in A's scope).
    peer = builders.account(session, "manager", world.a)
    session.commit()
    assert client.post(f"/admin/accounts/{peer.id}/password",
                       data={"password": "brand-new-secret"}).status_code == 403
    assert client.post(f"/admin/accounts/{world.area_admin_a.id}/password",
                       data={"password": "brand-new-secret"}).status_code == 404
    session.commit()
    session.expire_all()
    assert session.get(Account, world.steward_a.id).password_hash == old_hash
    assert "account.password_reset" not in _actions(session)


def test_password_reset_needs_rank_over_every_role(client, session: Session,
                                                   world: builders.World) -> None:
    # A resident of A who is also admin of street B: A's manager sees them, but may not take over.
    auth_services.add_grant(session, account=world.resident_a, role="area_admin",
                            area=world.street_b)
    session.commit()
    builders.login(client, world.manager_a)
    page = client.get(f"/admin/accounts/{world.resident_a.id}").get_data(as_text=True)
    assert 'data-testid="password-form"' in page  # its only visible grant is revocable
    resp = client.post(f"/admin/accounts/{world.resident_a.id}/password",
                       data={"password": "brand-new-secret"})
    assert resp.status_code == 403
