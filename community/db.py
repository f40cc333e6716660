"""Engines, per-request sessions and the schema-version check.

One `Session(expire_on_commit=False)` per request, created lazily in `g`, committed by
the one commit point (`commit_request`, after the view and before the response is sent)
and closed at teardown (the flaskr pattern). Views never commit; CLI commands and jobs
commit for themselves.

Replica: when DATABASE_REPLICA_URL is set, the read-only pages named in `REPLICA_PAGES`
read their data from it (`get_session()` returns a read-only session on the replica there);
who is logged in and their grants are still read from the primary (`primary_session()`),
so a logout or a revoked role counts at once. Every other page, every write and every job
uses the primary.
Nothing here touches the database at import or in `create_app`.
"""
from __future__ import annotations

import select
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session

from community.errors import SchemaBehind

F = TypeVar("F", bound=Callable[..., Any])

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


# The pages that may read from the replica (Flask endpoints, GET only): aggregates whose
# figures tolerate a few seconds of replication lag, none of which writes (not even an
# audit entry) and none of which a user lands on to see what they just changed. Pages
# that show a user's own recent write (their board after opting out, the policy page after
# publishing, the tonnage form) stay on the primary: read-your-writes. Audited exports
# (drops, points, volunteer hours) stay on the primary for their audit entry; their
# streamed rows come from the replica (`web.downloads`). tests/test_replica.py checks that
# every name is a GET page that renders with a read-only replica.
REPLICA_PAGES = frozenset({
    "dashboard.index", "dashboard.community", "dashboard.area", "dashboard.ranking",
    "dashboard.community_csv", "dashboard.community_xlsx",
    "board.index",
    "ratings.index", "ratings.community",
    "hours.report",
})

# Connections per process and engine (DATABASE_POOL_SIZE, DATABASE_MAX_OVERFLOW in the
# config; README "Connection budget"): a sync gunicorn worker serves one request at a time
# and holds at most one connection per engine (two while an export streams), so 2 + 3 is
# ample; the scheduler runs its jobs in threads, one connection each.
POOL_SIZE = 2
MAX_OVERFLOW = 3
# psycopg prepares a statement on the server after this many runs on one connection (its
# default). DATABASE_PREPARE_THRESHOLD=none turns that off (PgBouncer's transaction mode).
PREPARE_THRESHOLD = 5


class ReadOnlySessionError(RuntimeError):
    """Something tried to write through a replica session (a bug: writes go to the primary)."""


def make_engine(url: str, *, read_only: bool = False, pool_size: int = 10,
                max_overflow: int = 20, prepare_threshold: int | None = PREPARE_THRESHOLD,
                **kwargs: Any) -> Engine:
    """Create an engine tuned for SQLite (WAL, FKs, busy timeout, BEGIN IMMEDIATE) or PostgreSQL.

    `hide_parameters`: a database error names the statement but never its values (phone
    numbers, card tokens, passwords' hashes) in logs and error reports.
    `read_only`: every transaction is read-only (`BEGIN READ ONLY` on PostgreSQL, which a
    standby requires anyway and a primary enforces; `PRAGMA query_only` on SQLite), so a
    write through a replica engine fails loudly even if the URL names a primary.
    `pool_size`/`max_overflow`: the PostgreSQL pool (the app passes its config's values).
    `prepare_threshold`: after how many runs psycopg prepares a statement on the server
    (its default, 5); None never prepares, which PgBouncer in transaction mode needs.
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            # Take transaction control away from pysqlite so "begin" below decides.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            if read_only:
                cur.execute("PRAGMA query_only=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Read-then-write transactions must hold the write lock from the start, or two
            # of them deadlock on upgrade. Read-only requests opt out (see get_session), so
            # a page being rendered never blocks writers.
            immediate = conn.get_execution_options().get("sqlite_immediate", True)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    # No pre-ping (a SELECT 1 round trip on every checkout): connections are recycled after
    # POOL_RECYCLE seconds, and one the server has closed meanwhile (a restart, an idle
    # timeout, pg_terminate_backend) is noticed at checkout without a round trip and
    # replaced (`_closed_by_server`).
    kwargs["connect_args"] = {**kwargs.get("connect_args", {}),
                              "prepare_threshold": prepare_threshold}
    engine = create_engine(url, pool_recycle=POOL_RECYCLE, pool_size=pool_size,
                           max_overflow=max_overflow, hide_parameters=True, **kwargs)

    if read_only:
        @event.listens_for(engine, "connect")
        def _read_only(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.read_only = True  # psycopg then begins with BEGIN READ ONLY

    if prepare_threshold is not None:
        @event.listens_for(engine, "connect")
        def _custom_plans(dbapi_conn: Any, _record: Any) -> None:
            # Prepared statements keep their parse, not their plan: after five runs
            # PostgreSQL may switch a prepared statement to a generic plan, and for the hot
            # reads (`community_id = $1 AND account_id = ANY($2) AND local_date >= $3`) a
            # generic plan picks the per-community unique keys and reads far more: measured
            # (bench/ingest.py, 2,000 households) 1.2 vs 0.35 ms of database CPU per batched
            # drop, 4.2 vs 1.6 ms per single one. Without prepares (PgBouncer in
            # transaction mode) every plan is a custom plan anyway.
            with dbapi_conn.cursor() as cur:
                cur.execute("SET plan_cache_mode = force_custom_plan")
            dbapi_conn.commit()

    @event.listens_for(engine, "checkout")
    def _replace_dead(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        if _closed_by_server(dbapi_conn):
            # The pool discards this connection and checks out another (a retry).
            raise DisconnectionError("the server closed this pooled connection")

    return engine


POOL_RECYCLE = 1800  # seconds a pooled PostgreSQL connection is reused at most


def _closed_by_server(dbapi_conn: Any) -> bool:
    """Whether an idle pooled connection was closed by the server, without a round trip.

    An idle connection receives nothing unless the server is ending it (a FATAL message
    such as "terminating connection due to administrator command", then end of file), so
    a socket that is readable at checkout, or already broken, is dead.
    """
    if getattr(dbapi_conn, "closed", False) or getattr(dbapi_conn, "broken", False):
        return True
    try:
        fd = dbapi_conn.fileno()
    except Exception:  # noqa: BLE001 - a connection whose socket is gone is dead
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def _engine_options(app: Flask) -> dict[str, Any]:
    config = app.config
    threshold = str(config.get("DATABASE_PREPARE_THRESHOLD", PREPARE_THRESHOLD))
    return {"pool_size": int(config.get("DATABASE_POOL_SIZE", POOL_SIZE)),
            "max_overflow": int(config.get("DATABASE_MAX_OVERFLOW", MAX_OVERFLOW)),
            "prepare_threshold": None if threshold.lower() in ("none", "off", "")
            else int(threshold)}


def get_engine(app: Flask | None = None, *, replica: bool = False) -> Engine:
    """Return the app's engine (or, with `replica` and a DATABASE_REPLICA_URL, its read-only
    replica engine), creating it on first use."""
    app = app or current_app
    if replica and has_replica(app):
        engine = app.extensions.get("community.replica_engine")
        if engine is None:
            engine = make_engine(app.config["DATABASE_REPLICA_URL"], read_only=True,
                                 **_engine_options(app))
            app.extensions["community.replica_engine"] = engine
        return engine
    engine = app.extensions.get("community.engine")
    if engine is None:
        engine = make_engine(app.config["DATABASE_URL"], **_engine_options(app))
        app.extensions["community.engine"] = engine
    return engine


def has_replica(app: Flask | None = None) -> bool:
    """Whether a replica is configured (DATABASE_REPLICA_URL)."""
    return bool((app or current_app).config.get("DATABASE_REPLICA_URL"))


def _refuse_writes(session: Session, _context: Any, _instances: Any) -> None:
    raise ReadOnlySessionError("a replica session cannot write; writes go to the primary")


def open_session(app: Flask | None = None, *, read_only: bool = False,
                 replica: bool = False) -> Session:
    """A new session on the app's database (the caller closes it and decides on commits).

    `read_only` asks SQLite for a deferred BEGIN, so a long read never holds the write lock.
    `replica` opens it on the replica when one is configured (else on the primary): a
    session that refuses to flush, on an engine whose transactions are read-only.
    The test suite may bind the app to one connection held inside an outer transaction
    (`app.extensions["community.bind"]`); sessions then work in SAVEPOINTs on it, and their
    commits release a savepoint instead of committing, so every test is rolled back.
    """
    app = app or current_app
    on_replica = replica and has_replica(app)
    bind: Connection | None = app.extensions.get("community.bind")
    if bind is not None:
        session = Session(bind=bind, expire_on_commit=False,
                          join_transaction_mode="create_savepoint")
    else:
        engine = get_engine(app, replica=on_replica)
        if read_only or on_replica:
            engine = engine.execution_options(sqlite_immediate=False)  # ignored off SQLite
        session = Session(engine, expire_on_commit=False)
    if on_replica:
        session.info["replica"] = True
        event.listen(session, "before_flush", _refuse_writes)
    return session


def reads_replica() -> bool:
    """Whether this request reads its page from the replica (an allow-listed GET page and a
    configured replica)."""
    return (request.method in ("GET", "HEAD") and request.endpoint in REPLICA_PAGES
            and has_replica())


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
WRITES_FLAG = "community_writes"  # set on a view function by `writes`


class UndeclaredWrite(RuntimeError):
    """A GET view wrote without being declared with `writes` (a bug; raised under TESTING)."""


def writes(view: F) -> F:
    """Declare that a GET view writes (e.g. an audited download's audit entry).

    A GET's transaction is otherwise a deferred read on SQLite (`BEGIN`), and SQLite cannot
    upgrade a read to a write once another connection has committed since the read began:
    the write fails at once with "database is locked", whatever the busy timeout. A declared
    view's request begins with `BEGIN IMMEDIATE` instead, so it waits for the write lock at
    its first statement (up to the busy timeout) and then reads and writes in one
    transaction, committed at the one commit point. No effect on PostgreSQL. Put it below the
    route decorator (functools.wraps-based decorators such as login_required keep the flag).
    A view that does slow work between its reads and its write (rendering a PDF) uses
    `end_reads(then_write=True)` instead, so the write lock is not held meanwhile.
    """
    setattr(view, WRITES_FLAG, True)
    return view


def view_writes() -> bool:
    """Whether this request's view is declared with `writes`."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, WRITES_FLAG, False))


def _flag_write(session: Session) -> None:
    message = (f"the GET view {session.info['read_only_request']} writes without @writes: on "
               "SQLite its read transaction may fail to become a write (database is locked)")
    if current_app.testing:
        raise UndeclaredWrite(message)
    current_app.logger.warning(message)


def _guard_flush(session: Session, _context: Any, _instances: Any) -> None:
    if "read_only_request" in session.info and (
            session.new or session.deleted or any(session.is_modified(o) for o in session.dirty)):
        _flag_write(session)


def _guard_statement(state: ORMExecuteState) -> None:
    if "read_only_request" in state.session.info and (
            state.is_insert or state.is_update or state.is_delete):
        _flag_write(state.session)  # type: ignore[arg-type]  # our sessions are SQLModel's


def get_session() -> Session:
    """Return this request's session, creating it lazily: the replica's on the pages of
    `REPLICA_PAGES` when a replica is configured, else the primary's."""
    if reads_replica():
        if "db_replica" not in g:
            g.db_replica = open_session(replica=True)
        return g.db_replica
    return primary_session()


def primary_session() -> Session:
    """This request's session on the primary (who is logged in, their grants, any write)."""
    if "db_session" not in g:
        read_only = request.method in SAFE_METHODS and not view_writes()
        session = g.db_session = open_session(read_only=read_only)
        if read_only:
            # A write here would be a write on a deferred read transaction: flag it (see
            # `writes`), on both backends, so the test suite finds an undeclared one.
            session.info["read_only_request"] = request.endpoint
            event.listen(session, "before_flush", _guard_flush)
            event.listen(session, "do_orm_execute", _guard_statement)
    return g.db_session


def end_reads(*, then_write: bool = False) -> None:
    """End this request's transaction before slow work that needs no database (parsing an
    uploaded file, rendering a PDF), so it holds no lock meanwhile: on SQLite a POST's
    transaction holds the write lock from its first read (the login check), and every scan
    waits behind it.

    Call it from the view before any service has written: the transaction is rolled back
    (nothing of it is lost) and loaded objects reload on their next use, in a new one.
    `then_write`: a GET view that writes after the slow work (an audit entry once the file is
    made): its next transaction is a write transaction (BEGIN IMMEDIATE on SQLite), so the
    view needs no `writes` declaration and holds the write lock only for what follows.
    """
    session: Session | None = g.get("db_session")
    if session is not None and session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("end_reads() after a write: the write would be lost")
        session.rollback()
    if then_write:
        session = primary_session()
        session.info.pop("read_only_request", None)  # the guard lets its writes through
        if isinstance(session.bind, Engine):
            session.bind = session.bind.execution_options(sqlite_immediate=True)


def recover_for_error_page() -> None:
    """Make this request's sessions usable for its error page, after a database error or a
    crash (the error handlers call it; nothing of the request is kept either way).

    A flush that failed (a lock wait that ran out, a lost connection) leaves the session
    refusing all work until it is rolled back, its objects expired: the error page, which
    reads the user's language, then failed again (PendingRollbackError, a 500 instead of the
    error's own answer). And a request that timed out waiting for SQLite's write lock would
    wait for it again just to render its page. So: roll back, and let what remains of the
    request only read, in a deferred transaction on SQLite (no write lock to wait for).
    """
    for name in ("db_session", "db_replica"):
        session: Session | None = g.get(name)
        if session is None:
            continue
        session.rollback()
        if isinstance(session.bind, Engine):
            session.bind = session.bind.execution_options(sqlite_immediate=False)


def keep_on_error() -> None:
    """Commit this request's work even though its response is an error (4xx), e.g. a
    refused login that must still count the attempt. Call it from the view."""
    g.db_keep_on_error = True


def commit_request(response: Response) -> Response:
    """The one commit point: after the view returned, BEFORE the response is sent.

    A success or redirect commits the request's session; an error response (4xx, 5xx, a
    refused form) rolls it back unless the view called `keep_on_error()`. A failed commit
    raises, so the client gets an error page or JSON error, never a false success.
    Streamed responses read in a session of their own (`web.downloads`). A replica
    session's read transaction just ends (it never has anything to commit).
    """
    replica: Session | None = g.get("db_replica")
    if replica is not None:
        if replica.new or replica.dirty or replica.deleted:
            raise ReadOnlySessionError("a replica session holds changes; writes go to the primary")
        replica.rollback()
    session: Session | None = g.get("db_session")
    if session is None:
        return response
    if response.status_code >= 400 and not g.get("db_keep_on_error"):
        session.rollback()
        return response
    session.commit()
    for callback in g.pop("db_after_commit", []):
        callback()
    return response


def commit_unit() -> None:
    """Commit this request's work so far, as the commit point would, and go on in a new
    transaction: for a view whose request holds independent units that must not share a
    transaction (the drop batch: one per community, README "Sharding"). A later error
    rolls back only what came after."""
    session: Session | None = g.get("db_session")
    if session is not None:
        session.commit()


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once this request's work is committed (e.g. delete files the saved
    rows no longer name); never if it is rolled back. Call it from the view."""
    g.setdefault("db_after_commit", []).append(callback)


def close_session(_exc: BaseException | None = None) -> None:
    """Teardown: close (and so roll back anything uncommitted) the request's session."""
    for name in ("db_replica", "db_session"):
        session = g.pop(name, None)
        if session is not None:
            session.close()


def head_revision() -> str | None:
    """The newest Alembic revision in `migrations/`."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(cfg).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database (a read: no write lock)."""
    with engine.execution_options(sqlite_immediate=False).connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:  # noqa: BLE001 - no table means "not migrated"
            return None


def check_schema(app: Flask) -> None:
    """Raise SchemaBehind once per process if the database is not at the code's revision."""
    if not app.config.get("SCHEMA_CHECK") or app.extensions.get("community.schema_ok"):
        return
    head = head_revision()
    current = current_revision(get_engine(app))
    if current != head:
        raise SchemaBehind(current=current, head=head)
    app.extensions["community.schema_ok"] = True


def init_app(app: Flask) -> None:
    """Register the commit point, the session teardown and the lazy schema check."""
    app.after_request(commit_request)
    app.teardown_appcontext(close_session)

    @app.before_request
    def _schema_guard() -> None:
        check_schema(app)
