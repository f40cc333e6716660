"""Replica reads, tested for real: a PostgreSQL primary and a streaming standby of this test's
own (`initdb`, `pg_basebackup -R`, free ports, a temporary directory, torn down after), the
app pointed at both. The allow-listed pages read from the standby, everything else and every
write from the primary: with the standby's replay paused, a rename made on the primary shows
on a page that is not on the list and not yet on the dashboard, and shows there once replay
resumes. A write through the replica session fails loudly.

Skipped only when the PostgreSQL server binaries are absent (Debian: postgresql); as root the
clusters run as the `postgres` user (initdb refuses root).
"""
from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from glob import glob
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.exc import InternalError, OperationalError
from sqlmodel import Session

from community import create_app
from community.areas.models import Area
from community.cli import upgrade_database
from community.db import REPLICA_PAGES, ReadOnlySessionError, get_engine, get_session, open_session
from tests import builders
from tests.conftest import BASE_CONFIG


def _bindir() -> Path | None:
    """The newest installed PostgreSQL's server binaries (initdb, pg_ctl, pg_basebackup)."""
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(re.sub(r"\D", "", Path(p).parent.parent.name) or 0))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


BINDIR = _bindir()


# --- the allow-list (no server needed) ------------------------------------------------------

def test_every_replica_page_is_a_read_only_get_page() -> None:
    app = create_app({**BASE_CONFIG, "DATABASE_URL": "sqlite://"})
    methods: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        methods.setdefault(rule.endpoint, set()).update(rule.methods or ())
    for endpoint in REPLICA_PAGES:
        assert endpoint in methods, f"{endpoint} is not a page (renamed?)"
        assert methods[endpoint] - {"HEAD", "OPTIONS"} == {"GET"}, endpoint


def test_a_replica_session_refuses_writes_on_sqlite(tmp_path: Path) -> None:
    """Without a replica everything is the primary; with one (here a read-only copy) the
    replica session refuses to flush and the engine refuses raw writes."""
    url = f"sqlite:///{tmp_path / 'primary.db'}"
    app = create_app({**BASE_CONFIG, "DATABASE_URL": url})
    with app.test_request_context("/dashboard/community"):
        assert get_engine(app, replica=True) is get_engine(app)
        assert "replica" not in get_session().info
    app = create_app({**BASE_CONFIG, "DATABASE_URL": url, "DATABASE_REPLICA_URL": url})
    try:
        with app.test_request_context("/dashboard/community"):
            assert get_session().info.get("replica") is True
        with app.test_request_context("/manage/households"):
            assert "replica" not in get_session().info
        with app.app_context(), open_session(replica=True) as session:
            session.add(Area(name="x", level="city", path="/"))
            with pytest.raises(ReadOnlySessionError):
                session.flush()
            session.rollback()
            with pytest.raises(OperationalError, match="readonly"):
                session.execute(text("CREATE TABLE nope (id int)"))
    finally:
        get_engine(app).dispose()
        get_engine(app, replica=True).dispose()


def test_every_replica_page_renders_without_writing(tmp_path: Path,
                                                  sqlite_template: Path) -> None:
    """Each allow-listed page answers on a read-only replica (here the primary's own file
    opened `query_only`): none of them writes, not even an audit entry."""
    path = tmp_path / "primary.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    app = create_app({**BASE_CONFIG, "DATABASE_URL": url, "DATABASE_REPLICA_URL": url})
    try:
        with Session(get_engine(app), expire_on_commit=False) as session:
            world = builders.world(session)
        pages = {"dashboard.index": {}, "dashboard.community": {"community_id": world.a.id},
                 "dashboard.community_csv": {"community_id": world.a.id},
                 "dashboard.community_xlsx": {"community_id": world.a.id},
                 "dashboard.area": {"area_id": world.street_a.id},
                 "dashboard.ranking": {"area_id": world.street_a.id},
                 "board.index": {"community_id": world.a.id}, "ratings.index": {},
                 "ratings.community": {"community_id": world.a.id},
                 "hours.report": {"community_id": world.a.id}}
        assert set(pages) == REPLICA_PAGES
        client = app.test_client()
        builders.login(client, world.city_admin)
        for endpoint, args in pages.items():
            with app.test_request_context():
                from flask import url_for

                target = url_for(endpoint, **args)
            resp = client.get(target)
            assert resp.status_code in (200, 302), (endpoint, resp.status_code)
    finally:
        get_engine(app).dispose()
        get_engine(app, replica=True).dispose()


# --- a primary and a streaming standby --------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Clusters:
    """Two clusters under `root`, run as `user` (None: as ourselves)."""

    def __init__(self, root: Path, user: str | None) -> None:
        self.root, self.user = root, user
        self.primary_port, self.standby_port = _free_port(), _free_port()
        self.started: list[Path] = []

    def run(self, *args: str | Path) -> str:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        cmd = [*prefix, *(str(a) for a in args)]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=60,  # noqa: S603
                                check=False, cwd=self.root)
        assert result.returncode == 0, f"{' '.join(cmd)}: {result.stdout}{result.stderr}"
        return result.stdout

    def url(self, port: int, db: str = "app", user: str = "postgres") -> str:
        return f"postgresql+psycopg://{user}@127.0.0.1:{port}/{db}"

    def start(self, data: Path) -> None:
        assert BINDIR is not None
        self.run(BINDIR / "pg_ctl", "-D", data, "-l", self.root / f"{data.name}.log",
                 "-w", "-t", "30", "start")
        self.started.append(data)

    def stop_all(self) -> None:
        assert BINDIR is not None
        for data in reversed(self.started):
            with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
                self.run(BINDIR / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")


def _sql(url: str, sql: str, params: dict[str, Any] | None = None) -> Any:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            result = conn.execute(text(sql), params or {})
            return result.scalar() if result.returns_rows else None
    finally:
        engine.dispose()


def _wait(condition: Any, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def clusters() -> Iterator[Clusters]:
    """A migrated primary (wal_level=replica, a replication role) and its streaming standby."""
    if BINDIR is None:
        pytest.skip("the PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) are not "
                    "installed (Debian: postgresql)")
    user = None
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres").pw_name
        except KeyError:
            pytest.fail("running as root needs a `postgres` user to run initdb as")
    root = Path(tempfile.mkdtemp(prefix="replica-test-"))
    if user:
        shutil.chown(root, user)
    c = Clusters(root, user)
    try:
        primary, standby = root / "primary", root / "standby"
        c.run(BINDIR / "initdb", "-D", primary, "-U", "postgres", "-A", "trust", "-E", "UTF8",
              "--locale=C", "--no-sync")
        with (primary / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {c.primary_port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{root}'\nwal_level = replica\n"
                       "max_wal_senders = 4\nhot_standby = on\nfsync = off\n"
                       "shared_buffers = 16MB\nmax_connections = 30\n")
        with (primary / "pg_hba.conf").open("a") as hba:
            hba.write("host replication replicator 127.0.0.1/32 trust\n")
        c.start(primary)
        _sql(c.url(c.primary_port, "postgres"), "CREATE ROLE replicator REPLICATION LOGIN")
        _sql(c.url(c.primary_port, "postgres"), "CREATE DATABASE app")
        c.run(BINDIR / "pg_basebackup", "-h", "127.0.0.1", "-p", str(c.primary_port),
              "-U", "replicator", "-D", standby, "-R", "-X", "stream", "-c", "fast",
              "--no-sync")
        with (standby / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {c.standby_port}\n")
        c.start(standby)
        standby_url = c.url(c.standby_port)
        _wait(lambda: _sql(c.url(c.primary_port, "postgres"),
                           "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"),
              "the standby to stream")
        assert _sql(standby_url, "SELECT pg_is_in_recovery()") is True
        upgrade_database(c.url(c.primary_port))
        _caught_up(c)
        yield c
    finally:
        c.stop_all()
        shutil.rmtree(root, ignore_errors=True)


def _caught_up(c: Clusters) -> None:
    """Wait until the standby has replayed everything the primary wrote so far."""
    lsn = _sql(c.url(c.primary_port), "SELECT pg_current_wal_lsn()::text")
    _wait(lambda: _sql(c.url(c.standby_port),
                       "SELECT pg_last_wal_replay_lsn() >= CAST(:l AS pg_lsn)", {"l": lsn}),
          "the standby to replay")


@pytest.fixture
def replica_app(clusters: Clusters) -> Iterator[Flask]:
    app = create_app({**BASE_CONFIG, "DATABASE_URL": clusters.url(clusters.primary_port),
                      "DATABASE_REPLICA_URL": clusters.url(clusters.standby_port)})
    yield app
    get_engine(app).dispose()
    get_engine(app, replica=True).dispose()


def test_replica_pages_read_the_standby_and_writes_go_to_the_primary(
        clusters: Clusters, replica_app: Flask) -> None:
    with Session(get_engine(replica_app), expire_on_commit=False) as session:
        world = builders.world(session)  # committed on the primary
    _caught_up(clusters)
    where = "SELECT pg_is_in_recovery(), inet_server_port()"
    with replica_app.test_request_context("/dashboard/community"):
        assert get_session().execute(text(where)).one() == (True, clusters.standby_port)
    with replica_app.test_request_context("/manage/households"):
        assert get_session().execute(text(where)).one() == (False, clusters.primary_port)

    admin, manager = replica_app.test_client(), replica_app.test_client()
    builders.login(admin, world.city_admin)
    builders.login(manager, world.manager_a)
    old_name = world.a.name
    assert old_name in manager.get("/dashboard/community").get_data(as_text=True)

    _sql(clusters.url(clusters.standby_port), "SELECT pg_wal_replay_pause()")
    try:
        resp = admin.post(f"/admin/areas/{world.a.id}/rename", data={"name": "改名社区"})
        assert resp.status_code == 302
        name_sql = "SELECT name FROM area WHERE id = :id"
        assert _sql(clusters.url(clusters.primary_port), name_sql, {"id": world.a.id}) == "改名社区"
        assert _sql(clusters.url(clusters.standby_port), name_sql, {"id": world.a.id}) == old_name
        # A page not on the list reads the primary: the new name at once.
        assert "改名社区" in admin.get(f"/admin/areas?node={world.a.id}").get_data(as_text=True)
        # The dashboard reads the paused standby: still the old name.
        page = manager.get("/dashboard/community").get_data(as_text=True)
        assert old_name in page
        assert "改名社区" not in page
    finally:
        _sql(clusters.url(clusters.standby_port), "SELECT pg_wal_replay_resume()")
    _caught_up(clusters)
    assert "改名社区" in manager.get("/dashboard/community").get_data(as_text=True)


def test_a_write_through_the_replica_session_fails_loudly(replica_app: Flask) -> None:
    with replica_app.app_context(), open_session(replica=True) as session:
        with pytest.raises(InternalError, match="read-only transaction"):
            session.execute(text("CREATE TABLE nope (id int)"))
        session.rollback()
        session.add(Area(name="x", level="city", path="/"))
        with pytest.raises(ReadOnlySessionError):
            session.flush()


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="needs TEST_DATABASE_URL (PostgreSQL)")
def test_the_replica_engine_is_read_only_even_on_a_primary() -> None:
    """A DATABASE_REPLICA_URL naming a primary by mistake still refuses writes."""
    from community.db import make_engine

    engine = make_engine(os.environ["TEST_DATABASE_URL"], read_only=True)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW transaction_read_only")).scalar() == "on"
            with pytest.raises(InternalError, match="read-only transaction"):
                conn.execute(text("CREATE TABLE replica_nope (id int)"))
    finally:
        engine.dispose()
