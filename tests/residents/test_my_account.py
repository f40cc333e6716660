"""A resident's own account (issue 14, part 8): download their households' data; close the
account for good (注销), leaving the households their records."""
from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlmodel import Session, select

from community.audit.models import AuditEntry
from community.auth.models import Account, RoleGrant
from community.households.models import HouseholdMember
from community.points import services as points_services
from community.residents import services as residents_services
from community.residents.schemas import JoinCodeIn
from tests import builders
from tests.residents.helpers import slip_code


def member(session: Session, hh, acct, role: str = "member") -> HouseholdMember:
    """`acct` joins `hh` with a join slip (the first member becomes its head)."""
    residents_services.redeem_join_code(session, account_id=acct.id,
                                        data=JoinCodeIn.parse(code=slip_code(session, hh.id)))
    session.flush()
    row = session.exec(select(HouseholdMember).where(
        HouseholdMember.household_id == hh.id, HouseholdMember.account_id == acct.id)).one()
    assert row.role == role
    return row


def _drop(session: Session, world: builders.World) -> None:
    st = builders.station(session, world.a, "北门")
    builders.drop(session, st, world.households_a[0], category="kitchen", quality="correct",
                  happened_at=datetime(2026, 11, 20, 0, 30, tzinfo=UTC))


def test_a_resident_downloads_their_households_data(client, session: Session,
                                                     world: builders.World) -> None:
    hh = world.households_a[0]
    member(session, hh, world.resident_a, role="head")
    other = builders.account(session, phone="13900000777")
    member(session, hh, other)
    _drop(session, world)
    session.commit()
    builders.login(client, world.resident_a)
    assert client.get("/me/").status_code == 200
    assert "/me/account" in client.get("/me/").get_data(as_text=True)
    resp = client.get("/me/data.json")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert "attachment" in resp.headers["Content-Disposition"]
    data = json.loads(resp.get_data(as_text=True))
    assert data["account"]["phone"] == world.resident_a.phone
    [home] = data["households"]
    assert home["address"] == "1栋1单元101室"
    assert home["my_role"] == "head"
    phones = {m["phone"] for m in home["members"]}
    assert world.resident_a.phone in phones
    assert "139****0777" in phones
    assert [(d["station"], d["category"], d["quality"]) for d in home["drops"]] == [
        ("北门", "kitchen", "correct")]
    assert home["points_balance"] == points_services.balance(session, hh.id)
    # Not someone else's household.
    assert all(h["address"] != "1栋1单元102室" for h in data["households"])


def test_closing_the_account_needs_the_tick_then_ends_everything(client, session: Session,
                                                                world: builders.World) -> None:
    hh = world.households_a[0]
    head = member(session, hh, world.resident_a, role="head")
    second = builders.account(session, phone="13900000778")
    kept = member(session, hh, second)
    session.commit()
    builders.login(client, world.resident_a)
    page = client.post("/me/close", data={})
    assert page.status_code == 422
    assert "勾选" in page.get_data(as_text=True)
    session.expire_all()
    assert session.get(Account, world.resident_a.id).active
    resp = client.post("/me/close", data={"confirm": "y"})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/login")
    session.expire_all()
    gone = session.get(Account, world.resident_a.id)
    assert (gone.active, gone.phone, gone.username, gone.display_name) == (False, None, None, "—")
    assert session.get(HouseholdMember, head.id).status == "removed"
    assert session.get(HouseholdMember, kept.id).role == "head"  # the household carries on
    assert session.exec(select(RoleGrant).where(
        RoleGrant.account_id == world.resident_a.id, RoleGrant.role == "resident")).all() == []
    assert session.exec(select(AuditEntry).where(
        AuditEntry.action == "account.closed")).first() is not None
    # The old cookie opens nothing; the phone can sign up afresh later.
    assert client.get("/me/").status_code == 302


def test_staff_close_their_accounts_through_an_administrator(client, session: Session,
                                                             world: builders.World) -> None:
    member(session, world.households_a[0], world.steward_a, role="head")
    session.commit()
    builders.login(client, world.steward_a)
    resp = client.post("/me/close", data={"confirm": "y"})
    assert resp.status_code == 409
    session.expire_all()
    assert session.get(Account, world.steward_a.id).active
