"""Test fixtures: every database test runs on SQLite and (with TEST_DATABASE_URL) PostgreSQL.

Isolation is Warehouse's: one app per backend (and per distinct `app_config`) for the whole
session; each test holds one connection inside an outer transaction that is rolled back at
its end. The app's and the test's sessions work in SAVEPOINTs on that connection
(`join_transaction_mode="create_savepoint"`), so a `commit()` makes data visible to the app
without ever reaching the disk. Nothing is truncated and no app is built per test.

Tests that need real commits (threads, processes, the scheduler runner, the browser) are
marked `real_db`: they get a fresh database of their own (a copy of the migrated SQLite
template; PostgreSQL emptied after) and an app of their own. Tests marked `demo_db` run
rolled back on a database holding the demo city (seed 7, 4 days), built once per worker
(one xdist group: with `--dist loadgroup` on one worker only). Rolled-back tests that
ask for `world` run on a database holding the standard world, committed once per worker
and backend; each test gets its own copies of the world's objects.

Under pytest-xdist each worker has its own SQLite files and its own PostgreSQL database,
cloned from a template migrated once by the controller, so workers never share a schema.

The clock is fixed for every test (`DEFAULT_NOW`, ticking at the real pace); a test that
cares about time freezes its own moment. No test depends on the day it runs.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import threading
import time
import traceback
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import Connection, exists, func, literal, make_url, select, text, union_all
from sqlmodel import Session, SQLModel

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-used-anywhere-else")

from community import clock, create_app  # noqa: E402
from community.auth import services as auth_services  # noqa: E402
from community.cli import upgrade_database  # noqa: E402
from community.db import get_engine, make_engine  # noqa: E402
from tests import builders  # noqa: E402

# Real scrypt, cheaper parameters: hundreds of test accounts would otherwise dominate the run.
auth_services.HASH_METHOD = "scrypt:256:1:1"

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
# The suite's clock: a Saturday morning in Suzhou, chosen once; tests that care freeze their own.
DEFAULT_NOW = datetime(2026, 11, 21, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
BASE_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": False,
    "SECRET_KEY": "test-only-secret-key-not-used-anywhere-else",
    # Tests log in at DEFAULT_NOW and then freeze the clock hours or days away; session
    # timeouts would log them out. tests/auth/test_sessions.py tests the real limits.
    "SESSION_IDLE_MINUTES": 60 * 24 * 365 * 20,
    "SESSION_MAX_HOURS": 24 * 365 * 20,
    "RESIDENT_REMEMBER_DAYS": 365 * 20,
    "RESIDENT_MAX_DAYS": 365 * 20,
    # Threaded tests run 16-64 requests at once on one app's pool, where production has one
    # request per sync worker (DATABASE_POOL_SIZE 2 + 3): the pool they were written for
    # (30 a worker, so two xdist workers stay within PostgreSQL's 100).
    "DATABASE_POOL_SIZE": 10,
    "DATABASE_MAX_OVERFLOW": 20,
}


# --- templates, made once by the controller (or the only process) -------------------------

def _pg_database(name: str) -> str:
    """TEST_DATABASE_URL with another database name."""
    assert PG_URL
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def no_commit_wait(name: str) -> str:
    """The statement that makes the test database `name`'s commits return without waiting
    for their WAL to reach the disk (`synchronous_commit = off` for every later session on
    it: the app's, the test's, the scheduler processes'). What other sessions see, and when,
    is unchanged; only a crash of the server could lose the last commits, of a database the
    run drops anyway. A commit took 3.5-4 ms instead of 0.3-0.5 ms (the machine loaded);
    real_db tests, the browser tests and the world and demo builds commit thousands of
    times. Set per database (a clone does not inherit it), never for the role: other users
    of the server keep their durability."""
    return f'ALTER DATABASE "{name}" SET synchronous_commit = off'


def _pg_admin(statements: list[str]) -> None:
    """Run statements outside a transaction on the given test database (CREATE/DROP DATABASE)."""
    engine = make_engine(PG_URL or "", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for sql in statements:
                conn.execute(text(sql))
    finally:
        engine.dispose()


# This run's id (the controller's pid): database names carry it, so two runs on one machine
# (or one PostgreSQL) never drop each other's databases.
_RUN = {"id": str(os.getpid())}


def _run_database(suffix: str) -> str:
    """The name of one of this run's PostgreSQL databases, e.g. test_4242_gw0."""
    return f"{make_url(PG_URL or '').database}_{_RUN['id']}_{suffix}"


def _template_name() -> str:
    return _run_database("template")


# This process's PostgreSQL databases (its worker, world, demo and migration databases),
# dropped together when its session ends (`pytest_sessionfinish`).
_DROP_AT_END: list[str] = []


def drop_at_end(name: str) -> None:
    """Drop the PostgreSQL database `name` when this process's session ends."""
    if name not in _DROP_AT_END:
        _DROP_AT_END.append(name)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop this process's PostgreSQL databases at once, one connection each (after the
    session's fixtures are torn down). Each DROP DATABASE waits for a checkpoint, which
    writes out the dirty buffers of the whole server: one after the other, a worker's three
    or four drops took 5-10 s at the end of a run; at once, they wait for the same ones."""
    names, _DROP_AT_END[:] = list(_DROP_AT_END), []
    threads = [threading.Thread(target=_pg_admin,
                                args=([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],))
               for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def pytest_configure(config: pytest.Config) -> None:
    """The controller migrates the templates once: a SQLite file and a PostgreSQL database.

    The migrations run in two forked children of the controller (one per backend, at once),
    while the workers start and collect the tests; a worker waits for a template when it first
    needs it (`_template_ready`). They took 5-15 s one after the other before any worker
    started, mostly waiting on disk and PostgreSQL, while the workers' start-up (collection:
    about 12 s of CPU each) needs no database."""
    if hasattr(config, "workerinput"):  # an xdist worker: the controller did it
        _RUN["id"] = config.workerinput["run_id"]
        return
    if config.option.collectonly:
        return
    root = Path(config.rootpath) / ".pytest_cache" / "templates"
    root.mkdir(parents=True, exist_ok=True)
    sqlite_path = root / f"template-{os.getpid()}.db"
    config.stash[_SQLITE_TEMPLATE] = str(sqlite_path)
    jobs = {"sqlite": f"sqlite:///{sqlite_path}"}
    if PG_URL:
        template = _template_name()
        try:  # at once, so an unreachable server stops the run before it starts
            _pg_admin([*_stale_run_databases(),
                       f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)',
                       f'CREATE DATABASE "{template}"', no_commit_wait(template)])
        except Exception as exc:  # noqa: BLE001
            raise pytest.UsageError(f"PostgreSQL at {PG_URL} is unreachable: {exc}") from exc
        jobs["postgresql"] = _pg_database(template)
    config.stash[_MIGRATIONS] = [_migrate_in_child(url, _ready_marker(str(sqlite_path), backend))
                                 for backend, url in jobs.items()]


def _ready_marker(sqlite_template: str, backend: str) -> Path:
    """The file a migration child writes when `backend`'s template is migrated: "ok", or
    the error."""
    return Path(f"{sqlite_template}.{backend}-ready")


def _migrate_in_child(url: str, marker: Path) -> int:
    """Fork a child that migrates `url`, writes `marker` and exits; its pid."""
    marker.unlink(missing_ok=True)
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        try:
            upgrade_database(url)
            result = "ok"
            code = 0
        except BaseException:  # noqa: BLE001 - reported to the workers through the marker
            result = traceback.format_exc()
        part = marker.with_name(marker.name + ".part")
        part.write_text(result)
        part.replace(marker)  # whole or absent for a reader
    finally:
        os._exit(code)  # noqa: SLF001 - never back into the controller's pytest


def _template_ready(sqlite_template: str, backend: str) -> None:
    """Wait until the controller's child has migrated `backend`'s template; fail the test
    with the migration's error if it failed."""
    if backend in _READY:
        return
    marker = _ready_marker(sqlite_template, backend)
    deadline = time.monotonic() + 600
    while not marker.exists():
        if time.monotonic() > deadline:
            pytest.fail(f"the {backend} template was not migrated within 600 s")
        time.sleep(0.05)
    result = marker.read_text()
    if result != "ok":
        pytest.fail(f"migrating the {backend} template failed:\n{result}")
    _READY.add(backend)


_READY: set[str] = set()


def _stale_run_databases() -> list[str]:
    """DROP statements for databases of earlier runs whose controller is gone (a killed run)."""
    base = make_url(PG_URL or "").database
    engine = make_engine(PG_URL or "")
    try:
        with engine.connect() as conn:
            names = conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                                 {"p": f"{base}_%"}).scalars().all()
    finally:
        engine.dispose()
    stale = []
    for name in names:
        run = name[len(base) + 1:].split("_", 1)[0]
        if run.isdigit() and not _alive(int(run)):
            stale.append(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return stale


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pytest_unconfigure(config: pytest.Config) -> None:
    """The controller removes the templates it made (once its migration children ended)."""
    path = config.stash.get(_SQLITE_TEMPLATE, None)
    if path is None:
        return
    for pid in config.stash.get(_MIGRATIONS, []):
        os.waitpid(pid, 0)
    for backend in BACKENDS:
        _ready_marker(path, backend).unlink(missing_ok=True)
    Path(path).unlink(missing_ok=True)
    if PG_URL:
        _pg_admin([f'DROP DATABASE IF EXISTS "{_template_name()}" WITH (FORCE)'])


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Hand the controller's template path to each xdist worker."""
    node.workerinput["sqlite_template"] = node.config.stash[_SQLITE_TEMPLATE]
    node.workerinput["run_id"] = _RUN["id"]


_SQLITE_TEMPLATE = pytest.StashKey[str]()
_MIGRATIONS = pytest.StashKey[list[int]]()


# The longest tests (tens of seconds each) start first, so that under xdist the short ones
# fill the gaps at the end instead of one worker finishing a long test alone.
SLOW_FIRST = ("tests/test_late_data.py", "tests/ratings/test_demo.py",
              "tests/fuzz/test_api_schemathesis.py", "tests/scheduler/test_runner.py",
              "tests/e2e/", "tests/points/test_ledger_stateful.py")


def browser_backend(nodeid: str) -> str:
    """The one backend a browser test runs on when both are available: alternating between
    the tests by a stable hash of their id without the backend, so every run drives both
    backends through a browser (each flow on the same one every time) at half the cost of
    running each flow twice. What a browser adds (layout, scripts, the camera, the offline
    queue) does not depend on the database; every route's server side runs on both backends
    in the HTTP tests (tests/test_scope.py, tests/fuzz/test_hostile.py, each module's views
    tests). BROWSER_BACKENDS=all runs every browser test on both."""
    base = nodeid.replace("[sqlite-", "[").replace("[postgresql-", "[")
    return BACKENDS[zlib.crc32(base.encode()) % len(BACKENDS)]


def _deselect_browser_twins(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each browser test on one backend (see `browser_backend`), unless BROWSER_BACKENDS=all."""
    if os.environ.get("BROWSER_BACKENDS") == "all" or len(BACKENDS) < 2:
        return
    dropped = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        chosen = callspec.params.get("backend") if callspec else None
        if (item.get_closest_marker("browser") is not None and chosen is not None
                and chosen != browser_backend(item.nodeid)):
            dropped.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in set(dropped)]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow tests first; the demo city's tests (`demo_db`) in one xdist group (with
    `--dist loadgroup`, one worker builds the demo; the default `load` ignores groups); each
    browser test on one backend."""
    _deselect_browser_twins(config, items)
    for item in items:
        if item.get_closest_marker("demo_db") is not None:
            item.add_marker(pytest.mark.xdist_group("demo_city"))

    def rank(item: pytest.Item) -> int:
        if item.get_closest_marker("demo_db") is not None:
            return 1
        return 0 if item.nodeid.startswith(SLOW_FIRST) else 2

    items.sort(key=rank)  # stable: the collection order within each rank


@pytest.fixture(scope="session")
def worker(request: pytest.FixtureRequest) -> str:
    """This process's xdist worker id ("main" without xdist)."""
    workerinput = getattr(request.config, "workerinput", None)
    return workerinput["workerid"] if workerinput else "main"


@pytest.fixture(scope="session")
def sqlite_template(request: pytest.FixtureRequest) -> Path:
    """The migrated SQLite file every SQLite database of the run is copied from."""
    path = _sqlite_template_path(request.config)
    _template_ready(path, "sqlite")
    return Path(path)


def _sqlite_template_path(config: pytest.Config) -> str:
    workerinput = getattr(config, "workerinput", None)
    return workerinput["sqlite_template"] if workerinput else config.stash[_SQLITE_TEMPLATE]


def _pg_template_ready(request: pytest.FixtureRequest) -> None:
    _template_ready(_sqlite_template_path(request.config), "postgresql")


@pytest.fixture(scope="session")
def pg_url(request: pytest.FixtureRequest, worker: str) -> Iterator[str]:
    """This worker's own PostgreSQL database, cloned from the migrated template."""
    if not PG_URL:
        pytest.fail("TEST_DATABASE_URL is not set")
    _pg_template_ready(request)
    name = _run_database(worker)
    _pg_admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
               f'CREATE DATABASE "{name}" TEMPLATE "{_template_name()}"',
               no_commit_wait(name)])
    _SEED_ROWS[_pg_database(name)] = _seed_rows(_pg_database(name))
    yield _pg_database(name)
    drop_at_end(name)


@pytest.fixture(scope="session")
def shared_sqlite(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """This worker's SQLite database for rolled-back tests."""
    path = tmp_path_factory.mktemp("shared") / "test.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


# --- apps ----------------------------------------------------------------------------------

@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend this test runs on."""
    return request.param


@pytest.fixture
def app_config() -> dict:
    """Override per test module (e.g. to enable CSRF or rate limits); values are hashable."""
    return {}


@pytest.fixture(scope="session")
def _apps() -> Iterator[dict[tuple, Flask]]:
    """One app per (database, config) for the whole session."""
    apps: dict[tuple, Flask] = {}
    yield apps
    for application in apps.values():
        get_engine(application).dispose()


def _is_real_db(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("real_db") is not None


DEMO_SEED, DEMO_DAYS = 7, 4


@pytest.fixture(scope="session")
def _demo_urls(worker: str, sqlite_template: Path,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Databases holding the demo city, built on first use per backend (see `demo_url`)."""
    urls: dict[str, str] = {}
    yield urls
    if "postgresql" in urls:
        drop_at_end(make_url(urls["postgresql"]).database or "")


def _fresh_database(request: pytest.FixtureRequest, backend: str, kind: str,
                    urls: dict[str, str]) -> str:
    """A freshly migrated database of this worker for `kind` (demo, world): a copy of the
    SQLite template, or a PostgreSQL clone of the template database (noted in `urls` at once,
    so it is dropped at the end even if what is built in it fails)."""
    if backend == "sqlite":
        path = request.getfixturevalue("tmp_path_factory").mktemp(kind) / f"{kind}.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    name = _run_database(f"{request.getfixturevalue('worker')}_{kind}")
    _pg_template_ready(request)
    _pg_admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
               f'CREATE DATABASE "{name}" TEMPLATE "{_template_name()}"',
               no_commit_wait(name)])
    urls["postgresql"] = _pg_database(name)
    return urls["postgresql"]


def demo_url(request: pytest.FixtureRequest, backend: str) -> str:
    """The worker's demo database for `backend`: migrated, then built at DEFAULT_NOW."""
    urls: dict[str, str] = request.getfixturevalue("_demo_urls")
    if backend in urls:
        return urls[backend]
    url = _fresh_database(request, backend, "demo", urls)
    from community import demo

    engine = make_engine(url)
    try:
        with clock.freeze(DEFAULT_NOW), Session(engine, expire_on_commit=False) as session:
            demo.build(session, seed=DEMO_SEED, echo=lambda _line: None, days=DEMO_DAYS)
    finally:
        engine.dispose()
    urls[backend] = url
    return url


# The shared world: `builders.world` committed once per worker and backend into a database
# of its own (a copy of the template), for the rolled-back tests that ask for `world`
# (about three quarters of the suite: building it per test cost 20-30 ms of CPU each).
_WORLDS: dict[str, builders.World] = {}


def _uses_shared_world(request: pytest.FixtureRequest) -> bool:
    """TEST_SHARED_WORLD=0 builds the world in each test instead (to rule the sharing out)."""
    return (os.environ.get("TEST_SHARED_WORLD", "1") != "0"
            and "world" in request.fixturenames and not _is_real_db(request)
            and request.node.get_closest_marker("demo_db") is None)


@pytest.fixture(scope="session")
def _world_urls() -> Iterator[dict[str, str]]:
    """Databases holding the shared world, built on first use per backend (see `world_url`)."""
    urls: dict[str, str] = {}
    yield urls
    if "postgresql" in urls:
        drop_at_end(make_url(urls["postgresql"]).database or "")


def world_url(request: pytest.FixtureRequest, backend: str) -> str:
    """The worker's world database for `backend`: migrated, then the world built at
    DEFAULT_NOW and committed. Its objects are kept (detached) for the `world` fixture."""
    urls: dict[str, str] = request.getfixturevalue("_world_urls")
    if backend in urls:
        return urls[backend]
    url = _fresh_database(request, backend, "world", urls)
    engine = make_engine(url)
    try:
        with clock.freeze(DEFAULT_NOW), Session(engine, expire_on_commit=False) as session:
            _WORLDS[backend] = builders.world(session)
    finally:
        engine.dispose()
    urls[backend] = url
    return url


@pytest.fixture
def db_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path,
           sqlite_template: Path) -> Iterator[str]:
    """The database URL of this test: the worker's shared one, the demo one (demo_db), or
    (real_db) a fresh one."""
    if request.node.get_closest_marker("demo_db") is not None:
        yield demo_url(request, backend)
        return
    if _uses_shared_world(request):
        yield world_url(request, backend)
        return
    if backend == "sqlite":
        if not _is_real_db(request):
            yield request.getfixturevalue("shared_sqlite")
            return
        path = tmp_path / "test.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("pg_url")
    yield url
    if _is_real_db(request):
        _empty(url)


# Rows the migrations seed (the city's default mis-drop reasons), per worker database: read
# from the fresh clone, put back after each emptying, so a real_db test never takes them
# from the tests that follow it (SQLite tests copy the migrated file instead).
_SEED_ROWS: dict[str, list[tuple[str, list[dict]]]] = {}


def _seed_rows(url: str) -> list[tuple[str, list[dict]]]:
    """The rows of every table the migrations left non-empty, in dependency order."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [(t.name, rows) for t in SQLModel.metadata.sorted_tables
                    if (rows := [dict(r) for r in conn.execute(select(t)).mappings()])]
    finally:
        engine.dispose()


def _empty(url: str) -> None:
    """Empty every table of a real_db test's PostgreSQL database but for the migrations' seed
    rows, and restart every sequence: the next test expects a freshly migrated database.

    DELETE from the tables that hold rows (children first), not TRUNCATE: a TRUNCATE of the
    ~65 tables (with CASCADE, even of the few that hold rows) makes new files for each of
    their ~360 relations and took 0.5-2 s per test; the DELETEs take 10-60 ms.

    As a superuser (CI's root), the DELETEs run with `session_replication_role = replica`:
    no foreign-key check per deleted row (every row of every table goes, so none can be left
    dangling). With the checks, each row deleted from a referenced table looked up its
    referencing tables, most without an index on the key: emptying after a demo build took
    5-15 s. The schema has no triggers of its own (only the constraints' internal ones)."""
    engine = make_engine(url)
    tables = SQLModel.metadata.sorted_tables
    try:
        with engine.begin() as conn:
            used = set(conn.execute(union_all(*(
                select(literal(t.name)).where(exists(select(literal(1)).select_from(t)))
                for t in tables))).scalars())
            unchecked = conn.execute(text("SELECT current_setting('is_superuser') = 'on'")
                                     ).scalar_one()
            if unchecked:
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            for table in reversed(tables):
                if table.name in used:
                    conn.execute(table.delete())
            if unchecked:
                conn.execute(text("SET LOCAL session_replication_role = origin"))
            conn.execute(text(
                "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, "
                "start_value, false) FROM pg_sequences WHERE schemaname = current_schema()"))
            for name, rows in _SEED_ROWS.get(url, []):
                table = SQLModel.metadata.tables[name]
                conn.execute(table.insert(), rows)
                if "id" in table.c:  # the sequence continues after the seeded ids
                    conn.execute(select(func.setval(
                        func.pg_get_serial_sequence(f'"{name}"', "id"),
                        select(func.max(table.c.id)).scalar_subquery())))
    finally:
        engine.dispose()


class _SharedTemplateCode(BytecodeCache):
    """Compiled templates shared by every app of this process: each template is compiled once
    per worker, not once per app (each real_db test has an app of its own, and parsing and
    compiling a page's templates cost it 20-50 ms a template). Every app comes from
    `create_app`, with the same Jinja settings; a template whose source changed is compiled
    again (the bucket's checksum)."""

    def __init__(self) -> None:
        self.code: dict[tuple[str, str | None], Any] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        bucket.code = self.code.get((bucket.key, bucket.checksum))

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.code[(bucket.key, bucket.checksum)] = bucket.code


TEMPLATE_CODE = _SharedTemplateCode()


def _create_app(config: dict[str, Any]) -> Flask:
    application = create_app(config)
    application.jinja_env.bytecode_cache = TEMPLATE_CODE
    return application


@pytest.fixture
def app(request: pytest.FixtureRequest, db_url: str, app_config: dict, tmp_path: Path,
        _apps: dict[tuple, Flask]) -> Iterator[Flask]:
    """The application for this test, its uploads in this test's own folder."""
    config = {**BASE_CONFIG, "DATABASE_URL": db_url, **app_config}
    if _is_real_db(request):
        application = _create_app({**config, "UPLOAD_DIR": str(tmp_path / "uploads")})
        yield application
        get_engine(application).dispose()
        return
    key = tuple(sorted(config.items()))
    application = _apps.get(key)
    if application is None:
        application = _apps[key] = _create_app(config)
    connection = get_engine(application).connect()
    outer = connection.begin()
    saved = application.config.get("UPLOAD_DIR")
    application.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    application.extensions["community.bind"] = connection
    from community.extensions import limiter

    # The limiter is one object shared by every app; the last app built set its switch.
    limiter.enabled = application.config["RATELIMIT_ENABLED"]
    if limiter.enabled:
        with application.app_context():
            limiter.reset()  # rate-limit counters are per test, as a fresh app would have them
            application.extensions["community.login_throttle"].reset()
    try:
        yield application
    finally:
        application.extensions.pop("community.bind", None)
        application.config["UPLOAD_DIR"] = saved
        if outer.is_active:
            outer.rollback()
        connection.close()


@pytest.fixture
def connection(app: Flask) -> Connection:
    """The one connection a rolled-back test works on, inside its outer transaction."""
    return app.extensions["community.bind"]


@pytest.fixture
def session(request: pytest.FixtureRequest, app: Flask) -> Iterator[Session]:
    """A session for arranging data and checking results (commit to make data visible)."""
    if _is_real_db(request):
        # Deferred BEGIN on SQLite: checking results must not hold the write lock against the app.
        engine = get_engine(app).execution_options(sqlite_immediate=False)
        with Session(engine, expire_on_commit=False) as s:
            yield s
        return
    with Session(bind=app.extensions["community.bind"], expire_on_commit=False,
                 join_transaction_mode="create_savepoint") as s:
        yield s


@pytest.fixture
def set_config(app: Flask) -> Iterator[Callable[..., None]]:
    """`set_config(PAGE_SIZE=3)`: change the shared app's config for this test only."""
    missing = object()
    saved: dict[str, Any] = {}

    def set_values(**values: Any) -> None:
        for key, value in values.items():
            saved.setdefault(key, app.config.get(key, missing))
            app.config[key] = value

    yield set_values
    for key, value in saved.items():
        if value is missing:
            app.config.pop(key, None)
        else:
            app.config[key] = value


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client (Chinese by default, as the app)."""
    return app.test_client()


@pytest.fixture
def world(request: pytest.FixtureRequest, backend: str, session: Session) -> builders.World:
    """Two communities (A and B) in one city, with a manager, households and residents in each.

    Rolled-back tests share one committed world per worker and backend (see `world_url`):
    the test gets its own copies of the rows' objects, merged into its session, so what it
    changes stays in its transaction and its objects. real_db and demo_db tests build their
    own."""
    if not _uses_shared_world(request):
        return builders.world(session)
    request.getfixturevalue("_world_urls")  # the world of this backend exists (db_url made it)
    pristine = _WORLDS[backend]
    copies: dict[str, Any] = {}
    for f in dataclasses.fields(pristine):
        value = getattr(pristine, f.name)
        copies[f.name] = ([session.merge(v, load=False) for v in value]
                          if isinstance(value, list) else session.merge(value, load=False))
    return builders.World(**copies)


@pytest.fixture(autouse=True)
def _fixed_clock() -> Iterator[None]:
    """Every test starts at DEFAULT_NOW, whatever the machine's date (the clock then ticks)."""
    with clock.freeze(DEFAULT_NOW, tick=True):
        yield


@pytest.fixture(autouse=True)
def _fresh_process_caches() -> Iterator[None]:
    """Each test starts with empty process caches (the scan path's stations, the boards'
    rankings): ids repeat across databases and rolled-back tests."""
    from community.points import services as points_services
    from community.points.boards import queries as boards
    from community.stations import services as stations_services

    stations_services.forget_station()
    points_services.forget_rules()
    boards.forget_rankings()
    yield
    stations_services.forget_station()
    points_services.forget_rules()
    boards.forget_rankings()
