"""Stewards: invitation links, self sign-up, approval, retirement, profile, training, chiefs."""
from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from community import clock
from community.audit.models import AuditEntry
from community.auth import services as auth_services
from community.auth.models import RoleGrant
from community.errors import InvalidInput, OwnDecision
from community.households.models import HouseholdMember
from community.inbox.models import Notification
from community.stations.models import Station
from community.volunteers.models import Steward, StewardInvite
from community.volunteers.stewards import queries as steward_queries
from community.volunteers.stewards import rules as steward_rules
from community.volunteers.stewards import services as stewards
from community.volunteers.stewards.schemas import AvailabilityIn, InviteIn
from tests import builders
from tests.builders import World
from tests.volunteers.stewards import builders as sb


def _invite(client, world: World, days: int = 14, max_uses: int = 20) -> str:
    """Create an invitation link as manager A through the page; return its token."""
    builders.login(client, world.manager_a)
    resp = client.post(f"/manage/stewards/invites?community_id={world.a.id}",
                       data={"days": str(days), "max_uses": str(max_uses)})
    # Post/Redirect/Get (QA #20): the link is shown once by a GET page of its own.
    assert resp.status_code == 303, resp.get_data(as_text=True)[:400]
    shown = resp.headers["Location"]
    assert re.fullmatch(r"/manage/stewards/invites/\d+/link", shown)
    resp = client.get(shown)
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    link = re.search(r'value="(http[^"]+/steward/join/([^"]+))"', resp.get_data(as_text=True))
    assert link, "the link is shown once"
    again = client.get(shown)  # a reload: shown no more, back to the list saying so
    assert again.status_code == 302
    assert link.group(2) not in client.get(again.headers["Location"]).get_data(as_text=True)
    client.post("/logout")
    return link.group(2)


def _roles(session: Session, account_id: int, area_id: int) -> set[str]:
    sb.fresh(session)
    return set(session.exec(select(RoleGrant.role).where(
        RoleGrant.account_id == account_id, RoleGrant.area_id == area_id)).all())


def _actions(session: Session) -> list[str]:
    sb.fresh(session)
    return list(session.exec(select(AuditEntry.action).order_by(AuditEntry.id)).all())


# --- Invitations ----------------------------------------------------------------------------

def test_invitation_flow(client, session: Session, world: World) -> None:
    token = _invite(client, world, max_uses=5)
    invite = session.exec(select(StewardInvite)).one()
    assert invite.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in invite.token_hash
    assert "steward_invite.created" in _actions(session)

    volunteer = builders.account(session, phone="13900000011")
    session.commit()
    builders.login(client, volunteer)
    page = client.get(f"/steward/join/{token}")
    assert page.status_code == 200
    assert world.a.name in page.get_data(as_text=True)
    assert session.exec(select(Steward)).all() == []  # opening the link alone changes nothing

    resp = client.post(f"/steward/join/{token}")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/steward/profile")
    sb.fresh(session)
    row = session.exec(select(Steward)).one()
    assert (row.community_id, row.account_id, row.status, row.invite_id) == (
        world.a.id, volunteer.id, "pending", invite.id)
    assert session.get(StewardInvite, invite.id).uses == 1
    profile = client.get("/steward/profile").get_data(as_text=True)
    assert "等待社区管理员" in profile or "waiting" in profile

    # The same person again: a clear refusal, and the use is not spent twice.
    again = client.post(f"/steward/join/{token}")
    assert again.status_code == 409
    assert "已经报名" in again.get_data(as_text=True)
    sb.fresh(session)
    assert session.get(StewardInvite, invite.id).uses == 1
    assert len(session.exec(select(Steward)).all()) == 1


def test_invite_list_never_shows_the_token(client, session: Session, world: World) -> None:
    token = _invite(client, world)
    builders.login(client, world.manager_a)
    body = client.get(f"/manage/stewards/invites?community_id={world.a.id}").get_data(
        as_text=True)
    assert 'data-testid="invite-row"' in body
    assert token not in body


def _refused(client, session: Session, token: str, status: int, text: str) -> None:
    before = session.exec(select(StewardInvite.uses)).all()
    for method in ("GET", "POST"):
        resp = client.open(f"/steward/join/{token}", method=method)
        assert resp.status_code == status, (method, resp.status_code)
        assert text in resp.get_data(as_text=True)
    sb.fresh(session)
    assert session.exec(select(Steward)).all() == []
    assert session.exec(select(StewardInvite.uses)).all() == before


def test_expired_invite_is_refused(client, session: Session, world: World) -> None:
    actor = auth_services.load_actor(session, world.manager_a.id)
    _inv, token = stewards.create_invite(session, actor=actor, community_id=world.a.id,
                                         data=InviteIn.parse(days=1, max_uses=5),
                                         now=clock.now() - timedelta(days=2))
    session.commit()
    builders.login(client, world.resident_b)
    _refused(client, session, token, 410, "已过期")


def test_revoked_invite_is_refused(client, session: Session, world: World) -> None:
    token = _invite(client, world)
    invite = session.exec(select(StewardInvite)).one()
    builders.login(client, world.manager_a)
    assert client.post(f"/manage/stewards/invites/{invite.id}/revoke").status_code == 302
    sb.fresh(session)
    assert session.get(StewardInvite, invite.id).revoked_at is not None
    client.post("/logout")
    builders.login(client, world.resident_b)
    _refused(client, session, token, 410, "撤回")


def test_used_up_invite_is_refused(client, session: Session, world: World) -> None:
    token = _invite(client, world, max_uses=1)
    first = builders.account(session, phone="13900000012")
    session.commit()
    builders.login(client, first)
    assert client.post(f"/steward/join/{token}").status_code == 302
    client.post("/logout")
    builders.login(client, world.resident_b)
    for method in ("GET", "POST"):
        resp = client.open(f"/steward/join/{token}", method=method)
        assert resp.status_code == 410
        assert "次数" in resp.get_data(as_text=True)
    sb.fresh(session)
    assert [s.account_id for s in session.exec(select(Steward)).all()] == [first.id]
    assert session.exec(select(StewardInvite)).one().uses == 1


def test_unknown_token_and_anonymous(client, session: Session, world: World) -> None:
    assert client.get("/steward/join/whatever").status_code == 302  # log in first
    builders.login(client, world.resident_b)
    resp = client.post("/steward/join/not-a-real-token")
    assert resp.status_code == 404
    assert "无效" in resp.get_data(as_text=True)


def test_invite_form_validation(client, session: Session, world: World) -> None:
    builders.login(client, world.manager_a)
    resp = client.post(f"/manage/stewards/invites?community_id={world.a.id}",
                       data={"days": "0", "max_uses": "5000"})
    assert resp.status_code == 422
    assert session.exec(select(StewardInvite)).all() == []
    with pytest.raises(InvalidInput):
        stewards.create_invite(session, actor=auth_services.load_actor(
            session, world.manager_a.id), community_id=world.a.id,
            data=InviteIn.parse(days=91, max_uses=1))


# --- Self sign-up ---------------------------------------------------------------------------

def test_self_sign_up(client, session: Session, world: World) -> None:
    builders.login(client, world.resident_a)
    page = client.get("/steward/apply").get_data(as_text=True)
    assert world.a.name in page
    assert world.b.name not in page
    resp = client.post("/steward/apply", data={"community_id": str(world.a.id)})
    assert resp.status_code == 302
    row = session.exec(select(Steward)).one()
    assert (row.community_id, row.account_id, row.status) == (world.a.id, world.resident_a.id,
                                                               "pending")
    assert "steward.applied" in _actions(session)
    # A second application in the same community is refused.
    again = client.post("/steward/apply", data={"community_id": str(world.a.id)})
    assert again.status_code == 409
    assert len(session.exec(select(Steward)).all()) == 1


def test_sign_up_only_in_own_community(client, session: Session, world: World) -> None:
    builders.login(client, world.resident_a)
    resp = client.post("/steward/apply", data={"community_id": str(world.b.id)})
    assert resp.status_code == 403
    assert "居住或工作" in resp.get_data(as_text=True)
    assert session.exec(select(Steward)).all() == []


def test_household_member_may_apply(session: Session, world: World) -> None:
    """A resident known only by household membership (no role yet) belongs to that community."""
    person = builders.account(session, phone="13900000013")
    session.add(HouseholdMember(community_id=world.households_b[0].community_id,
                                household_id=world.households_b[0].id, account_id=person.id,
                                status="approved"))
    session.flush()
    assert [a.id for a in steward_queries.my_communities(session, person.id)] == [world.b.id]
    row = stewards.apply_as_steward(session, account_id=person.id, community_id=world.b.id)
    assert row.status == "pending"
    with pytest.raises(stewards.NotMember):
        stewards.apply_as_steward(session, account_id=person.id, community_id=world.a.id)


# --- Approval, rejection, retirement --------------------------------------------------------

def test_approve_grants_the_steward_role(client, session: Session, world: World) -> None:
    applicant = world.resident_a
    row = sb.steward(session, world.a, applicant, status="pending")
    builders.station(session, world.a, "玉龙北门")
    session.commit()
    builders.login(client, applicant)
    assert client.get("/steward/scan").status_code == 403
    client.post("/logout")

    builders.login(client, world.manager_a)
    resp = client.post(f"/manage/stewards/{row.id}/approve")
    assert resp.status_code == 302
    sb.fresh(session)
    assert session.get(Steward, row.id).status == "approved"
    assert session.get(Steward, row.id).decided_by == world.manager_a.id
    assert "steward" in _roles(session, applicant.id, world.a.id)
    actions = _actions(session)
    assert "role.granted" in actions
    assert "steward.approved" in actions
    note = session.exec(select(Notification).where(
        Notification.account_id == applicant.id)).one()
    assert note.kind == "steward_approved"
    # Approving twice is refused and changes nothing.
    again = client.post(f"/manage/stewards/{row.id}/approve")
    assert again.status_code == 409
    assert len(session.exec(select(Notification)).all()) == 1
    client.post("/logout")

    builders.login(client, applicant)
    scan = client.get("/steward/scan")
    assert scan.status_code == 200
    assert "玉龙北门" in scan.get_data(as_text=True)


def test_reject_needs_a_reason(client, session: Session, world: World) -> None:
    row = sb.steward(session, world.a, status="pending")
    session.commit()
    builders.login(client, world.manager_a)
    resp = client.post(f"/manage/stewards/{row.id}/reject", data={"reason": "  "})
    assert resp.status_code == 422
    sb.fresh(session)
    assert session.get(Steward, row.id).status == "pending"

    resp = client.post(f"/manage/stewards/{row.id}/reject", data={"reason": "本月名额已满"})
    assert resp.status_code == 302
    sb.fresh(session)
    rejected = session.get(Steward, row.id)
    assert (rejected.status, rejected.note) == ("rejected", "本月名额已满")
    assert _roles(session, rejected.account_id, world.a.id) == set()
    note = session.exec(select(Notification)).one()
    assert (note.kind, note.params["reason"]) == ("steward_rejected", "本月名额已满")
    # A rejected application cannot be approved afterwards.
    assert client.post(f"/manage/stewards/{row.id}/approve").status_code == 409
    sb.fresh(session)
    assert session.get(Steward, row.id).status == "rejected"


def test_retire_removes_roles_and_chief_posts(client, session: Session,
                                               world: World) -> None:
    row = sb.steward(session, world.a)
    station = builders.station(session, world.a, "玉龙南门")
    session.commit()
    builders.login(client, world.manager_a)
    assert client.post(f"/manage/stewards/chiefs/{station.id}",
                       data={"steward_id": str(row.id)}).status_code == 302
    assert _roles(session, row.account_id, world.a.id) == {"steward", "station_chief"}

    assert client.post(f"/manage/stewards/{row.id}/retire").status_code == 302
    sb.fresh(session)
    assert session.get(Steward, row.id).status == "retired"
    assert session.get(Station, station.id).chief_id is None
    assert _roles(session, row.account_id, world.a.id) == set()
    assert "steward.retired" in _actions(session)
    # Retiring again (not approved any more) is refused.
    assert client.post(f"/manage/stewards/{row.id}/retire").status_code == 409


def test_station_chief_may_read_but_not_manage(client, session: Session,
                                               world: World) -> None:
    chief = builders.account(session, "station_chief", world.a)
    row = sb.steward(session, world.a, status="pending")
    session.commit()
    builders.login(client, chief)
    roster = client.get("/manage/stewards")
    assert roster.status_code == 200
    assert 'data-testid="roster-approve"' not in roster.get_data(as_text=True)
    assert client.post(f"/manage/stewards/{row.id}/approve").status_code == 403
    sb.fresh(session)
    assert session.get(Steward, row.id).status == "pending"


# --- Roster ---------------------------------------------------------------------------------

@pytest.fixture
def app_config() -> dict:
    """Two rows a page, so paging is exercised with few stewards."""
    return {"PAGE_SIZE": 2}


def test_roster_filters_and_paging(client, session: Session, world: World) -> None:
    people = []
    for i, status in enumerate(("approved", "approved", "pending", "retired")):
        acct = builders.account(session, username=f"roster{i}", phone=f"1390000010{i}")
        people.append(sb.steward(session, world.a, acct, status=status, availability=[
            {"weekday": 0, "start": "07:00", "end": "09:00"}]))
    people[0].training = "trained"
    people[0].trained_on = date(2026, 3, 1)
    session.add(people[0])
    sb.steward(session, world.b, world.resident_b)
    session.commit()
    builders.login(client, world.manager_a)

    first = client.get("/manage/stewards").get_data(as_text=True)
    assert first.count('data-testid="roster-row"') == 2
    assert 'data-status="pending"' in first  # pending applications come first
    assert "13900000102" in first  # the pending one's phone
    assert world.resident_b.phone not in first
    second = client.get("/manage/stewards?page=2").get_data(as_text=True)
    assert second.count('data-testid="roster-row"') == 2

    trained = client.get("/manage/stewards?training=trained").get_data(as_text=True)
    assert trained.count('data-testid="roster-row"') == 1
    assert "roster0" in trained
    assert "07:00–09:00" in trained
    retired = client.get("/manage/stewards?status=retired").get_data(as_text=True)
    assert retired.count('data-testid="roster-row"') == 1
    assert "roster3" in retired
    by_phone = client.get("/manage/stewards?q=13900000101").get_data(as_text=True)
    assert by_phone.count('data-testid="roster-row"') == 1
    assert "roster1" in by_phone
    junk = client.get("/manage/stewards?status=nope&training=x&page=abc")
    assert junk.status_code == 200
    assert junk.get_data(as_text=True).count('data-testid="roster-row"') == 2


def test_roster_in_english(client, session: Session, world: World) -> None:
    sb.steward(session, world.a, status="pending")
    session.commit()
    builders.login(client, world.manager_a)
    zh = client.get("/manage/stewards").get_data(as_text=True)
    assert "督导员" in zh
    assert "待审核" in zh
    sb.english(client)
    en = client.get("/manage/stewards").get_data(as_text=True)
    assert "Stewards" in en
    assert "Awaiting approval" in en


# --- Profile: availability and training -----------------------------------------------------

def _add(session: Session, row: Steward, weekday: int, start: str, end: str) -> Steward:
    return stewards.add_availability(
        session, account_id=row.account_id, steward_id=row.id,
        data=AvailabilityIn.parse(weekday=weekday, start=start, end=end))


@pytest.mark.parametrize(("start", "end", "field"), [
    ("7:00", "09:00", "start"), ("07:00", "24:00", "end"), ("07:60", "09:00", "start"),
    ("", "09:00", "start"), ("07:00", "07:00", "end"), ("0700", "0900", "start"),
])
def test_availability_validation(session: Session, world: World, start: str, end: str,
                                 field: str) -> None:
    row = sb.steward(session, world.a)
    with pytest.raises(InvalidInput) as err:
        _add(session, row, 0, start, end)
    assert err.value.details["field"] == field
    assert row.availability == []


def test_availability_overlaps_and_midnight(session: Session, world: World) -> None:
    row = sb.steward(session, world.a)
    _add(session, row, 0, "22:00", "02:00")  # Monday night into Tuesday: allowed
    _add(session, row, 0, "07:00", "09:00")
    with pytest.raises(stewards.AvailabilityOverlap):
        _add(session, row, 0, "08:30", "10:00")
    with pytest.raises(stewards.AvailabilityOverlap):
        _add(session, row, 1, "01:00", "03:00")  # Monday's late range runs to Tuesday 02:00
    with pytest.raises(InvalidInput):
        _add(session, row, 7, "07:00", "09:00")
    _add(session, row, 1, "02:00", "03:00")  # touching is not overlapping
    assert steward_rules.slots_of(row) == [
        (0, *map(steward_rules.parse_hhmm, ("07:00", "09:00"))),
        (0, *map(steward_rules.parse_hhmm, ("22:00", "02:00"))),
        (1, *map(steward_rules.parse_hhmm, ("02:00", "03:00"))),
    ]
    stewards.remove_availability(session, account_id=row.account_id, steward_id=row.id,
                                 index=1)
    assert [s["start"] for s in row.availability] == ["07:00", "02:00"]


def test_profile_page(client, session: Session, world: World) -> None:
    acct = builders.account(session, phone="13900000021")
    row = sb.steward(session, world.a, acct)
    other = sb.steward(session, world.a)
    session.commit()
    builders.login(client, acct)
    page = client.get("/steward/profile").get_data(as_text=True)
    assert "13900000021" in page
    assert world.a.name in page

    bad = client.post(f"/steward/profile/{row.id}/availability",
                      data={"weekday": "2", "start": "7点", "end": "09:00"})
    assert bad.status_code == 422
    assert "时间请按 HH:MM 格式填写" in bad.get_data(as_text=True)
    ok = client.post(f"/steward/profile/{row.id}/availability",
                     data={"weekday": "2", "start": "18:00", "end": "20:00"})
    assert ok.status_code == 302
    clash = client.post(f"/steward/profile/{row.id}/availability",
                        data={"weekday": "2", "start": "19:00", "end": "21:00"})
    assert clash.status_code == 422
    assert "重叠" in clash.get_data(as_text=True)
    sb.fresh(session)
    assert session.get(Steward, row.id).availability == [
        {"weekday": 2, "start": "18:00", "end": "20:00"}]
    assert "18:00–20:00" in client.get("/steward/profile").get_data(as_text=True)

    # Someone else's profile: not found, unchanged.
    assert client.post(f"/steward/profile/{other.id}/availability",
                       data={"weekday": "2", "start": "07:00", "end": "09:00"}
                       ).status_code == 404
    assert client.post(f"/steward/profile/{other.id}/availability/0/delete").status_code == 404
    assert client.post(f"/steward/profile/{row.id}/availability/0/delete").status_code == 302
    assert client.post(f"/steward/profile/{row.id}/availability/0/delete").status_code == 404
    sb.fresh(session)
    assert session.get(Steward, row.id).availability == []
    assert session.get(Steward, other.id).availability == []


def test_training_status(client, session: Session, world: World) -> None:
    row = sb.steward(session, world.a)
    session.commit()
    builders.login(client, world.manager_a)
    url = f"/manage/stewards/{row.id}/training"
    missing = client.post(url, data={"training": "trained", "trained_on": ""})
    assert missing.status_code == 422
    assert "请填写完成培训的日期" in missing.get_data(as_text=True)
    future = (clock.now() + timedelta(days=3)).date().isoformat()
    assert client.post(url, data={"training": "trained", "trained_on": future}
                       ).status_code == 422
    assert client.post(url, data={"training": "expert"}).status_code == 422
    sb.fresh(session)
    assert session.get(Steward, row.id).training == "none"

    assert client.post(url, data={"training": "trained", "trained_on": "2026-01-05"}
                       ).status_code == 302
    sb.fresh(session)
    saved = session.get(Steward, row.id)
    assert (saved.training, saved.trained_on) == ("trained", date(2026, 1, 5))
    assert "steward.training" in _actions(session)
    assert client.post(url, data={"training": "in_training", "trained_on": "2026-01-05"}
                       ).status_code == 302
    sb.fresh(session)
    assert (session.get(Steward, row.id).training, session.get(Steward, row.id).trained_on) == (
        "in_training", None)


# --- Station chiefs -------------------------------------------------------------------------

def test_chief_appointment(client, session: Session, world: World) -> None:
    first = sb.steward(session, world.a, builders.account(session, username="chiefone"))
    second = sb.steward(session, world.a, builders.account(session, username="chieftwo"))
    pending = sb.steward(session, world.a, status="pending")
    foreign = sb.steward(session, world.b)
    station = builders.station(session, world.a, "玉龙西门")
    other_station = builders.station(session, world.a, "玉龙东门")
    session.commit()
    builders.login(client, world.manager_a)
    url = f"/manage/stewards/chiefs/{station.id}"

    assert client.post(url, data={"steward_id": str(pending.id)}).status_code == 409
    assert client.post(url, data={"steward_id": str(foreign.id)}).status_code == 422
    sb.fresh(session)
    assert session.get(Station, station.id).chief_id is None

    assert client.post(url, data={"steward_id": str(first.id)}).status_code == 302
    assert client.post(f"/manage/stewards/chiefs/{other_station.id}",
                       data={"steward_id": str(first.id)}).status_code == 302
    sb.fresh(session)
    assert session.get(Station, station.id).chief_id == first.account_id
    assert "station_chief" in _roles(session, first.account_id, world.a.id)
    assert "station.chief_appointed" in _actions(session)
    assert "chiefone" in client.get("/manage/stewards/chiefs").get_data(as_text=True)
    assert "玉龙西门" in client.get("/manage/stewards?chiefs=1").get_data(as_text=True)
    assert "chiefone" in client.get("/manage/stations").get_data(as_text=True)

    # A new chief for the first station: the old one stays chief of the other station.
    assert client.post(url, data={"steward_id": str(second.id)}).status_code == 302
    assert "station_chief" in _roles(session, first.account_id, world.a.id)
    assert client.post(f"/manage/stewards/chiefs/{other_station.id}/remove").status_code == 302
    assert "station_chief" not in _roles(session, first.account_id, world.a.id)
    assert "steward" in _roles(session, first.account_id, world.a.id)
    sb.fresh(session)
    assert session.get(Station, station.id).chief_id == second.account_id
    assert session.get(Station, other_station.id).chief_id is None
    kinds = session.exec(select(Notification.kind).where(
        Notification.account_id == first.account_id)).all()
    assert sorted(kinds) == ["chief_appointed", "chief_appointed", "chief_removed",
                             "chief_removed"]


def test_nobody_approves_their_own_application(session: Session, world: World) -> None:
    """A manager who applies to be a steward of their own community is approved by another
    manager, never by themselves."""
    row = sb.steward(session, world.a, world.manager_a, status="pending")
    other = builders.account(session, "manager", world.a)
    session.commit()
    with pytest.raises(OwnDecision):
        stewards.approve_steward(session, actor=auth_services.load_actor(
            session, world.manager_a.id), steward_id=row.id)
    session.rollback()
    assert session.get(Steward, row.id).status == "pending"
    assert "steward" not in _roles(session, world.manager_a.id, world.a.id)
    stewards.approve_steward(session, actor=auth_services.load_actor(session, other.id),
                             steward_id=row.id)
    session.commit()
    assert session.get(Steward, row.id).decided_by == other.id
    assert "steward" in _roles(session, world.manager_a.id, world.a.id)


def test_station_chiefs_see_masked_phone_numbers(client, session: Session,
                                                 world: World) -> None:
    """Chiefs read the roster and a steward's page with 139****0101; managers see the
    number (and can call it); a chief cannot find a steward by typing a phone number."""
    acct = builders.account(session, username="maskme", phone="13900000101")
    row = sb.steward(session, world.a, acct)
    chief = builders.account(session, "station_chief", world.a, username="chiefmask")
    session.commit()
    builders.login(client, chief)
    roster = client.get("/manage/stewards").get_data(as_text=True)
    detail = client.get(f"/manage/stewards/{row.id}").get_data(as_text=True)
    for page in (roster, detail):
        assert "139****0101" in page
        assert "13900000101" not in page
    probe = client.get("/manage/stewards?q=13900000101").get_data(as_text=True)
    assert probe.count('data-testid="roster-row"') == 0
    client.post("/logout")
    builders.login(client, world.manager_a)
    assert 'href="tel:13900000101"' in client.get(f"/manage/stewards/{row.id}").get_data(
        as_text=True)
