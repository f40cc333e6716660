"""Audited downloads (GET requests that write an audit entry) while other sessions write.

On SQLite a GET used to read in a deferred transaction (`BEGIN`) and then write its audit
entry: when another connection had committed in between, SQLite cannot upgrade the read
snapshot to a write and answers SQLITE_BUSY ("database is locked") at once, without waiting
for the busy timeout; the page then answered 503 "service unavailable". Here another
connection, in a thread of its own, commits a write exactly between the download's reads and
its audit write; the download must still succeed with its audit entry, and the other write
must land too (after it). On PostgreSQL the same interleaving never conflicts: the test runs
there too and must pass unchanged.
"""
from __future__ import annotations

import io
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from community.audit import services as audit
from community.audit.models import AuditEntry
from community.auth.models import Account
from community.db import make_engine
from community.households import sheets
from community.points import exports as points_exports
from community.stations import exports as stations_exports
from community.web import downloads
from tests import builders

pytestmark = pytest.mark.real_db

WAIT = 20  # seconds: a safety net against a hang, never reached when the test works


class Writer(threading.Thread):
    """Another user's request: renames an account in its own connection and commits.

    It first tries without waiting for the write lock. If the download holds the lock it
    says so (`blocked`), lets the download go on and then waits for the lock like any
    writer (the busy timeout), committing once the download has committed.
    """

    def __init__(self, url: str, account_id: int) -> None:
        super().__init__(daemon=True)
        self.url, self.account_id = url, account_id
        self.tried = threading.Event()
        self.blocked = False
        self.done = False
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            if self.url.startswith("sqlite"):
                self._sqlite()
            else:
                self._postgres()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
        finally:
            self.tried.set()

    def _sqlite(self) -> None:
        path = make_url(self.url).database
        conn = sqlite3.connect(str(path), timeout=0, isolation_level=None)
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc):
                    raise
                self.blocked = True
                self.tried.set()  # the download goes on and commits; then we get the lock
                conn.execute("PRAGMA busy_timeout=30000")
                conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE account SET display_name = 'renamed' WHERE id = ?",
                         (self.account_id,))
            conn.execute("COMMIT")
            self.done = True
        finally:
            conn.close()

    def _postgres(self) -> None:
        engine = make_engine(self.url)
        try:
            with engine.begin() as conn:
                conn.execute(text("UPDATE account SET display_name = 'renamed' WHERE id = :id"),
                             {"id": self.account_id})
            self.done = True
        finally:
            engine.dispose()


def _cards_url(w: builders.World) -> str:
    return f"/manage/households/{w.households_a[0].id}/card.png"


def _sheet_url(w: builders.World) -> str:
    return f"/manage/households/cards.pdf?community_id={w.a.id}"


def _drops_url(w: builders.World) -> str:
    return f"/manage/drops/export.csv?community_id={w.a.id}"


DOWNLOADS: dict[str, tuple[Callable[[builders.World], str], str, str]] = {
    "card.png": (_cards_url, "card.exported", "image/png"),
    "cards.pdf": (_sheet_url, "cards.printed", "application/pdf"),
    "drops.csv": (_drops_url, "drops.exported", "text/csv; charset=utf-8"),
}


@pytest.mark.parametrize("name", DOWNLOADS)
def test_download_audited_while_another_session_commits(
        app: Flask, session: Session, db_url: str, monkeypatch: pytest.MonkeyPatch,
        name: str) -> None:
    w = builders.world(session)
    url_of, action, content_type = DOWNLOADS[name]
    client = app.test_client()
    builders.login(client, w.manager_a)
    writers: list[Writer] = []
    real_record = audit.record

    def record_after_another_commit(*args: Any, **kwargs: Any) -> AuditEntry:
        # The download has read what it sends (card, sheet, row count); another user's
        # request now writes and commits before the download writes its audit entry.
        writer = Writer(db_url, w.steward_a.id)
        writers.append(writer)
        writer.start()
        assert writer.tried.wait(WAIT)
        return real_record(*args, **kwargs)

    monkeypatch.setattr(audit, "record", record_after_another_commit)
    resp = client.get(url_of(w))
    body = resp.get_data()
    monkeypatch.setattr(audit, "record", real_record)

    assert resp.status_code == 200, body[:300]
    assert resp.headers["Content-Type"] == content_type
    assert len(writers) == 1
    writer = writers[0]
    writer.join(WAIT)
    assert writer.error is None, repr(writer.error)
    assert writer.done  # the other user's write was not lost: it landed after the download
    if db_url.startswith("sqlite"):
        # The download held the write lock from its first statement (BEGIN IMMEDIATE).
        assert writer.blocked
    session.expire_all()
    entries = session.exec(select(AuditEntry).where(col(AuditEntry.action) == action,
                                                    AuditEntry.actor_id == w.manager_a.id))
    assert len(entries.all()) == 1
    assert session.get(Account, w.steward_a.id).display_name == "renamed"  # type: ignore[union-attr]


def _writes_without_waiting(path: str, account_id: int) -> bool:
    """Whether another connection can write at once (no busy wait): False when the download
    or export still holds SQLite's write lock ("database is locked")."""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE account SET display_name = 'renamed' WHERE id = ?", (account_id,))
        conn.execute("COMMIT")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


def test_card_sheets_are_rendered_without_holding_the_write_lock(
        app: Flask, session: Session, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """cards.pdf renders for seconds in a big community (~22 ms a card): meanwhile other
    requests (every scan) must be able to write. Here one writes, without waiting at all,
    while the sheets are being rendered; the download's audit entry is written after."""
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's one write lock (PostgreSQL locks rows)")
    w = builders.world(session)
    client = app.test_client()
    builders.login(client, w.manager_a)
    path = str(make_url(db_url).database)
    real_render = sheets.render_sheet
    wrote: list[bool] = []

    def render_while_another_writes(*args: Any, **kwargs: Any) -> bytes:
        wrote.append(_writes_without_waiting(path, w.steward_a.id))
        return real_render(*args, **kwargs)

    monkeypatch.setattr(sheets, "render_sheet", render_while_another_writes)
    resp = client.get(_sheet_url(w))
    assert wrote == [True]  # the other request could write while the sheets were rendered
    assert resp.status_code == 200, resp.get_data()[:300]
    assert resp.get_data().startswith(b"%PDF")
    session.expire_all()
    entries = session.exec(select(AuditEntry).where(col(AuditEntry.action) == "cards.printed"))
    assert [e.detail for e in entries] == [{"count": 3, "building": None}]
    assert session.get(Account, w.steward_a.id).display_name == "renamed"  # type: ignore[union-attr]


XLSX_WRITERS: dict[str, tuple[Callable[[builders.World], str], Any, str, str]] = {
    "drops": (lambda w: f"/manage/drops/export.xlsx?community_id={w.a.id}",
              stations_exports, "write_xlsx", "drops.exported"),
    "points": (lambda w: f"/manage/points/entries.xlsx?community_id={w.a.id}",
               points_exports, "write_entries_xlsx", "points.exported"),
}


@pytest.mark.parametrize("name", XLSX_WRITERS)
def test_xlsx_exports_are_written_after_the_request_committed(
        app: Flask, session: Session, db_url: str, monkeypatch: pytest.MonkeyPatch,
        name: str) -> None:
    """A big XLSX takes seconds to write: it is made after the commit point (its rows read in
    a read session of its own), so the export's transaction (its audit entry, SQLite's
    write lock) has ended by then and another request writes without waiting."""
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's one write lock (PostgreSQL locks rows)")
    w = builders.world(session)
    url_of, module, function, action = XLSX_WRITERS[name]
    client = app.test_client()
    builders.login(client, w.manager_a)
    path = str(make_url(db_url).database)
    real_write = getattr(module, function)
    wrote: list[bool] = []

    def write_while_another_writes(*args: Any, **kwargs: Any) -> None:
        wrote.append(_writes_without_waiting(path, w.steward_a.id))
        real_write(*args, **kwargs)

    monkeypatch.setattr(module, function, write_while_another_writes)
    resp = client.get(url_of(w))
    body = resp.get_data()  # the file is made while the response is sent
    assert wrote == [True]  # the other request could write while the file was made
    assert resp.status_code == 200, body[:300]
    assert resp.headers["Content-Type"] == downloads.XLSX
    assert load_workbook(io.BytesIO(body)).active is not None
    session.expire_all()
    assert len(session.exec(select(AuditEntry).where(col(AuditEntry.action) == action)).all()) == 1
    assert session.get(Account, w.steward_a.id).display_name == "renamed"  # type: ignore[union-attr]
