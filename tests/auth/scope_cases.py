"""Foreign-access cases for account management: A's accounts are invisible to a manager of B."""
from __future__ import annotations

from sqlalchemy.orm import object_session
from sqlmodel import select

from community.auth.models import RoleGrant
from tests.builders import PASSWORD, World
from tests.scope import Case, exempt, foreign


def _grant_id(w: World, account_id: int) -> int:
    """The id of an account's first grant (looked up through the world's open session)."""
    session = object_session(w.a)
    assert session is not None
    return session.exec(select(RoleGrant.id).where(RoleGrant.account_id == account_id)).first()


@foreign("auth.accounts")
def _accounts(w: World) -> list[Case]:
    hidden = ["managera", "stewarda", "13800000001", "138****0001", "玉龙社区"]
    return [Case("GET", "/admin/accounts", expect=(200,), absent=hidden),
            Case("GET", "/admin/accounts?q=manager", expect=(200,), absent=hidden),
            Case("GET", "/admin/accounts?q=0001", expect=(200,), absent=hidden)]


@foreign("auth.account_new")
def _account_new(w: World) -> list[Case]:
    data = {"display_name": "外来者", "username": "intruder", "password": PASSWORD,
            "area_id": w.a.id}
    return [Case("POST", "/admin/accounts/new", data={**data, "role": "resident"}),
            Case("POST", "/admin/accounts/new", data={**data, "role": "steward"})]


@foreign("auth.account_detail")
def _account_detail(w: World) -> list[Case]:
    return [Case("GET", f"/admin/accounts/{w.manager_a.id}"),
            Case("GET", f"/admin/accounts/{w.resident_a.id}"),
            Case("GET", f"/admin/accounts/{w.city_admin.id}")]


@foreign("auth.grant_add")
def _grant_add(w: World) -> list[Case]:
    return [
        # A's resident made a steward of B: the account is not B's to touch.
        Case("POST", f"/admin/accounts/{w.resident_a.id}/grants",
             data={"role": "steward", "area_id": w.b.id}),
        # B's own resident given a role in A.
        Case("POST", f"/admin/accounts/{w.resident_b.id}/grants",
             data={"role": "steward", "area_id": w.a.id}),
        Case("POST", f"/admin/accounts/{w.manager_a.id}/grants",
             data={"role": "station_chief", "area_id": w.a.id}),
    ]


@foreign("auth.grant_revoke")
def _grant_revoke(w: World) -> list[Case]:
    return [Case("POST", f"/admin/grants/{_grant_id(w, w.resident_a.id)}/revoke"),
            Case("POST", f"/admin/grants/{_grant_id(w, w.steward_a.id)}/revoke"),
            Case("POST", f"/admin/grants/{_grant_id(w, w.manager_a.id)}/revoke")]


@foreign("auth.password_reset")
def _password_reset(w: World) -> list[Case]:
    return [Case("POST", f"/admin/accounts/{acct.id}/password",
                 data={"password": "taken-over-123"})
            for acct in (w.resident_a, w.steward_a, w.manager_a, w.city_admin)]


@foreign("auth.account_active")
def _account_active(w: World) -> list[Case]:
    return [Case("POST", f"/admin/accounts/{acct.id}/active", data={"active": "0"})
            for acct in (w.resident_a, w.steward_a, w.manager_a, w.city_admin)]


# One's own password: no area to be foreign to (tests/auth/test_passwords.py).
exempt("auth.password_change")

# The phone way in: before login, about the phone number typed (no area, no one else's data;
# tests/auth/test_phone_login.py). The development page of SMS codes answers only in demo
# mode (test_dev_page_answers_only_in_demo_mode).
exempt("phone.start", "phone.verify", "phone.resend", "phone.dev_sms")
