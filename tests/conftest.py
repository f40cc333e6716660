"""Test fixtures: a fresh database per test, on SQLite and (with TEST_DATABASE_URL) PostgreSQL.

Every test that uses `app` runs once per backend. The schema comes from the Alembic
migrations (built once per session), so the migrations are exercised by every run.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-used-anywhere-else")

from community import create_app  # noqa: E402
from community.auth import services as auth_services  # noqa: E402
from community.cli import upgrade_database  # noqa: E402
from community.db import get_engine, make_engine  # noqa: E402
from tests import builders  # noqa: E402

# Real scrypt, cheaper parameters: hundreds of test accounts would otherwise dominate the run.
auth_services.HASH_METHOD = "scrypt:1024:8:1"

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_database(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine]:
    """The PostgreSQL test database, wiped and migrated once; unreachable fails, never skips."""
    assert PG_URL, "TEST_DATABASE_URL is not set"
    engine = make_engine(PG_URL)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"PostgreSQL at {PG_URL} is unreachable: {exc}")
    upgrade_database(PG_URL)
    yield engine
    engine.dispose()


def _truncate(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh, migrated, empty database for this test."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    _truncate(request.getfixturevalue("pg_engine"))
    return PG_URL  # type: ignore[return-value]


@pytest.fixture
def app_config() -> dict:
    """Override per test (e.g. to enable CSRF or rate limits)."""
    return {}


@pytest.fixture
def app(db_url: str, app_config: dict, tmp_path: Path) -> Iterator[Flask]:
    """The application on the fresh database."""
    config = {
        "TESTING": True,
        "DATABASE_URL": db_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SECRET_KEY": "test-only-secret-key-not-used-anywhere-else",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
    }
    config.update(app_config)
    application = create_app(config)
    yield application
    get_engine(application).dispose()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session for arranging data and checking results (commit to make data visible)."""
    # Deferred BEGIN on SQLite: checking results must not hold the write lock against the app.
    engine = get_engine(app).execution_options(sqlite_immediate=False)
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client (Chinese by default, as the app)."""
    return app.test_client()


@pytest.fixture
def world(session: Session) -> builders.World:
    """Two communities (A and B) in one city, with a manager, households and residents in each."""
    return builders.world(session)


@pytest.fixture(autouse=True)
def _fresh_station_cache() -> Iterator[None]:
    """Each test starts with an empty scan-path station cache (ids repeat across databases)."""
    from community.stations import services as stations_services

    stations_services.forget_station()
    yield
    stations_services.forget_station()
