"""A lock wait that ran out is 'busy', not an outage: 503 with a short Retry-After (JSON code
`busy`, a page for people), logged as a warning naming the endpoint, and no outage begins
(no "database unreachable" line, no outage state). After a write that failed that way the
error page still renders (the failed session is rolled back first, no PendingRollbackError).
"""
from __future__ import annotations

import logging
import sqlite3
from typing import Any

import psycopg.errors
import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from community import db
from community.audit import services as audit
from community.db import get_engine
from community.web import errors
from tests import builders


def _wrapped(orig: Exception) -> OperationalError:
    return OperationalError("INSERT INTO audit_entry ...", {}, orig)


@pytest.mark.parametrize(("err", "busy", "outage"), [
    (_wrapped(sqlite3.OperationalError("database is locked")), True, False),
    (_wrapped(sqlite3.OperationalError("database table is locked")), True, False),
    (_wrapped(psycopg.errors.LockNotAvailable("canceling statement due to lock timeout")),
     True, False),
    (_wrapped(psycopg.errors.DeadlockDetected("deadlock detected")), True, False),
    (_wrapped(psycopg.errors.SerializationFailure("could not serialize access")), True, False),
    (_wrapped(sqlite3.OperationalError("unable to open database file")), False, True),
    (_wrapped(psycopg.OperationalError("connection refused")), False, True),
    (_wrapped(sqlite3.OperationalError("no such table: household")), False, False),
])
def test_lock_waits_are_busy_not_outages(err: Exception, busy: bool, outage: bool) -> None:
    assert errors.is_busy(err) is busy
    assert errors.is_outage(err) is outage
    # The same, met as the cause of another error (e.g. a 500 wrapping it at the commit point).
    outer = RuntimeError("wrapped")
    outer.__cause__ = err
    assert errors.is_busy(outer) is busy
    assert errors.is_outage(outer) is outage


class Records(logging.Handler):
    """The app logger's records of WARNING and above."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self) -> list[str]:
        return [r.getMessage() for r in self.records]


@pytest.fixture
def sqlite_only(db_url: str) -> str:
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's busy timeout (PostgreSQL's lock waits are classified above)")
    return str(make_url(db_url).database)


@pytest.fixture
def short_busy_timeout(app: Flask) -> None:
    """The app's connections wait 50 ms for a lock instead of 30 s (the test's only change)."""
    engine = get_engine(app)
    engine.dispose()

    @event.listens_for(engine, "connect")
    def _short(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout=50")


@pytest.fixture
def records(app: Flask) -> Any:
    handler = Records()
    app.logger.addHandler(handler)
    yield handler
    app.logger.removeHandler(handler)


def _holding_write_lock(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    return conn


@pytest.mark.real_db
def test_a_lock_timeout_is_busy_not_an_outage(app: Flask, session: Session, sqlite_only: str,
                                              short_busy_timeout: None, records: Records) -> None:
    w = builders.world(session)
    client = app.test_client()
    builders.login(client, w.manager_a)
    holder = _holding_write_lock(sqlite_only)  # another request writing for a long time
    try:
        page = client.get(f"/manage/households/{w.households_a[0].id}/card.png")
        api = client.get(f"/manage/households/{w.households_a[0].id}/card.png",
                         headers={"Accept": "application/json"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert page.status_code == 503
    assert page.headers["Retry-After"] == str(errors.BUSY_RETRY_AFTER_SECONDS)
    assert "服务当前繁忙" in page.get_data(as_text=True)
    body = api.get_json()
    assert api.status_code == 503
    assert body["error"] == "busy"
    assert body["details"]["retry_after"] == errors.BUSY_RETRY_AFTER_SECONDS
    assert app.extensions["community.outage"].since is None  # no outage began
    lines = records.lines()
    assert not any("unreachable" in line for line in lines)
    assert sum("database busy" in line and "households.card_png" in line
               for line in lines) == 2
    # The lock is free again: the same download works.
    assert client.get(f"/manage/households/{w.households_a[0].id}/card.png").status_code == 200


@pytest.mark.real_db
def test_a_write_refused_on_a_read_transaction_still_gets_its_error_page(
        app: Flask, session: Session, sqlite_only: str, monkeypatch: pytest.MonkeyPatch,
        records: Records) -> None:
    """The old failure, kept possible for a GET view that forgot `db.writes` (in production,
    where the guard only warns): its deferred read cannot become a write after another
    connection committed. The answer is the busy page, not a PendingRollbackError 500."""
    w = builders.world(session)
    client = app.test_client()
    builders.login(client, w.manager_a)
    monkeypatch.setattr(db, "view_writes", lambda: False)  # as if the view were undeclared
    monkeypatch.setattr(app, "testing", False)  # production: the guard warns, not raises
    real_record = audit.record

    def record_after_another_commit(*args: Any, **kwargs: Any) -> Any:
        other = sqlite3.connect(sqlite_only, timeout=5, isolation_level=None)
        other.execute("UPDATE account SET display_name = 'renamed' WHERE id = ?",
                      (w.steward_a.id,))
        other.close()
        return real_record(*args, **kwargs)

    monkeypatch.setattr(audit, "record", record_after_another_commit)
    resp = client.get(f"/manage/households/{w.households_a[0].id}/card.png")
    assert resp.status_code == 503
    assert resp.mimetype == "text/html"
    assert "服务当前繁忙" in resp.get_data(as_text=True)
    lines = records.lines()
    assert any("households.card_png writes without @writes" in line for line in lines)
    assert any("database busy" in line for line in lines)
    assert not any("unreachable" in line or "unhandled" in line for line in lines)
