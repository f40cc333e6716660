"""The migration that splits a drop's client id (uuid or text) and stores its codes as
SMALLINT: stored drops keep their ids and codes through the upgrade and back through the
downgrade, on both backends (PostgreSQL: the partitioned table)."""
from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from community.cli import upgrade_database
from community.db import make_engine
from tests.migrations import empty_url, revisions

__all__ = ["empty_url"]  # the fixture, used by name

AT = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
LOWER = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
# (id, client id, category, quality, source) as stored before.
DROPS = [(1, LOWER, "kitchen", "correct", "scan"),
         (2, LOWER.upper(), "recyclable", "incorrect", "manual"),
         (3, "kiosk-00000001", "hazardous", "ungraded", "device"),
         (4, "0123456789abcdef0123456789abcdef", "other", "correct", "tally")]


def _downgrade(url: str, revision: str) -> None:
    from alembic import command

    from community.cli import alembic_config

    command.downgrade(alembic_config(url), revision)


def test_ids_and_codes_survive_the_upgrade_and_the_downgrade(empty_url: str) -> None:
    revision, before = revisions("drop_client_uuid_and_codes")
    upgrade_database(empty_url, before)
    engine = make_engine(empty_url)
    sqlite = empty_url.startswith("sqlite")
    at = AT.replace(tzinfo=None) if sqlite else AT
    try:
        with engine.begin() as conn:
            for sql in (
                    "INSERT INTO area (id, level, name, path, timezone, created_at) VALUES "
                    "(1, 'community', 'A', '/1/', 'Asia/Shanghai', :at)",
                    "INSERT INTO station (id, community_id, name, location, categories, "
                    "status, grace_minutes, created_at) VALUES (1, 1, 'S', '', 'kitchen', "
                    "'open', 0, :at)"):
                conn.execute(text(sql), {"at": at})
            for i, cid, cat, quality, source in DROPS:
                conn.execute(text(
                    "INSERT INTO drop_record (id, client_id, station_id, community_id, "
                    "category, quality, source, happened_at, received_at, local_date, "
                    "in_window) VALUES (:i, :cid, 1, 1, :cat, :q, :s, :at, :at, "
                    "'2026-11-20', true)"),
                    {"i": i, "cid": cid, "cat": cat, "q": quality, "s": source, "at": at})
        upgrade_database(empty_url, revision)
        with engine.connect() as conn:
            got = conn.execute(text(
                "SELECT id, client_uuid, client_text, category, quality, source "
                "FROM drop_record ORDER BY id")).all()
        lower = UUID(LOWER).hex if sqlite else UUID(LOWER)
        assert [tuple(r) for r in got] == [
            (1, lower, None, 1, 1, 1),
            (2, None, LOWER.upper(), 2, 2, 2),
            (3, None, "kiosk-00000001", 3, 3, 3),
            (4, None, "0123456789abcdef0123456789abcdef", 4, 1, 4)]
        # The new keys: the same uuid (or text) again in the community and day is refused.
        for column, value in (("client_uuid", lower), ("client_text", "kiosk-00000001")):
            with pytest.raises(IntegrityError), engine.begin() as conn:
                conn.execute(text(
                    f"INSERT INTO drop_record ({column}, station_id, community_id, "  # noqa: S608
                    "category, quality, source, happened_at, received_at, local_date, "
                    "in_window) VALUES (:v, 1, 1, 1, 1, 1, :at, :at, '2026-11-20', true)"),
                    {"v": value, "at": at})
        _downgrade(empty_url, before)
        with engine.connect() as conn:
            back = conn.execute(text(
                "SELECT id, client_id, category, quality, source FROM drop_record "
                "ORDER BY id")).all()
        assert [tuple(r) for r in back] == DROPS
    finally:
        engine.dispose()
