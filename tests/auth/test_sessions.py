"""Login sessions: rotated at login, ended by the account's session generation (logout,
password reset, disabling, `end_sessions`), and limited by idle and absolute timeouts."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from community import clock
from community.audit.models import AuditEntry
from community.auth import services as auth_services
from community.auth.models import Account
from tests import builders
from tests.conftest import DEFAULT_NOW

# The production limits (the suite's BASE_CONFIG lifts them for tests that move the clock).
LIMITS = {"SESSION_IDLE_MINUTES": 30, "SESSION_MAX_HOURS": 12, "RESIDENT_REMEMBER_DAYS": 30,
          "RESIDENT_MAX_DAYS": 90}


@pytest.fixture
def app_config() -> dict:
    """This module's app: the session limits as configured in production."""
    return LIMITS


def test_the_defaults_are_the_documented_limits(tmp_path) -> None:
    from community import config

    loaded = config.load(tmp_path)
    assert {key: loaded[key] for key in LIMITS} == LIMITS
    assert loaded["PERMANENT_SESSION_LIFETIME"] == timedelta(days=30)


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _with_cookie(app: Flask, value: str) -> FlaskClient:
    """A fresh client holding a copied session cookie (another device, or a thief)."""
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def _logged_in(client: FlaskClient, path: str = "/admin/accounts") -> bool:
    return client.get(path).status_code == 200


def test_login_starts_a_new_session_and_csrf_token(app: Flask, client: FlaskClient,
                                                   world: builders.World) -> None:
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
        sess["csrf_token"] = "old-token"
        sess["lang"] = "en"
    builders.login(client, world.manager_a)
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["lang"] == "en"  # the visitor's language choice is kept
        assert sess.get("csrf_token") != "old-token"
        assert sess["_user_id"] == str(world.manager_a.id)
        assert sess["_gen"] == 0


def test_a_cookie_saved_before_logout_no_longer_works(app: Flask, client: FlaskClient,
                                                      world: builders.World) -> None:
    builders.login(client, world.manager_a)
    saved = _cookie(client)
    assert _logged_in(_with_cookie(app, saved))
    resp = client.post("/logout")
    assert resp.headers["Clear-Site-Data"] == '"cache"'
    stale = _with_cookie(app, saved)
    resp = stale.get("/admin/accounts")
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]
    page = stale.get(resp.headers["Location"]).get_data(as_text=True)
    assert "您的登录已失效" in page
    # Logging in again works, on a new generation.
    builders.login(client, world.manager_a)
    assert _logged_in(client)


def test_an_admin_password_reset_ends_the_users_sessions(
        app: Flask, client: FlaskClient, session: Session, world: builders.World) -> None:
    steward = app.test_client()
    builders.login(steward, world.steward_a)
    assert steward.get("/steward/scan").status_code == 200
    builders.login(client, world.manager_a)
    resp = client.post(f"/admin/accounts/{world.steward_a.id}/password",
                       data={"password": "brand-new-secret"})
    assert resp.status_code == 302
    resp = steward.get("/steward/scan")
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]
    # The manager's own session carries on.
    assert _logged_in(client)


def test_disabling_an_account_ends_its_sessions(
        app: Flask, client: FlaskClient, session: Session, world: builders.World) -> None:
    steward = app.test_client()
    builders.login(steward, world.steward_a)
    builders.login(client, world.manager_a)
    resp = client.post(f"/admin/accounts/{world.steward_a.id}/active", data={"active": "0"})
    assert resp.status_code == 302
    assert steward.get("/steward/scan").status_code == 302
    # Nor can it log in again, until enabled.
    resp = app.test_client().post("/login", data={"login": "stewarda",
                                                  "password": builders.PASSWORD})
    assert resp.status_code == 401
    client.post(f"/admin/accounts/{world.steward_a.id}/active", data={"active": "1"})
    builders.login(app.test_client(), world.steward_a)
    actions = session.exec(select(AuditEntry.action).where(
        AuditEntry.target_id == world.steward_a.id,
        AuditEntry.action.in_(["account.disabled", "account.enabled"]))).all()  # type: ignore[attr-defined]
    assert sorted(actions) == ["account.disabled", "account.enabled"]


def test_nobody_disables_themselves_or_a_higher_rank(client: FlaskClient,
                                                     world: builders.World) -> None:
    builders.login(client, world.manager_a)
    assert client.post(f"/admin/accounts/{world.steward_a.id}/active",
                       data={"active": "maybe"}).status_code == 400
    assert client.post(f"/admin/accounts/{world.manager_a.id}/active",
                       data={"active": "0"}).status_code == 403
    assert client.post(f"/admin/accounts/{world.area_admin_a.id}/active",
                       data={"active": "0"}).status_code in (403, 404)
    assert _logged_in(client)


def test_end_sessions_is_what_other_modules_call(app: Flask, client: FlaskClient,
                                                 session: Session, world: builders.World) -> None:
    builders.login(client, world.resident_a)
    assert client.get("/me/").status_code == 200
    assert auth_services.end_sessions(session, world.resident_a.id) == 1
    assert auth_services.end_sessions(session, world.resident_a.id) == 2
    session.commit()
    assert client.get("/me/").status_code == 302
    assert session.get(Account, world.resident_a.id).session_generation == 2  # type: ignore[union-attr]


def test_staff_idle_timeout_shows_the_login_page_with_a_message(
        client: FlaskClient, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    with clock.freeze(DEFAULT_NOW + timedelta(minutes=29)):
        assert _logged_in(client)  # activity: the idle clock restarts
    with clock.freeze(DEFAULT_NOW + timedelta(minutes=58)):
        assert _logged_in(client)
    with clock.freeze(DEFAULT_NOW + timedelta(minutes=89)):
        resp = client.get("/admin/accounts")
        assert resp.status_code == 302
        page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "由于长时间未操作，您已被退出登录" in page


def test_staff_absolute_lifetime(client: FlaskClient, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    moment = DEFAULT_NOW
    while moment + timedelta(minutes=25) < DEFAULT_NOW + timedelta(hours=12):
        moment += timedelta(minutes=25)
        with clock.freeze(moment):
            assert _logged_in(client)
    with clock.freeze(DEFAULT_NOW + timedelta(hours=12, minutes=5)):
        resp = client.get("/admin/accounts")
        assert resp.status_code == 302
        assert "本次登录已到时限" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_a_remembered_resident_stays_for_days_staff_cannot(
        app: Flask, world: builders.World) -> None:
    resident = app.test_client()
    resp = resident.post("/login", data={"login": world.resident_a.phone,
                                         "password": builders.PASSWORD, "remember": "y"})
    assert resp.status_code == 302
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Expires=" in cookie  # outlives the browser
    with clock.freeze(DEFAULT_NOW + timedelta(days=20)):
        assert resident.get("/me/").status_code == 200
    with clock.freeze(DEFAULT_NOW + timedelta(days=51)):
        assert resident.get("/me/").status_code == 302

    # Without the tick, a resident gets the short idle limit; staff never get days.
    for acct in (world.resident_b, world.manager_a):
        other = app.test_client()
        resp = other.post("/login", data={"login": acct.username or acct.phone,
                                          "password": builders.PASSWORD, "remember": "y"
                                          if acct is world.manager_a else ""})
        assert resp.status_code == 302
        with clock.freeze(DEFAULT_NOW + timedelta(minutes=45)):
            path = "/admin/accounts" if acct is world.manager_a else "/me/"
            assert other.get(path).status_code == 302


@pytest.mark.parametrize("app_config", [{**LIMITS, "SESSION_IDLE_MINUTES": 5,
                                          "SESSION_MAX_HOURS": 1}])
def test_limits_are_configurable(client: FlaskClient, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    with clock.freeze(DEFAULT_NOW + timedelta(minutes=4)):
        assert _logged_in(client)
    with clock.freeze(DEFAULT_NOW + timedelta(minutes=10)):
        assert not _logged_in(client)


def test_json_clients_get_401_not_a_redirect(client: FlaskClient, world: builders.World) -> None:
    resp = client.get("/admin/accounts", headers={"Accept": "application/json"})
    assert resp.status_code == 401
    assert resp.get_json()["error"] == "unauthorized"


def test_a_phone_changing_network_stays_logged_in(app: Flask, client: FlaskClient,
                                                  world: builders.World) -> None:
    """The session is bound to the browser, not to the address: Wi-Fi to mobile data (a new
    REMOTE_ADDR, or a new X-Forwarded-For behind the proxy) keeps the steward logged in."""
    builders.login(client, world.manager_a)
    for address in ("10.1.2.3", "192.0.2.77"):
        resp = client.get("/admin/accounts", environ_base={"REMOTE_ADDR": address})
        assert resp.status_code == 200
    resp = client.get("/admin/accounts", headers={"X-Forwarded-For": "198.51.100.9"})
    assert resp.status_code == 200


def test_a_cookie_copied_into_another_browser_is_ended(app: Flask, client: FlaskClient,
                                                        world: builders.World) -> None:
    builders.login(client, world.manager_a)
    thief = _with_cookie(app, _cookie(client))
    resp = thief.get("/admin/accounts", headers={"User-Agent": "Mozilla/5.0 (elsewhere)"})
    assert resp.status_code == 302
    page = thief.get(resp.headers["Location"]).get_data(as_text=True)
    assert "在其他浏览器中登录的会话不能在此使用" in page
    assert _logged_in(client)  # the owner's own browser carries on


def test_a_session_from_before_the_browser_binding_ends_once(app: Flask, client: FlaskClient,
                                                              world: builders.World) -> None:
    builders.login(client, world.manager_a)
    with client.session_transaction() as sess:
        del sess["_ua"]
    assert not _logged_in(client)
    builders.login(client, world.manager_a)
    assert _logged_in(client)
