"""Asking the manager to approve a membership (the card names the household, proves nothing):
requests, decisions, the community's switch, errors in Chinese and English."""
from __future__ import annotations

import pytest
from sqlmodel import Session, select

from community.areas.models import Area
from community.audit.models import AuditEntry
from community.auth import services as auth_services
from community.auth.models import RoleGrant
from community.households import services as households_services
from community.households.codes import format_code
from tests import builders
from tests.residents.helpers import done, link, members, to_english


def _newcomer(session: Session, phone: str = "13900000011"):
    acct = builders.account(session, phone=phone)
    session.commit()
    return acct


def _audit(session: Session, action: str) -> list[AuditEntry]:
    rows = list(session.exec(select(AuditEntry).where(AuditEntry.action == action)))
    done(session)
    return rows


def _allow_requests(session: Session, area: Area, allowed: bool) -> None:
    area.join_requests = allowed
    session.add(area)
    session.commit()


def test_a_request_never_lets_anyone_in_by_itself(client, session: Session,
                                                  world: builders.World) -> None:
    hh = world.households_a[0]
    card = builders.active_card(session, hh)
    person = _newcomer(session)
    builders.login(client, person)
    # Typed the way people do: lower case, with the dash from the card.
    resp = client.post("/me/link", data={"short_code": format_code(card.short_code).lower()})
    assert resp.status_code == 302
    home = client.get("/me/").get_data(as_text=True)
    assert "申请已提交，请等待社区管理员审核。" in home
    assert 'data-testid="card-qr"' not in home
    assert 'data-testid="points-balance"' not in home
    assert [(m.account_id, m.status) for m in members(session, hh.id)] == [(person.id, "pending")]
    assert not session.exec(select(RoleGrant).where(RoleGrant.account_id == person.id)).all()
    done(session)
    # Asking again changes nothing.
    assert client.post("/me/link", data={"short_code": card.short_code}).status_code == 302
    assert len(members(session, hh.id)) == 1


def test_empty_short_code_is_a_field_error(client, session: Session, world: builders.World) -> None:
    builders.login(client, _newcomer(session))
    resp = client.post("/me/link", data={"short_code": ""})
    assert resp.status_code == 422
    assert "请输入二维码下方印的户码。" in resp.get_data(as_text=True)
    to_english(client, "/me/link")
    resp = client.post("/me/link", data={"short_code": ""})
    assert "Enter the code printed under the QR code." in resp.get_data(as_text=True)


def test_unknown_card(client, session: Session, world: builders.World) -> None:
    builders.login(client, _newcomer(session))
    resp = client.post("/me/link", data={"short_code": "ZZZZ-ZZZZ"})
    assert resp.status_code == 404
    assert "没有与此编码匹配的卡。" in resp.get_data(as_text=True)
    to_english(client, "/me/link")
    resp = client.post("/me/link", data={"short_code": "ZZZZ-ZZZZ"})
    assert "No card matches this code." in resp.get_data(as_text=True)


def test_revoked_card(client, session: Session, world: builders.World) -> None:
    hh = world.households_a[0]
    card = builders.active_card(session, hh)
    manager = auth_services.load_actor(session, world.manager_a.id)
    households_services.reissue_card(session, actor=manager, household_id=hh.id)
    session.commit()
    builders.login(client, _newcomer(session))
    data = {"short_code": card.short_code}
    resp = client.post("/me/link", data=data)
    assert resp.status_code == 409
    assert "此卡已作废，请使用该户的新卡。" in resp.get_data(as_text=True)
    assert members(session, hh.id) == []
    to_english(client, "/me/link")
    assert "This card has been revoked." in client.post("/me/link", data=data).get_data(
        as_text=True)


def test_moved_out_household_cannot_be_linked(client, session: Session,
                                              world: builders.World) -> None:
    hh = world.households_a[0]
    card = builders.active_card(session, hh)
    hh.status = "moved_out"
    session.add(hh)
    session.commit()
    builders.login(client, _newcomer(session))
    resp = client.post("/me/link", data={"short_code": card.short_code})
    assert resp.status_code == 409
    assert "该户已迁出，无法加入。" in resp.get_data(as_text=True)
    assert members(session, hh.id) == []


def test_approval_flow(client, session: Session, world: builders.World) -> None:
    hh = world.households_a[1]
    card = builders.active_card(session, hh)
    person = _newcomer(session)
    builders.login(client, person)
    assert client.post("/me/link", data={"short_code": card.short_code}).status_code == 302
    home = client.get("/me/").get_data(as_text=True)
    assert "申请已提交，请等待社区管理员审核。" in home
    assert "您绑定 1栋1单元102室（玉龙社区）的申请正在等待社区管理员审核。" in home
    # Waiting, not also "not linked yet… Join my household": a plain link to use a slip.
    assert 'data-testid="no-household"' not in home
    assert 'data-testid="link-button"' not in home
    assert 'data-testid="link-another"' in home
    assert client.get("/me/card.svg").status_code == 404
    [member] = members(session, hh.id)
    assert member.status == "pending"
    assert len(_audit(session, "household.link_requested")) == 1
    client.post("/logout")

    builders.login(client, world.manager_a)
    page = client.get(f"/manage/links?community_id={world.a.id}").get_data(as_text=True)
    assert "13900000011" in page
    assert "1栋1单元102室" in page
    assert f'data-testid="approve-{member.id}"' in page
    resp = client.post(f"/manage/links/{member.id}/approve",
                       data={"next": f"/manage/links?community_id={world.a.id}"})
    assert resp.status_code == 302
    assert "已通过申请。" in client.get(resp.headers["Location"]).get_data(as_text=True)
    [member] = members(session, hh.id)
    assert (member.status, member.decided_by, member.role, member.joined_via) == (
        "approved", world.manager_a.id, "head", "approval")  # the first member heads it
    assert session.exec(select(RoleGrant).where(RoleGrant.account_id == person.id,
                                                RoleGrant.role == "resident")).one()
    done(session)
    [entry] = _audit(session, "household.link_approved")
    assert entry.actor_id == world.manager_a.id
    assert entry.area_id == world.a.id
    client.post("/logout")

    builders.login(client, person)
    home = client.get("/me/").get_data(as_text=True)
    assert 'data-testid="card-qr"' in home
    assert format_code(card.short_code) in home
    assert 'data-testid="pending-notice"' not in home
    assert client.get("/me/card.svg").status_code == 200


def test_manager_rejects_and_resident_may_ask_again(client, session: Session,
                                                    world: builders.World) -> None:
    hh = world.households_a[0]
    card = builders.active_card(session, hh)
    person = _newcomer(session)
    builders.login(client, person)
    client.post("/me/link", data={"short_code": card.short_code})
    [member] = members(session, hh.id)
    client.post("/logout")

    builders.login(client, world.manager_a)
    assert client.post(f"/manage/links/{member.id}/reject").status_code == 302
    [member] = members(session, hh.id)
    assert member.status == "rejected"
    assert len(_audit(session, "household.link_rejected")) == 1
    # A second click with the opposite decision is a conflict, not a silent flip.
    assert client.post(f"/manage/links/{member.id}/approve").status_code == 409
    assert members(session, hh.id)[0].status == "rejected"
    client.post("/logout")

    builders.login(client, person)
    home = client.get("/me/").get_data(as_text=True)
    assert 'data-testid="pending-notice"' not in home
    assert 'data-testid="link-button"' in home
    client.post("/me/link", data={"short_code": card.short_code})
    assert [m.status for m in members(session, hh.id)] == ["pending"]


def test_manager_closes_and_opens_requests(client, session: Session,
                                           world: builders.World) -> None:
    builders.login(client, world.manager_a)
    page = client.get("/manage/links").get_data(as_text=True)
    assert "绑定申请" in page
    assert "允许（每个申请由您审核）" in page
    assert "暂无待审核的申请。" in page
    resp = client.post("/manage/links/requests", data={"community_id": str(world.a.id)})
    assert resp.status_code == 302
    assert session.get(Area, world.a.id, populate_existing=True).join_requests is False
    done(session)
    assert "设置已保存。" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert len(_audit(session, "community.join_requests")) == 1
    client.post("/logout")

    card = builders.active_card(session, world.households_a[0])
    builders.login(client, _newcomer(session))
    resp = client.post("/me/link", data={"short_code": card.short_code})
    assert resp.status_code == 403
    assert "本社区不受理申请" in resp.get_data(as_text=True)
    assert members(session, world.households_a[0].id) == []
    to_english(client, "/me/link")
    resp = client.post("/me/link", data={"short_code": card.short_code})
    assert "This community does not take requests." in resp.get_data(as_text=True)
    client.post("/logout")

    builders.login(client, world.manager_a)
    resp = client.post("/manage/links/requests", data={"community_id": str(world.a.id),
                                                       "join_requests": "y"})
    assert resp.status_code == 302
    assert session.get(Area, world.a.id, populate_existing=True).join_requests is True
    done(session)
    to_english(client, "/manage/links")
    page = client.get("/manage/links").get_data(as_text=True)
    assert "Link requests" in page
    assert "allowed (you approve each one)" in page

def test_link_requests_page_is_for_managers(client, session: Session,
                                            world: builders.World) -> None:
    builders.login(client, world.resident_a)
    assert client.get("/manage/links").status_code == 403
    assert client.get(f"/manage/links?community_id={world.a.id}").status_code == 403


def test_city_admin_picks_a_community(client, session: Session, world: builders.World) -> None:
    card = builders.active_card(session, world.households_b[0])
    person = _newcomer(session)
    builders.login(client, person)
    client.post("/me/link", data={"short_code": card.short_code})
    client.post("/logout")
    builders.login(client, world.city_admin)
    page = client.get(f"/manage/links?community_id={world.b.id}").get_data(as_text=True)
    assert "13900000011" in page
    assert 'data-testid="community-picker"' in page
    page_a = client.get(f"/manage/links?community_id={world.a.id}").get_data(as_text=True)
    assert "13900000011" not in page_a


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_link_is_rate_limited_per_account(client, session: Session,
                                          world: builders.World) -> None:
    first, second = _newcomer(session, "13900000011"), _newcomer(session, "13900000012")
    builders.login(client, first)
    for _ in range(10):
        resp = client.post("/me/link", data={"short_code": "ZZZZ-ZZZZ"})
        assert resp.status_code == 404
    resp = client.post("/me/link", data={"short_code": "ZZZZ-ZZZZ"})
    assert resp.status_code == 429
    assert "尝试次数过多" in resp.get_data(as_text=True)
    assert client.get("/me/link").status_code == 200  # viewing the form is not limited
    client.post("/logout")
    # Another account behind the same address still gets its own ten tries.
    builders.login(client, second)
    resp = client.post("/me/link", data={"short_code": "ZZZZ-ZZZZ"})
    assert resp.status_code == 404


def test_a_manager_sees_the_number_an_sms_sign_up_is_named_by(client, session: Session,
                                                              world: builders.World) -> None:
    """An SMS sign-up with no typed name is named '139****0002'; the manager, who sees the
    login 13912340002 beside it, sees the name as the number too (never a mask that masks
    nothing), while another member of the household still sees both masked."""
    hh = world.households_a[1]
    card = builders.active_card(session, hh)
    person = _newcomer(session, "13912340002")
    person.display_name = auth_services.mask_phone(person.phone)  # as phone sign-up names it
    session.add(person)
    session.commit()
    builders.login(client, person)
    assert client.post("/me/link", data={"short_code": card.short_code}).status_code == 302
    client.post("/logout")
    builders.login(client, world.manager_a)
    page = client.get(f"/manage/links?community_id={world.a.id}").get_data(as_text=True)
    [member] = members(session, hh.id)
    row = page[page.index(f'data-testid="pending-link-{member.id}"'):]
    row = row[:row.index("</tr>")]
    assert row.count("13912340002") == 2  # the name and the login columns
    assert "139****0002" not in row
    assert client.post(f"/manage/links/{member.id}/approve").status_code == 302
    page = client.get(f"/manage/links/households/{hh.id}").get_data(as_text=True)
    row = page[page.index(f'data-testid="member-{member.id}"'):]
    row = row[:row.index("</tr>")]
    assert "139****0002" not in row
    assert row.count("13912340002") >= 2  # the name and the phone columns
    # Another member of the household sees the name and the phone masked alike.
    done(session)
    other = _newcomer(session, "13900000031")
    link(session, other.id, card)
    client.post("/logout")
    builders.login(client, other)
    page = client.get(f"/me/household/{hh.id}").get_data(as_text=True)
    assert "139****0002" in page
    assert "13912340002" not in page
