"""Login, logout, the generic failure message, CSRF and security headers (throttling:
test_throttle.py; sessions: test_sessions.py)."""
from __future__ import annotations

import pytest
from sqlmodel import Session, select

from community.audit.models import AuditEntry
from tests import builders


def test_login_by_username_and_phone(client, session: Session, world: builders.World) -> None:
    resp = client.post("/login", data={"login": "ManagerA", "password": builders.PASSWORD})
    assert resp.status_code == 302
    client.post("/logout")
    resp = client.post("/login", data={"login": "138 0000 0001", "password": builders.PASSWORD})
    assert resp.status_code == 302


def test_failure_is_generic_and_audited(client, session: Session, world: builders.World) -> None:
    wrong_pw = client.post("/login", data={"login": "managera", "password": "nope-nope-nope"})
    unknown = client.post("/login", data={"login": "nobody", "password": "nope-nope-nope"})
    assert wrong_pw.status_code == unknown.status_code == 401
    assert "登录名或密码错误" in wrong_pw.get_data(as_text=True)
    # Same text for an unknown login: no account enumeration.
    strip = lambda r: r.get_data(as_text=True).split('name="csrf_token"')[0]  # noqa: E731
    assert strip(wrong_pw).replace("managera", "") == strip(unknown).replace("nobody", "")
    fails = session.exec(select(AuditEntry).where(AuditEntry.action == "login.failed")).all()
    assert len(fails) == 2


def test_security_headers_and_cookie(client, world: builders.World) -> None:
    resp = client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    login = client.post("/login", data={"login": "managera", "password": builders.PASSWORD})
    cookie = next(c for c in login.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_csrf_required(client, world: builders.World) -> None:
    resp = client.post("/login", data={"login": "managera", "password": builders.PASSWORD})
    assert resp.status_code == 400
    assert "表单已过期" in resp.get_data(as_text=True)
