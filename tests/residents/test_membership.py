"""Joining a household without a takeover: the card grants nothing; join slips, invitations
and approvals let people in; heads and managers remove members; managers disable accounts."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask.testing import FlaskClient
from sqlmodel import Session, select

from community import clock
from community.audit.models import AuditEntry
from community.auth import services as auth_services
from community.auth.models import Account, RoleGrant
from community.households import codes
from community.households.models import HouseholdInvitation, HouseholdJoinCode
from community.points import services as points_services
from community.points.schemas import AdjustIn
from tests import builders
from tests.residents.helpers import done, link, members, slip_code, to_english


def _newcomer(session: Session, phone: str, name: str = "住户") -> Account:
    acct = builders.account(session, phone=phone)
    acct.display_name = name
    session.add(acct)
    session.commit()
    return acct


def _audit(session: Session, action: str) -> list[AuditEntry]:
    rows = list(session.exec(select(AuditEntry).where(AuditEntry.action == action)
                             .order_by(AuditEntry.id)))
    done(session)
    return rows


def _code(session: Session, household_id: int) -> str:
    code = slip_code(session, household_id)
    session.commit()
    return code


def _give_points(session: Session, world: builders.World, household_id: int, n: int) -> None:
    manager = auth_services.load_actor(session, world.manager_a.id)
    points_services.adjust(session, actor=manager, household_id=household_id,
                           data=AdjustIn.parse(amount=n, reason="测试"))
    session.commit()


def _invite(client: FlaskClient, household_id: int) -> str:
    """The head makes an invitation on the household page; returns its link's path."""
    resp = client.post(f"/me/household/{household_id}/invite")
    # Post/Redirect/Get (QA #20): the QR and the link are shown once by a GET page.
    assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
    shown = resp.headers["Location"]
    assert re.fullmatch(rf"/me/household/{household_id}/invite/\d+", shown)
    resp = client.get(shown)
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    page = resp.get_data(as_text=True)
    assert 'data-testid="invite-qr"' in page
    path = re.search(r'href="http://[^/"]+(/me/join/i/[^"]+)"', page)
    assert path is not None
    again = client.get(shown)  # a reload: shown no more, back to the household page
    assert again.status_code == 302
    assert again.headers["Location"] == f"/me/household/{household_id}"
    assert path.group(1) not in client.get(again.headers["Location"]).get_data(as_text=True)
    return path.group(1)


def _sees_no_household(client: FlaskClient, household_id: int, address: str) -> None:
    """A cookie of someone not in the household (or no longer): no data of it anywhere."""
    body = client.get("/me/").get_data(as_text=True)
    assert address not in body
    assert 'data-testid="points-balance"' not in body
    assert 'data-testid="card-qr"' not in body
    assert client.get(f"/me/household/{household_id}").status_code == 404
    assert client.get(f"/me/card.png?household_id={household_id}").status_code == 404
    assert client.get(f"/me/points?household_id={household_id}").status_code in (302, 404)


def _gets_the_login_page(client: FlaskClient, household_id: int) -> None:
    """An old cookie whose sessions were ended: every resident page sends it to log in."""
    for url in ("/me/", f"/me/household/{household_id}", f"/me/points?household_id={household_id}",
                f"/me/card.png?household_id={household_id}"):
        resp = client.get(url)
        assert resp.status_code == 302, url
        assert "/login" in resp.headers["Location"], url


def test_the_card_takeover_fails_at_its_first_step(client, session: Session,
                                                   world: builders.World) -> None:
    """A steward sees the card at the station (short code and QR token) and tries to get in."""
    hh = world.households_a[0]
    card = builders.active_card(session, hh)
    _give_points(session, world, hh.id, 178)
    steward = world.steward_a
    builders.login(client, steward)
    # 1. The card's codes are not join codes.
    for seen in (card.short_code, codes.format_code(card.short_code), card.token):
        resp = client.post("/me/join", data={"code": seen})
        assert resp.status_code == 422, seen
        assert "请输入您家加入凭证上的 12 位加入码。" in resp.get_data(as_text=True)
    assert members(session, hh.id) == []
    # 2. A request by the card only waits for the manager: no data, no card, no points.
    assert client.post("/me/link", data={"short_code": card.token}).status_code == 422
    assert client.post("/me/link", data={"short_code": card.short_code}).status_code == 302
    home = client.get("/me/").get_data(as_text=True)
    assert 'data-testid="pending-notice"' in home
    assert "178" not in home
    assert 'data-testid="points-balance"' not in home
    assert client.get("/me/card.png").status_code == 404
    assert client.get(f"/me/household/{hh.id}").status_code == 404
    assert client.get(f"/me/points?household_id={hh.id}").status_code in (302, 404)
    assert [(m.account_id, m.status) for m in members(session, hh.id)] == [
        (steward.id, "pending")]
    client.post("/logout")

    # The family joins with the slip the manager handed them (not the card).
    family = _newcomer(session, "13900000031", "王家")
    code = _code(session, hh.id)
    builders.login(client, family)
    resp = client.post("/me/join", data={"code": codes.format_join_code(code).lower()})
    assert resp.status_code == 302
    home = client.get("/me/").get_data(as_text=True)
    assert "您已加入 1栋1单元101室。" in home
    assert '<span class="stat" data-testid="points-balance">178</span>' in home
    rows = {m.account_id: m for m in members(session, hh.id)}
    assert (rows[family.id].status, rows[family.id].role, rows[family.id].joined_via) == (
        "approved", "head", "join_code")
    assert rows[steward.id].status == "pending"
    client.post("/logout")

    # The manager sees the steward's request next to the real head and rejects it.
    builders.login(client, world.manager_a)
    page = client.get(f"/manage/links/households/{hh.id}").get_data(as_text=True)
    assert "王家" in page
    assert 'data-testid="head-badge"' in page
    assert f'data-testid="reject-{rows[steward.id].id}"' in page
    assert client.post(f"/manage/links/{rows[steward.id].id}/reject").status_code == 302
    client.post("/logout")
    builders.login(client, steward)
    _sees_no_household(client, hh.id, "1栋1单元101室")
    [entry] = _audit(session, "household.joined")
    assert (entry.actor_id, entry.detail["via"], entry.detail["role"]) == (
        family.id, "join_code", "head")


def test_a_join_code_is_single_use_and_wrong_codes_change_nothing(client, session: Session,
                                                                  world: builders.World) -> None:
    hh = world.households_a[1]
    code = _code(session, hh.id)
    first, second = _newcomer(session, "13900000041"), _newcomer(session, "13900000042")
    builders.login(client, second)
    wrong = ("2" if code[0] != "2" else "3") + code[1:]
    resp = client.post("/me/join", data={"code": wrong})
    assert resp.status_code == 422
    assert "加入码无效，请核对您家加入凭证上的加入码。" in resp.get_data(as_text=True)
    to_english(client, "/me/join")
    resp = client.post("/me/join", data={"code": wrong})
    assert "This join code is not valid." in resp.get_data(as_text=True)
    assert members(session, hh.id) == []
    assert len(_audit(session, "household.join_failed")) == 2  # kept although refused
    client.post("/logout")

    builders.login(client, first)
    assert client.post("/me/join", data={"code": code}).status_code == 302
    assert client.post("/me/join", data={"code": code}).status_code == 302  # a double submit
    client.post("/logout")
    builders.login(client, second)
    resp = client.post("/me/join", data={"code": code})
    assert resp.status_code == 422
    assert "This join code has already been used." in resp.get_data(as_text=True)
    assert [(m.account_id, m.role) for m in members(session, hh.id)] == [(first.id, "head")]


def test_new_slips_void_the_old_ones(client, session: Session, world: builders.World) -> None:
    hh = world.households_a[0]
    old = _code(session, hh.id)
    new = _code(session, hh.id)
    builders.login(client, _newcomer(session, "13900000051"))
    resp = client.post("/me/join", data={"code": old})
    assert resp.status_code == 422
    assert "此加入凭证已被新凭证取代" in resp.get_data(as_text=True)
    assert members(session, hh.id) == []
    assert client.post("/me/join", data={"code": new}).status_code == 302


def test_an_expired_join_code(client, session: Session, world: builders.World) -> None:
    hh = world.households_a[0]
    printed = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
    with clock.freeze(printed):
        code = _code(session, hh.id)
    person = _newcomer(session, "13900000061")
    with clock.freeze(printed + timedelta(days=30, seconds=1)):
        builders.login(client, person)
        resp = client.post("/me/join", data={"code": code})
        assert resp.status_code == 422
        assert "加入码已过期，请向社区管理员索取新的加入凭证。" in resp.get_data(as_text=True)
        to_english(client, "/me/join")
        resp = client.post("/me/join", data={"code": code})
        assert "This join code has expired." in resp.get_data(as_text=True)
    assert members(session, hh.id) == []
    row = session.exec(select(HouseholdJoinCode)).one()
    assert row.used_at is None
    done(session)
    with clock.freeze(printed + timedelta(days=29)):
        builders.login(client, person)
        assert client.post("/me/join", data={"code": code}).status_code == 302


def test_a_join_code_of_another_community(client, session: Session,
                                          world: builders.World) -> None:
    hh_b = world.households_b[0]
    code = _code(session, hh_b.id)
    person = _newcomer(session, "13900000071")
    builders.login(client, person)
    # The resident came from community A's poster: B's slip is refused, nothing is spent.
    page = client.get(f"/me/join?community={world.a.id}").get_data(as_text=True)
    assert f'value="{world.a.id}"' in page
    resp = client.post("/me/join", data={"code": code, "community_id": str(world.a.id)})
    assert resp.status_code == 422
    assert "此加入码属于其他社区的住户，请核对凭证。" in resp.get_data(as_text=True)
    to_english(client, "/me/join")
    resp = client.post("/me/join", data={"code": code, "community_id": str(world.a.id)})
    assert "belongs to a household of another community" in resp.get_data(as_text=True)
    assert members(session, hh_b.id) == []
    assert session.exec(select(HouseholdJoinCode)).one().used_at is None
    done(session)
    assert client.post("/me/join", data={"code": code,
                                         "community_id": str(world.b.id)}).status_code == 302


def test_a_moved_out_household_cannot_be_joined(client, session: Session,
                                                world: builders.World) -> None:
    hh = world.households_a[0]
    code = _code(session, hh.id)
    hh.status = "moved_out"
    session.add(hh)
    session.commit()
    builders.login(client, _newcomer(session, "13900000081"))
    resp = client.post("/me/join", data={"code": code})
    assert resp.status_code == 409
    assert "该户已迁出，无法加入。" in resp.get_data(as_text=True)
    assert members(session, hh.id) == []


def test_an_invitation_lets_one_person_in_once(client, session: Session,
                                               world: builders.World) -> None:
    hh = world.households_a[0]
    builders.active_card(session, hh)
    head = world.resident_a
    link(session, head.id, builders.active_card(session, hh))
    builders.login(client, head)
    page = client.get(f"/me/household/{hh.id}").get_data(as_text=True)
    assert 'data-testid="invite-button"' in page
    path = _invite(client, hh.id)
    client.post("/logout")

    spouse = _newcomer(session, "13900000091", "配偶")
    builders.login(client, spouse)
    page = client.get(path).get_data(as_text=True)
    assert "邀请您加入 1栋1单元101室" in page
    assert client.post(path).status_code == 302
    assert 'data-testid="points-balance"' in client.get("/me/").get_data(as_text=True)
    assert client.post(path).status_code == 302  # the same person again: already a member
    client.post("/logout")

    stranger = _newcomer(session, "13900000092")
    builders.login(client, stranger)
    resp = client.get(path)
    assert resp.status_code == 422
    assert "此邀请已被使用" in resp.get_data(as_text=True)
    resp = client.post(path)
    assert resp.status_code == 422
    to_english(client, "/me/")
    assert "This invitation has already been used." in client.post(path).get_data(as_text=True)
    rows = members(session, hh.id)
    assert [(m.account_id, m.role, m.joined_via) for m in rows] == [
        (head.id, "head", "join_code"), (spouse.id, "member", "invitation")]
    assert client.get("/me/join/i/not-a-token").status_code == 404


def test_an_invitation_dies_with_its_inviters_membership(client, session: Session,
                                                         world: builders.World) -> None:
    hh = world.households_a[0]
    head = world.resident_a
    link(session, head.id, builders.active_card(session, hh))
    builders.login(client, head)
    path = _invite(client, hh.id)
    client.post("/logout")
    builders.login(client, world.manager_a)
    [member] = members(session, hh.id)
    assert client.post(f"/manage/links/members/{member.id}/remove").status_code == 302
    client.post("/logout")
    builders.login(client, _newcomer(session, "13900000101"))
    resp = client.post(path)
    assert resp.status_code == 422
    assert "发出此邀请的人已无权邀请加入此户。" in resp.get_data(as_text=True)
    assert [m.status for m in members(session, hh.id)] == ["removed"]


def test_expired_and_withdrawn_invitations(client, session: Session,
                                           world: builders.World) -> None:
    hh = world.households_a[0]
    head = world.resident_a
    link(session, head.id, builders.active_card(session, hh))
    start = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    with clock.freeze(start):
        builders.login(client, head)
        stale = _invite(client, hh.id)
    builders.login(client, head)
    withdrawn = _invite(client, hh.id)
    inv = session.exec(select(HouseholdInvitation).order_by(HouseholdInvitation.id)).all()[-1]
    done(session)
    page = client.get(f"/me/household/{hh.id}").get_data(as_text=True)
    assert f'data-testid="revoke-invitation-{inv.id}"' in page
    assert client.post(f"/me/invitations/{inv.id}/revoke").status_code == 302
    client.post("/logout")
    builders.login(client, _newcomer(session, "13900000111"))
    resp = client.post(stale)
    assert resp.status_code == 422
    assert "此邀请已过期" in resp.get_data(as_text=True)
    resp = client.post(withdrawn)
    assert resp.status_code == 422
    assert "此邀请已撤回" in resp.get_data(as_text=True)
    assert len(members(session, hh.id)) == 1


def _household_of_two(session: Session, world: builders.World):
    hh = world.households_a[0]
    head = world.resident_a
    other = _newcomer(session, "13900000121", "家人")
    link(session, head.id, builders.active_card(session, hh))
    link(session, other.id, builders.active_card(session, hh))
    return hh, head, other


def test_the_head_removes_a_member_whose_old_cookie_then_sees_nothing(
        app, client, session: Session, world: builders.World) -> None:
    hh, head, other = _household_of_two(session, world)
    theirs = app.test_client()
    builders.login(theirs, other)
    assert 'data-testid="points-balance"' in theirs.get("/me/").get_data(as_text=True)

    builders.login(client, head)
    page = client.get(f"/me/household/{hh.id}").get_data(as_text=True)
    assert "139****0121" in page
    assert "13900000121" not in page
    assert "13800000001" in page  # one's own is not
    [_, member] = members(session, hh.id)
    assert f'data-testid="remove-{member.id}"' in page
    assert client.post(f"/me/members/{member.id}/remove").status_code == 302
    assert [m.status for m in members(session, hh.id)] == ["approved", "removed"]
    [entry] = _audit(session, "household.member_removed")
    assert (entry.actor_id, entry.detail["reason"]) == (head.id, "head")
    # Their last household of the community: the resident role there is gone; the head's stays.
    residents = set(session.exec(select(RoleGrant.account_id).where(
        RoleGrant.area_id == world.a.id, RoleGrant.role == "resident")).all())
    assert other.id not in residents
    assert head.id in residents
    session.commit()

    _gets_the_login_page(theirs, hh.id)
    # Logged in again, the removed member is a stranger to the household.
    builders.login(theirs, other)
    _sees_no_household(theirs, hh.id, "1栋1单元101室")


def test_a_member_who_is_not_head_cannot_remove_others(client, session: Session,
                                                       world: builders.World) -> None:
    hh, head, other = _household_of_two(session, world)
    builders.login(client, other)
    page = client.get(f"/me/household/{hh.id}").get_data(as_text=True)
    assert 'data-testid="invite-button"' not in page
    assert "data-testid=\"remove-" not in page
    [head_row, _] = members(session, hh.id)
    resp = client.post(f"/me/members/{head_row.id}/remove")
    assert resp.status_code == 403
    assert "只有户主可以进行此操作。" in resp.get_data(as_text=True)
    assert client.post(f"/me/household/{hh.id}/invite").status_code == 403
    assert [m.status for m in members(session, hh.id)] == ["approved", "approved"]
    # Leaving is one's own choice.
    [_, mine] = members(session, hh.id)
    assert client.post(f"/me/members/{mine.id}/remove").status_code == 302
    assert [m.status for m in members(session, hh.id)] == ["approved", "removed"]


def test_a_removed_head_hands_over_to_the_next_member(client, session: Session,
                                                      world: builders.World) -> None:
    hh, head, other = _household_of_two(session, world)
    builders.login(client, world.manager_a)
    [head_row, _] = members(session, hh.id)
    assert client.post(f"/manage/links/members/{head_row.id}/remove").status_code == 302
    rows = members(session, hh.id)
    assert [(m.account_id, m.status, m.role) for m in rows] == [
        (head.id, "removed", "member"), (other.id, "approved", "head")]
    assert len(_audit(session, "household.head_changed")) == 1


def test_the_manager_disables_an_account_and_its_cookie_stops_working(
        app, client, session: Session, world: builders.World) -> None:
    hh, head, other = _household_of_two(session, world)
    theirs = app.test_client()
    builders.login(theirs, other)
    assert theirs.get("/me/").status_code == 200
    builders.login(client, world.manager_a)
    page = client.get(f"/manage/links/households/{hh.id}").get_data(as_text=True)
    assert "13900000121" in page  # the manager sees the phone in full
    assert f'data-testid="disable-{other.id}"' in page
    assert client.post(f"/manage/links/accounts/{other.id}/disable").status_code == 302
    assert session.get(Account, other.id, populate_existing=True).active is False
    done(session)
    _gets_the_login_page(theirs, hh.id)
    assert theirs.post("/login", data={"login": other.phone,
                                       "password": builders.PASSWORD}).status_code != 302
    [entry] = _audit(session, "account.disabled")
    assert (entry.actor_id, entry.target_id) == (world.manager_a.id, other.id)
    # Staff accounts are not disabled here, nor one's own.
    link(session, world.steward_a.id, builders.active_card(session, world.households_a[1]))
    assert client.post(f"/manage/links/accounts/{world.steward_a.id}/disable").status_code == 403
    assert client.post(f"/manage/links/accounts/{world.manager_a.id}/disable").status_code == 403
    assert session.get(Account, world.steward_a.id, populate_existing=True).active is True
    done(session)


def test_manager_prints_join_slips_for_a_building(client, session: Session,
                                                  world: builders.World) -> None:
    hh = world.households_a[0]
    old = _code(session, hh.id)
    builders.login(client, world.manager_a)
    page = client.get("/manage/links").get_data(as_text=True)
    assert 'data-testid="slips-print"' in page
    resp = client.post("/manage/links/slips.pdf", data={"community_id": str(world.a.id),
                                                         "building": "1"})
    assert resp.status_code == 200
    assert resp.mimetype == "application/pdf"
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.data.startswith(b"%PDF")
    rows = session.exec(select(HouseholdJoinCode).order_by(HouseholdJoinCode.id)).all()
    assert len(rows) == 4
    assert rows[0].voided_at is not None
    assert all(r.voided_at is None for r in rows[1:])
    assert all(len(r.code_hash) == 64 for r in rows)  # hashes only
    done(session)
    [entry] = _audit(session, "household.join_slips_printed")[-1:]
    assert entry.detail["count"] == 3
    assert client.post("/manage/links/slips.pdf",
                       data={"community_id": str(world.a.id)}).status_code == 422
    builders.login(client, _newcomer(session, "13900000131"))
    assert client.post("/me/join", data={"code": old}).status_code == 422


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_join_code_failures_are_throttled_per_account_successes_are_not(
        client, session: Session, world: builders.World) -> None:
    person = _newcomer(session, "13900000141")
    code = _code(session, world.households_a[0].id)
    builders.login(client, person)
    for _ in range(9):
        assert client.post("/me/join", data={"code": "ABCD-EFGH-JKMN"}).status_code == 422
    assert client.post("/me/join", data={"code": code}).status_code == 302  # not counted
    assert client.post("/me/join", data={"code": "ABCD-EFGH-JKMN"}).status_code == 422
    resp = client.post("/me/join", data={"code": "ABCD-EFGH-JKMN"})
    assert resp.status_code == 429
    assert "尝试次数过多" in resp.get_data(as_text=True)
    client.post("/logout")
    builders.login(client, _newcomer(session, "13900000142"))
    assert client.post("/me/join", data={"code": "ABCD-EFGH-JKMN"}).status_code == 422


def test_pages_fit_a_phone_and_speak_english(client, session: Session,
                                             world: builders.World) -> None:
    hh, head, _other = _household_of_two(session, world)
    builders.login(client, head)
    page = client.get(f"/me/household/{hh.id}").get_data(as_text=True)
    assert 'class="container resident"' in page
    assert "户主" in page
    to_english(client, f"/me/household/{hh.id}")
    page = client.get(f"/me/household/{hh.id}").get_data(as_text=True)
    assert "Household members" in page
    assert "Invite a family member" in page
    page = client.get("/me/join").get_data(as_text=True)
    assert "Join my household" in page
    assert 'href="/me/link"' in page


def test_the_join_slip_has_one_name_in_chinese() -> None:
    """The slip is 加入凭证 on every page (its print button, the manager's help, the join
    page); QA read "请输入户加入凭证上的…" on the join page as broken Chinese."""
    po = Path(__file__).resolve().parents[2] / "community/translations/zh/LC_MESSAGES/messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale="zh")
    slip = [m.string for m in catalog if m.id and "join slip" in str(m.id)]
    assert slip, "the catalog names the join slip"
    assert [s for s in slip if "加入凭证" not in s or "户加入凭证" in s] == []
