"""Passwords: the one rule (length, common passwords, personal data), the self-service change
page, and the forced change after an admin set or reset a password."""
from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlmodel import Session, select

from community.audit.models import AuditEntry
from community.auth.models import Account
from community.auth.schemas import AccountIn, PasswordChangeIn, PasswordIn, password_problem
from community.errors import InvalidInput
from tests import builders

NEW = "quiet-river-lantern-42"


@pytest.mark.parametrize("password", [
    "12345678", "1234567890", "password", "password123", "qwertyuiop", "iloveyou12",
    "woaini1314", "aaaaaaaaaaaa", "abcdefghij", "1qaz2wsx3edc", "Password2026!",
])
def test_common_or_short_passwords_are_refused(app: Flask, password: str) -> None:
    with app.test_request_context(), force_locale("en"):
        problem = password_problem(password)
        assert problem is not None
        with pytest.raises(InvalidInput) as err:
            PasswordIn.parse(password=password)
        assert err.value.details["field"] == "password"


@pytest.mark.parametrize("password", [
    builders.PASSWORD, NEW, "Sorting-Green-2026", "lajifenlei-2026", "我的密码是绿色垃圾桶",
])
def test_good_passwords_pass(password: str) -> None:
    assert password_problem(password) is None
    assert PasswordIn.parse(password=password).password == password


def test_nine_characters_are_too_few(app: Flask) -> None:
    with app.test_request_context():
        assert str(password_problem("k7#Lq9!zR")) == "请使用 10 到 128 个字符。"
        assert password_problem("k7#Lq9!zRw") is None


def test_the_username_or_phone_is_refused(app: Flask) -> None:
    with app.test_request_context():
        with pytest.raises(InvalidInput) as err:
            AccountIn.parse(display_name="王", username="wangfang", password="wangfang-green-bin")
        assert str(err.value.details["fields"]["password"]) == "密码中不要包含您的用户名或手机号。"
        with pytest.raises(InvalidInput):
            AccountIn.parse(display_name="王", phone="13800000009", password="x-13800000009-y")
        with pytest.raises(InvalidInput):  # the last eight digits are enough to guess
            PasswordIn.parse(password="zz-00000009-zz", login_names=("13800000009",))
        assert PasswordIn.parse(password=NEW, login_names=("wangfang",)).password == NEW


def test_change_input_rules(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(InvalidInput) as err:
            PasswordChangeIn.parse(current_password="x", new_password=NEW,
                                   confirm_password=NEW + "x")
        assert err.value.details["field"] == "confirm_password"
        with pytest.raises(InvalidInput) as err:
            PasswordChangeIn.parse(current_password=NEW, new_password=NEW, confirm_password=NEW)
        assert err.value.details["field"] == "new_password"


def test_a_user_changes_their_password_and_other_sessions_end(
        app: Flask, client: FlaskClient, session: Session, world: builders.World) -> None:
    other_device = app.test_client()
    builders.login(other_device, world.steward_a)
    builders.login(client, world.steward_a)
    page = client.get("/account/password")
    assert page.status_code == 200
    assert 'autocomplete="new-password"' in page.get_data(as_text=True)

    wrong = client.post("/account/password", data={
        "current_password": "not-my-password", "new_password": NEW, "confirm_password": NEW})
    assert wrong.status_code == 422
    assert "当前密码不正确。" in wrong.get_data(as_text=True)
    weak = client.post("/account/password", data={
        "current_password": builders.PASSWORD, "new_password": "password123",
        "confirm_password": "password123"})
    assert weak.status_code == 422
    assert "这个密码太常见或太容易被猜到" in weak.get_data(as_text=True)

    resp = client.post("/account/password", data={
        "current_password": builders.PASSWORD, "new_password": NEW, "confirm_password": NEW})
    assert resp.status_code == 302
    # This session carries on under the new generation; the other device is logged out.
    assert client.get("/steward/scan").status_code == 200
    assert other_device.get("/steward/scan").status_code == 302
    client.post("/logout")
    assert app.test_client().post("/login", data={
        "login": "stewarda", "password": builders.PASSWORD}).status_code == 401
    builders.login(app.test_client(), world.steward_a, password=NEW)
    entry = session.exec(select(AuditEntry).where(
        AuditEntry.action == "account.password_changed")).one()
    assert entry.actor_id == entry.target_id == world.steward_a.id
    assert NEW not in str(entry.detail)


def test_an_admin_reset_forces_a_change(app: Flask, client: FlaskClient, session: Session,
                                        world: builders.World) -> None:
    builders.login(client, world.manager_a)
    client.post(f"/admin/accounts/{world.steward_a.id}/password",
                data={"password": "brand-new-secret"})
    steward = app.test_client()
    resp = steward.post("/login", data={"login": "stewarda", "password": "brand-new-secret"})
    assert resp.headers["Location"].endswith("/account/password")
    # Every page leads to the change page; JSON gets a clear error.
    assert steward.get("/steward/scan").headers["Location"].endswith("/account/password")
    api = steward.get("/steward/scan", headers={"Accept": "application/json"})
    assert api.status_code == 403
    assert api.get_json()["error"] == "password_change_required"
    page = steward.get("/account/password").get_data(as_text=True)
    assert "您的密码是管理员设置的" in page
    resp = steward.post("/account/password", data={
        "current_password": "brand-new-secret", "new_password": NEW, "confirm_password": NEW})
    assert resp.status_code == 302
    assert steward.get("/steward/scan").status_code == 200
    session.expire_all()
    assert session.get(Account, world.steward_a.id).password_must_change is False  # type: ignore[union-attr]


def test_an_admin_created_account_must_change_its_password(
        app: Flask, client: FlaskClient, session: Session, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    resp = client.post("/admin/accounts/new", data={
        "display_name": "李四", "username": "lisi", "password": "given-by-the-manager",
        "role": "steward", "area_id": world.a.id})
    assert resp.status_code == 302
    account = session.exec(select(Account).where(Account.username == "lisi")).one()
    assert account.password_must_change is True
    newcomer = app.test_client()
    resp = newcomer.post("/login", data={"login": "lisi", "password": "given-by-the-manager"})
    assert resp.headers["Location"].endswith("/account/password")


def test_an_admin_reset_refuses_the_accounts_own_name(client: FlaskClient,
                                                      world: builders.World) -> None:
    builders.login(client, world.manager_a)
    resp = client.post(f"/admin/accounts/{world.steward_a.id}/password",
                       data={"password": "stewarda-2026-green"})
    assert resp.status_code == 422
    assert "密码中不要包含您的用户名或手机号。" in resp.get_data(as_text=True)
