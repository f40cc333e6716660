"""Flask CLI: create-admin makes a city admin who can log in; db check finds no drift."""
from __future__ import annotations

from flask import Flask
from sqlmodel import Session, select

from community.areas.models import Area
from community.audit.models import AuditEntry
from community.auth.models import Account, RoleGrant
from tests import builders

PASSWORD = "tall-ginkgo-by-the-canal"


def test_create_admin_on_an_empty_database(app: Flask, session: Session) -> None:
    result = app.test_cli_runner().invoke(args=[
        "create-admin", "--username", "Boss", "--name", "王局长", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert "苏州市" in result.output
    account = session.exec(select(Account).where(Account.username == "boss")).one()
    city = session.exec(select(Area).where(Area.level == "city")).one()
    grant = session.exec(select(RoleGrant).where(RoleGrant.account_id == account.id)).one()
    assert (grant.role, grant.area_id, account.display_name) == ("city_admin", city.id, "王局长")
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "role.granted")).one()
    assert entry.detail == {"role": "city_admin", "via": "cli"}

    client = app.test_client()
    builders.login(client, account, password=PASSWORD)
    resp = client.get("/")
    assert resp.headers["Location"].endswith("/dashboard/area")
    assert "苏州市" in client.get("/admin/areas").get_data(as_text=True)


def test_create_admin_uses_the_existing_city(app: Flask, session: Session,
                                            world: builders.World) -> None:
    result = app.test_cli_runner().invoke(args=[
        "create-admin", "--username", "second", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    session.commit()
    assert len(session.exec(select(Area).where(Area.level == "city")).all()) == 1
    account = session.exec(select(Account).where(Account.username == "second")).one()
    grant = session.exec(select(RoleGrant).where(RoleGrant.account_id == account.id)).one()
    assert grant.area_id == world.city.id


def test_create_admin_rejects_a_short_password(app: Flask, session: Session) -> None:
    result = app.test_cli_runner().invoke(args=[
        "create-admin", "--username", "boss", "--password", "short"])
    assert result.exit_code != 0
    assert "Cannot create account" in result.output
    assert session.exec(select(Account)).all() == []


def test_create_admin_rejects_a_common_password(app: Flask, session: Session) -> None:
    result = app.test_cli_runner().invoke(args=[
        "create-admin", "--username", "boss", "--password", "password123"])
    assert result.exit_code != 0
    assert "这个密码太常见或太容易被猜到" in result.output
    assert session.exec(select(Account)).all() == []


def test_db_check_finds_models_and_migrations_in_step(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
    assert result.exception is None
