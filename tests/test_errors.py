"""Error pages and JSON errors, in Chinese and English, and the schema-behind guard (503)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from community import create_app
from community.db import get_engine
from tests import builders


def _english(client, path: str = "/login") -> None:
    client.post("/lang", data={"lang": "en", "next": path})


def _boom() -> str:
    raise RuntimeError("internal detail that must not leak")


@pytest.fixture
def boom_app(app: Flask) -> Iterator[Flask]:
    """An app of its own with a test-only route that crashes (routes go in before any request;
    the shared test app has served many), on this test's database connection."""
    own = create_app(dict(app.config))
    own.extensions["community.bind"] = app.extensions.get("community.bind")
    own.add_url_rule("/_test/boom", "test_boom", _boom)
    own.add_url_rule("/api/_test/boom", "test_api_boom", _boom)
    yield own
    get_engine(own).dispose()


def test_404_page(client, world: builders.World) -> None:
    resp = client.get("/no/such/page")
    assert resp.status_code == 404
    page = resp.get_data(as_text=True)
    assert "您访问的页面不存在。" in page
    assert "返回首页" in page
    _english(client)
    page = client.get("/no/such/page").get_data(as_text=True)
    assert "The page you asked for does not exist." in page
    assert "Back to the start page" in page


def test_403_page(client, world: builders.World) -> None:
    builders.login(client, world.resident_a)
    resp = client.get("/admin/accounts")
    assert resp.status_code == 403
    assert "您没有执行此操作的权限。" in resp.get_data(as_text=True)
    _english(client, "/admin/accounts")
    resp = client.get("/admin/accounts")
    assert resp.status_code == 403
    assert "You do not have permission to do this." in resp.get_data(as_text=True)


def test_500_page(boom_app: Flask) -> None:
    client = boom_app.test_client()
    resp = client.get("/_test/boom")
    assert resp.status_code == 500
    page = resp.get_data(as_text=True)
    assert "服务器出错了，请稍后再试。" in page
    assert "internal detail" not in page
    assert "RuntimeError" not in page
    _english(client)
    page = client.get("/_test/boom").get_data(as_text=True)
    assert "Something went wrong on our side. Please try again later." in page


def test_json_errors_for_api_paths(boom_app: Flask) -> None:
    client = boom_app.test_client()
    resp = client.get("/api/no-such-endpoint")
    assert resp.status_code == 404
    assert resp.is_json
    assert resp.get_json() == {"error": "not_found", "message": "您访问的页面不存在。"}
    resp = client.get("/api/_test/boom")
    assert resp.status_code == 500
    assert resp.get_json() == {"error": "server_error",
                               "message": "服务器出错了，请稍后再试。"}
    _english(client)
    assert client.get("/api/no-such-endpoint").get_json()["message"] == (
        "The page you asked for does not exist.")


def test_json_errors_when_the_client_asks(client, world: builders.World) -> None:
    builders.login(client, world.resident_a)
    resp = client.get("/admin/audit/", headers={"Accept": "application/json"})
    assert resp.status_code == 403
    assert resp.is_json
    body = resp.get_json()
    assert body["error"] == "forbidden"
    assert body["message"] == "您没有执行此操作的权限。"
    # A browser (HTML preferred) gets the page.
    resp = client.get("/admin/audit/", headers={"Accept": "text/html,application/json;q=0.9"})
    assert resp.status_code == 403
    assert not resp.is_json


@pytest.mark.real_db
def test_schema_behind_is_a_503_naming_the_fix(app: Flask, world: builders.World) -> None:
    engine = get_engine(app)
    with engine.begin() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = 'old'"))
    try:
        client = app.test_client()
        resp = client.get("/login")
        assert resp.status_code == 503
        page = resp.get_data(as_text=True)
        assert "flask --app wsgi db upgrade" in page
        assert "数据库版本落后于代码" in page
        api = client.get("/api/anything")
        assert api.status_code == 503
        assert api.get_json()["error"] == "schema_behind"
    finally:
        # PostgreSQL keeps one database for the whole run: put the revision back.
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    assert client.get("/login").status_code == 200  # checked again until it passes


def test_unmigrated_database_is_a_503(tmp_path: Path) -> None:
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/empty.db",
                      "SECRET_KEY": "test-only"})
    resp = app.test_client().get("/login")
    assert resp.status_code == 503
    assert "flask --app wsgi db upgrade" in resp.get_data(as_text=True)
    get_engine(app).dispose()
