"""Foreign-access cases for the link-request pages; the /me pages have no area (own data only).

The /me endpoints are exempt here because they take no area or id of someone else's data:
they always answer for the logged-in account. Their isolation (resident B never sees resident
A's household or card) is tested in tests/residents/test_home.py.
"""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from community import clock
from community.households.models import HouseholdInvitation, HouseholdMember
from tests import builders
from tests.builders import World
from tests.scope import Case, exempt, foreign

# Joining takes a code or an invitation token, never an id of someone else's data.
exempt("residents.home", "residents.link", "residents.card_svg", "residents.card_png",
       "residents.points", "residents.join", "residents.invitation",
       "residents.points_rules")
# The account page, its data download and closing: the logged-in account's own (see
# tests/residents/test_my_account.py).
exempt("residents.account", "residents.my_data", "residents.close", "residents.notices")

APPLICANT_A = "13900000099"


def _pending_request_in_a(world: World) -> int:
    """A pending link request to a household of community A (made once per test's world)."""
    session = Session.object_session(world.a)
    assert session is not None
    hh = world.households_a[0]
    existing = session.exec(select(HouseholdMember).where(
        HouseholdMember.household_id == hh.id, HouseholdMember.status == "pending")).first()
    if existing is None:
        applicant = builders.account(session, phone=APPLICANT_A)
        existing = HouseholdMember(community_id=hh.community_id, household_id=hh.id,
                                   account_id=applicant.id, status="pending")
        session.add(existing)
    session.commit()
    return existing.id  # type: ignore[return-value]


@foreign("residents_admin.index")
def _index(world: World) -> list[Case]:
    _pending_request_in_a(world)
    return [
        Case("GET", f"/manage/links?community_id={world.a.id}"),
        # B's own list answers, without A's applicant or address.
        Case("GET", "/manage/links", expect=(200,), absent=[APPLICANT_A, "1栋1单元101室"]),
        Case("GET", f"/manage/links?community_id={world.b.id}", expect=(200,),
             absent=[APPLICANT_A, "1栋1单元101室"]),
    ]


@foreign("residents_admin.approve")
def _approve(world: World) -> list[Case]:
    member_id = _pending_request_in_a(world)
    return [Case("POST", f"/manage/links/{member_id}/approve",
                 data={"next": f"/manage/links?community_id={world.b.id}"})]


@foreign("residents_admin.reject")
def _reject(world: World) -> list[Case]:
    member_id = _pending_request_in_a(world)
    return [Case("POST", f"/manage/links/{member_id}/reject", data={})]


def _member_in_a(world: World) -> HouseholdMember:
    """The approved head of A's first household, with an open invitation (once per world)."""
    session = Session.object_session(world.a)
    assert session is not None
    hh = world.households_a[0]
    member = session.exec(select(HouseholdMember).where(
        HouseholdMember.household_id == hh.id, HouseholdMember.status == "approved")).first()
    if member is None:
        member = HouseholdMember(community_id=hh.community_id, household_id=hh.id,
                                 account_id=world.resident_a.id, status="approved", role="head",
                                 joined_via="approval")
        session.add(member)
        session.flush()
        session.add(HouseholdInvitation(household_id=hh.id, token_hash="0" * 64,
                                        created_by=world.resident_a.id,
                                        expires_at=clock.now() + timedelta(hours=1)))
    session.commit()
    return member


def _invitation_in_a(world: World) -> int:
    _member_in_a(world)
    session = Session.object_session(world.a)
    assert session is not None
    inv = session.exec(select(HouseholdInvitation)).first()
    assert inv is not None
    session.commit()
    return inv.id  # type: ignore[return-value]


@foreign("residents_admin.requests_setting")
def _requests_setting(world: World) -> list[Case]:
    return [
        Case("POST", "/manage/links/requests",
             data={"community_id": str(world.a.id), "join_requests": ""}),
        Case("POST", "/manage/links/requests",
             data={"community_id": str(world.street_a.id), "join_requests": "y"}),
    ]


@foreign("residents_admin.manage_household")
def _manage_household(world: World) -> list[Case]:
    _member_in_a(world)
    return [Case("GET", f"/manage/links/households/{world.households_a[0].id}")]


@foreign("residents_admin.slips_pdf")
def _slips(world: World) -> list[Case]:
    return [
        Case("POST", "/manage/links/slips.pdf",
             data={"community_id": str(world.a.id), "building": "1"}),
        Case("POST", "/manage/links/slips.pdf",
             data={"community_id": str(world.a.id),
                   "household_id": str(world.households_a[0].id)}),
        # B's own community, with A's household: not found.
        Case("POST", "/manage/links/slips.pdf",
             data={"community_id": str(world.b.id),
                   "household_id": str(world.households_a[0].id)}),
    ]


@foreign("residents_admin.manager_remove")
def _manager_remove(world: World) -> list[Case]:
    member = _member_in_a(world)
    return [Case("POST", f"/manage/links/members/{member.id}/remove", data={})]


@foreign("residents_admin.disable")
def _disable(world: World) -> list[Case]:
    _member_in_a(world)
    return [Case("POST", f"/manage/links/accounts/{world.resident_a.id}/disable", data={})]


@foreign("residents.household")
def _household(world: World) -> list[Case]:
    _member_in_a(world)
    return [Case("GET", f"/me/household/{world.households_a[0].id}")]


@foreign("residents.invite")
def _invite(world: World) -> list[Case]:
    _member_in_a(world)
    return [Case("POST", f"/me/household/{world.households_a[0].id}/invite", data={})]


@foreign("residents.invitation_shown")
def _invitation_shown(world: World) -> list[Case]:
    return [Case("GET", f"/me/household/{world.households_a[0].id}/invite/"
                        f"{_invitation_in_a(world)}")]


@foreign("residents.revoke_invitation")
def _revoke_invitation(world: World) -> list[Case]:
    return [Case("POST", f"/me/invitations/{_invitation_in_a(world)}/revoke", data={})]


@foreign("residents.remove_member")
def _remove_member(world: World) -> list[Case]:
    member = _member_in_a(world)
    return [Case("POST", f"/me/members/{member.id}/remove", data={})]
