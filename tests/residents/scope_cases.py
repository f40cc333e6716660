"""Foreign-access cases for the link-request pages; the /me pages have no area (own data only).

The /me endpoints are exempt here because they take no area or id of someone else's data:
they always answer for the logged-in account. Their isolation (resident B never sees resident
A's household or card) is tested in tests/residents/test_home.py.
"""
from __future__ import annotations

from sqlmodel import Session, select

from community.households.models import HouseholdMember
from tests import builders
from tests.builders import World
from tests.scope import Case, exempt, foreign

exempt("residents.home", "residents.link", "residents.card_svg", "residents.card_png",
       "residents.points")

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
        existing = HouseholdMember(household_id=hh.id, account_id=applicant.id, status="pending")
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


@foreign("residents_admin.mode")
def _mode(world: World) -> list[Case]:
    return [
        Case("POST", "/manage/links/mode",
             data={"community_id": str(world.a.id), "link_mode": "approval"}),
        Case("POST", "/manage/links/mode",
             data={"community_id": str(world.street_a.id), "link_mode": "approval"}),
    ]
