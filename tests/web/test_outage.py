"""A database that cannot be reached: 503 with Retry-After (JSON with a code for the API, a
page for people, in both languages), logged once per outage, and service returns by itself
when the database is back (no restart).

PostgreSQL: the app talks to the database through a TCP relay the test stops (nothing
listens: connection refused) and starts again on the same port. SQLite: the database file's
folder is missing (a lost mount), then comes back.
"""
from __future__ import annotations

import contextlib
import logging
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from community import create_app
from community.db import get_engine
from tests.conftest import BASE_CONFIG

pytestmark = pytest.mark.real_db


class Relay:
    """A TCP relay from a local port to (host, port); stop() closes it and every connection."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []

    def start(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(16)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _addr = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        if self._server is not None:
            with contextlib.suppress(OSError):
                self._server.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
            self._server.close()
            self._server = None
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self._conns.clear()


@pytest.fixture
def outage(db_url: str, tmp_path: Path) -> Iterator[tuple[str, object, object]]:
    """(the app's database URL, take_down(), bring_back()) for this backend."""
    url = make_url(db_url)
    if url.drivername.startswith("sqlite"):
        home = tmp_path / "mount"
        path = home / "test.db"

        def down() -> None:
            shutil.rmtree(home, ignore_errors=True)

        def back() -> None:
            home.mkdir(exist_ok=True)
            shutil.copy(str(url.database), path)

        yield f"sqlite:///{path}", down, back
        return
    relay = Relay((url.host or "127.0.0.1", url.port or 5432))
    yield (url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False),
           relay.stop, relay.start)
    relay.stop()


class Records(logging.Handler):
    """The log records of one logger, kept (works with or without pytest's logging plugin)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_an_unreachable_database_is_503_and_service_returns_by_itself(outage) -> None:
    """Down from the start: 503 + Retry-After, JSON and page; back: answers, no restart."""
    url, down, back = outage
    down()
    app: Flask = create_app({**BASE_CONFIG, "DATABASE_URL": url, "SCHEMA_CHECK": True})
    client = app.test_client()
    device = {"Authorization": "Bearer not-a-real-device-token-000000"}
    caplog = Records()
    app.logger.addHandler(caplog)
    try:
        for _ in range(3):
            resp = client.get("/api/v1/stations", headers=device)
            assert resp.status_code == 503
            assert int(resp.headers["Retry-After"]) > 0
            body = resp.get_json()
            assert body["error"] == "unavailable"
            assert body["details"]["retry_after"] == int(resp.headers["Retry-After"])
            assert "稍后再试" in body["message"]
        page = client.post("/login", data={"login": "someone", "password": "x" * 12})
        assert page.status_code == 503
        assert page.mimetype == "text/html"
        assert int(page.headers["Retry-After"]) > 0
        assert "服务暂时不可用" in page.get_data(as_text=True)
        with client.session_transaction() as browser_session:
            browser_session["lang"] = "en"  # what /lang stores (it needs no database)
        page = client.post("/login", data={"login": "someone", "password": "x" * 12})
        assert page.status_code == 503
        assert "temporarily unavailable" in page.get_data(as_text=True)
        down_logs = [r for r in caplog.records if "database unreachable" in r.getMessage()]
        assert len(down_logs) == 1, "an outage is logged once, not per request"

        back()
        resp = client.get("/api/v1/stations", headers=device)
        assert resp.status_code == 401  # the database answered: the token is unknown
        assert resp.get_json()["error"] == "device_unauthorized"
        page = client.post("/login", data={"login": "someone", "password": "x" * 12})
        assert page.status_code < 500
        back_logs = [r for r in caplog.records if "reachable again" in r.getMessage()]
        assert len(back_logs) == 1

        if url.startswith("sqlite"):
            return  # an open SQLite file outlives its folder: no second outage to see
        down()  # a second outage while connections are pooled: 503 again, logged again
        resp = client.get("/api/v1/stations", headers=device)
        assert resp.status_code == 503
        assert resp.get_json()["error"] == "unavailable"
        back()
        resp = client.get("/api/v1/stations", headers=device)
        assert resp.status_code == 401
        down_logs = [r for r in caplog.records if "database unreachable" in r.getMessage()]
        assert len(down_logs) == 2
    finally:
        app.logger.removeHandler(caplog)
        get_engine(app).dispose()
