"""Linking an account to a household: code mode, approval mode, errors in Chinese and English."""
from __future__ import annotations

import pytest
from sqlmodel import Session, select

from community.areas.models import Area
from community.audit.models import AuditEntry
from community.auth import services as auth_services
from community.auth.models import RoleGrant
from community.households import services as households_services
from community.households.codes import format_code
from community.households.models import Card
from tests import builders
from tests.residents.helpers import done, members, to_english


def _newcomer(session: Session, phone: str = "13900000011"):
    acct = builders.account(session, phone=phone)
    session.commit()
    return acct


def _audit(session: Session, action: str) -> list[AuditEntry]:
    rows = list(session.exec(select(AuditEntry).where(AuditEntry.action == action)))
    done(session)
    return rows


def _used_at(session: Session, card_id: int):
    value = session.get(Card, card_id, populate_existing=True).link_code_used_at
    done(session)
    return value


def _set_mode(session: Session, area: Area, mode: str) -> None:
    area.link_mode = mode
    session.add(area)
    session.commit()


def test_link_by_code_links_at_once_and_spends_the_code(client, session: Session,
                                                        world: builders.World) -> None:
    hh = world.households_a[0]
    card = builders.active_card(session, hh)
    person = _newcomer(session)
    builders.login(client, person)
    # Typed the way people do: lower case, with the dash from the card.
    resp = client.post("/me/link", data={"short_code": format_code(card.short_code).lower(),
                                         "link_code": f" {card.link_code.lower()} "})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/me/")
    home = client.get("/me/").get_data(as_text=True)
    assert "您的账号已绑定到 1栋1单元101室。" in home
    assert format_code(card.short_code) in home
    assert "玉龙社区" in home
    assert f'src="/me/card.svg?household_id={hh.id}"' in home

    [member] = members(session, hh.id)
    assert (member.account_id, member.status, member.decided_by) == (person.id, "approved", None)
    assert _used_at(session, card.id) is not None
    assert session.exec(select(RoleGrant).where(
        RoleGrant.account_id == person.id, RoleGrant.role == "resident",
        RoleGrant.area_id == world.a.id)).one()
    done(session)
    [entry] = _audit(session, "household.linked")
    assert (entry.actor_id, entry.area_id, entry.target_id) == (person.id, world.a.id, hh.id)


def test_linking_again_is_idempotent(client, session: Session, world: builders.World) -> None:
    hh = world.households_a[0]
    card = builders.active_card(session, hh)
    person = _newcomer(session)
    builders.login(client, person)
    data = {"short_code": card.short_code, "link_code": card.link_code}
    assert client.post("/me/link", data=data).status_code == 302
    assert client.post("/me/link", data=data).status_code == 302  # the code is spent: no error
    assert "您的账号已经绑定了 1栋1单元101室。" in client.get("/me/").get_data(as_text=True)
    assert [m.status for m in members(session, hh.id)] == ["approved"]
    grants = session.exec(select(RoleGrant).where(RoleGrant.account_id == person.id)).all()
    assert [g.role for g in grants] == ["resident"]
    done(session)


def test_wrong_link_code_is_refused_with_one_message(client, session: Session,
                                                     world: builders.World) -> None:
    hh = world.households_a[0]
    card = builders.active_card(session, hh)
    person = _newcomer(session)
    builders.login(client, person)
    wrong = "22222" + ("3" if card.link_code[-1] != "3" else "4")
    resp = client.post("/me/link", data={"short_code": card.short_code, "link_code": wrong})
    assert resp.status_code == 422
    assert "绑定码与此卡不符，请核对卡上印的绑定码。" in resp.get_data(as_text=True)
    assert members(session, hh.id) == []
    assert _used_at(session, card.id) is None
    assert len(_audit(session, "household.link_failed")) == 1  # kept although the link failed

    to_english(client, "/me/link")
    resp = client.post("/me/link", data={"short_code": card.short_code, "link_code": wrong})
    assert "The link code does not match this card." in resp.get_data(as_text=True)


def test_link_code_required_in_code_mode(client, session: Session, world: builders.World) -> None:
    card = builders.active_card(session, world.households_a[0])
    builders.login(client, _newcomer(session))
    resp = client.post("/me/link", data={"short_code": card.short_code, "link_code": ""})
    assert resp.status_code == 422
    assert "请输入卡上印的绑定码。" in resp.get_data(as_text=True)
    assert members(session, world.households_a[0].id) == []


def test_empty_short_code_is_a_field_error(client, session: Session, world: builders.World) -> None:
    builders.login(client, _newcomer(session))
    resp = client.post("/me/link", data={"short_code": "", "link_code": "ABCDEF"})
    assert resp.status_code == 422
    assert "请输入二维码下方印的户码。" in resp.get_data(as_text=True)
    to_english(client, "/me/link")
    resp = client.post("/me/link", data={"short_code": "", "link_code": "ABCDEF"})
    assert "Enter the code printed under the QR code." in resp.get_data(as_text=True)


def test_reused_code_becomes_a_request_for_the_manager(client, session: Session,
                                                       world: builders.World) -> None:
    hh = world.households_a[0]
    card = builders.active_card(session, hh)
    first, second = _newcomer(session, "13900000011"), _newcomer(session, "13900000012")
    data = {"short_code": card.short_code, "link_code": card.link_code}
    builders.login(client, first)
    assert client.post("/me/link", data=data).status_code == 302
    client.post("/logout")

    builders.login(client, second)
    assert client.post("/me/link", data=data).status_code == 302
    home = client.get("/me/").get_data(as_text=True)
    assert "此卡的绑定码已被使用，您的申请已转交社区管理员审核。" in home
    assert 'data-testid="pending-notice"' in home
    assert 'data-testid="card-qr"' not in home
    assert [(m.account_id, m.status) for m in members(session, hh.id)] == [
        (first.id, "approved"), (second.id, "pending")]
    assert not session.exec(select(RoleGrant).where(RoleGrant.account_id == second.id)).all()
    done(session)

    to_english(client)
    assert client.post("/me/link", data=data).status_code == 302
    assert "already been used, so your request was sent" in client.get("/me/").get_data(
        as_text=True)
    assert len(members(session, hh.id)) == 2


def test_unknown_card(client, session: Session, world: builders.World) -> None:
    builders.login(client, _newcomer(session))
    resp = client.post("/me/link", data={"short_code": "ZZZZ-ZZZZ", "link_code": "ABCDEF"})
    assert resp.status_code == 404
    assert "没有与此编码匹配的卡。" in resp.get_data(as_text=True)
    to_english(client, "/me/link")
    resp = client.post("/me/link", data={"short_code": "ZZZZ-ZZZZ", "link_code": "ABCDEF"})
    assert "No card matches this code." in resp.get_data(as_text=True)


def test_revoked_card(client, session: Session, world: builders.World) -> None:
    hh = world.households_a[0]
    card = builders.active_card(session, hh)
    manager = auth_services.load_actor(session, world.manager_a.id)
    households_services.reissue_card(session, actor=manager, household_id=hh.id)
    session.commit()
    builders.login(client, _newcomer(session))
    data = {"short_code": card.short_code, "link_code": card.link_code}
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
    resp = client.post("/me/link", data={"short_code": card.short_code,
                                         "link_code": card.link_code})
    assert resp.status_code == 409
    assert "该户已迁出，无法绑定。" in resp.get_data(as_text=True)
    assert members(session, hh.id) == []


def test_approval_mode_flow(client, session: Session, world: builders.World) -> None:
    _set_mode(session, world.a, "approval")
    hh = world.households_a[1]
    card = builders.active_card(session, hh)
    person = _newcomer(session)
    builders.login(client, person)
    # No link code needed in approval mode.
    assert client.post("/me/link", data={"short_code": card.short_code}).status_code == 302
    home = client.get("/me/").get_data(as_text=True)
    assert "申请已提交，请等待社区管理员审核。" in home
    assert "您绑定 1栋1单元102室（玉龙社区）的申请正在等待社区管理员审核。" in home
    assert 'data-testid="link-button"' in home
    assert client.get("/me/card.svg").status_code == 404
    [member] = members(session, hh.id)
    assert member.status == "pending"
    assert _used_at(session, card.id) is None  # the code stays unspent
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
    assert (member.status, member.decided_by) == ("approved", world.manager_a.id)
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
    _set_mode(session, world.a, "approval")
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


def test_manager_sets_link_mode(client, session: Session, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    page = client.get("/manage/links").get_data(as_text=True)
    assert "绑定申请" in page
    assert "凭卡上绑定码（即时绑定）" in page
    assert "暂无待审核的申请。" in page
    resp = client.post("/manage/links/mode", data={"community_id": str(world.a.id),
                                                   "link_mode": "approval"})
    assert resp.status_code == 302
    assert session.get(Area, world.a.id, populate_existing=True).link_mode == "approval"
    done(session)
    assert "绑定方式已保存。" in client.get(resp.headers["Location"]).get_data(as_text=True)

    bad = client.post("/manage/links/mode", data={"community_id": str(world.a.id),
                                                  "link_mode": "anyone"})
    assert bad.status_code == 422
    assert session.get(Area, world.a.id, populate_existing=True).link_mode == "approval"
    done(session)

    to_english(client, "/manage/links")
    page = client.get("/manage/links").get_data(as_text=True)
    assert "Link requests" in page
    assert "Manager approval" in page


def test_link_requests_page_is_for_managers(client, session: Session,
                                            world: builders.World) -> None:
    builders.login(client, world.resident_a)
    assert client.get("/manage/links").status_code == 403
    assert client.get(f"/manage/links?community_id={world.a.id}").status_code == 403


def test_city_admin_picks_a_community(client, session: Session, world: builders.World) -> None:
    _set_mode(session, world.b, "approval")
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
        resp = client.post("/me/link", data={"short_code": "ZZZZ-ZZZZ", "link_code": "ABCDEF"})
        assert resp.status_code == 404
    resp = client.post("/me/link", data={"short_code": "ZZZZ-ZZZZ", "link_code": "ABCDEF"})
    assert resp.status_code == 429
    assert "尝试次数过多" in resp.get_data(as_text=True)
    assert client.get("/me/link").status_code == 200  # viewing the form is not limited
    client.post("/logout")
    # Another account behind the same address still gets its own ten tries.
    builders.login(client, second)
    resp = client.post("/me/link", data={"short_code": "ZZZZ-ZZZZ", "link_code": "ABCDEF"})
    assert resp.status_code == 404
