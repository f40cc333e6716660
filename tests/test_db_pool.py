"""The PostgreSQL pool: no pre-ping round trip, and a connection the server closed while it
sat in the pool is replaced at checkout (the request never sees it)."""
from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import text

from community.db import POOL_RECYCLE, make_engine

PG = os.environ.get("TEST_DATABASE_URL", "")

pytestmark = pytest.mark.skipif(not PG.startswith("postgresql"),
                                reason="the pool settings are PostgreSQL's")


def test_a_connection_killed_in_the_pool_is_replaced_without_a_ping() -> None:
    engine = make_engine(PG)
    other = make_engine(PG)
    try:
        assert engine.pool._pre_ping is False  # noqa: SLF001 - the setting under test
        assert engine.pool._recycle == POOL_RECYCLE  # noqa: SLF001
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with other.connect() as admin:
            assert admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
            for _ in range(50):  # the backend is gone when it no longer shows
                if not admin.execute(text("SELECT count(*) FROM pg_stat_activity "
                                          "WHERE pid = :p"), {"p": pid}).scalar():
                    break
                time.sleep(0.05)
        with engine.connect() as conn:  # the dead one is noticed and replaced
            again = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert again != pid
        assert engine.pool.checkedout() == 0
    finally:
        engine.dispose()
        other.dispose()


def test_a_live_pooled_connection_is_reused() -> None:
    engine = make_engine(PG)
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == pid
    finally:
        engine.dispose()


@pytest.mark.parametrize(("threshold", "mode"), [(5, "force_custom_plan"), (None, "auto")])
def test_prepared_statements_keep_custom_plans(threshold: int | None, mode: str) -> None:
    """A prepared statement must not slide into a generic plan (see make_engine); without
    prepares (PgBouncer in transaction mode) the server's default stays."""
    engine = make_engine(PG, prepare_threshold=threshold)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW plan_cache_mode")).scalar_one() == mode
    finally:
        engine.dispose()
