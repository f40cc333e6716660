"""The migration that puts `community_id` on every hot table: existing rows get the
community of the row they belong to, the column is NOT NULL, and the unique keys are per
community (the same client id or card code may exist in two communities, not twice in one)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from community.cli import upgrade_database
from community.db import make_engine
from tests.migrations import empty_url, revisions

__all__ = ["empty_url"]  # the fixture, used by name

AT = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
# (table, its rows' community after the migration), by the rows inserted below.
EXPECTED = {"card": [1, 2], "household_member": [2], "ledger_entry": [1, 2],
            "points_scored_drop": [1, 2], "drop_regrade": [2]}


def test_rows_get_their_community_and_keys_are_per_community(empty_url: str) -> None:
    revision, before = revisions("community_id_on_hot_tables")
    upgrade_database(empty_url, before)
    engine = make_engine(empty_url)
    at = AT.replace(tzinfo=None) if empty_url.startswith("sqlite") else AT
    rows = [
        "INSERT INTO area (id, level, name, path, timezone, created_at) VALUES "
        "(1, 'community', 'A', '/1/', 'Asia/Shanghai', :at), "
        "(2, 'community', 'B', '/2/', 'Asia/Shanghai', :at)",
        "INSERT INTO account (id, display_name, password_hash, active, created_at) VALUES "
        "(1, 'r', 'x', true, :at)",
        "INSERT INTO household (id, community_id, building, unit, room, members, status, "
        "created_at, updated_at) VALUES (1, 1, '1', '1', '101', 1, 'active', :at, :at), "
        "(2, 2, '1', '1', '101', 1, 'active', :at, :at)",
        "INSERT INTO card (id, household_id, token, short_code, status, issued_at) VALUES "
        "(1, 1, 'tok-a', 'AAAAAAAA', 'active', :at), (2, 2, 'tok-b', 'BBBBBBBB', 'active', :at)",
        "INSERT INTO household_member (id, household_id, account_id, status, created_at) "
        "VALUES (1, 2, 1, 'approved', :at)",
        "INSERT INTO points_account (id, community_id, owner_type, household_id, balance) "
        "VALUES (1, 1, 'household', 1, 2), (2, 2, 'household', 2, 2)",
        "INSERT INTO station (id, community_id, name, location, categories, status, "
        "grace_minutes, created_at) VALUES (1, 1, 'S', '', 'kitchen', 'open', 0, :at), "
        "(2, 2, 'S', '', 'kitchen', 'open', 0, :at)",
        "INSERT INTO drop_record (id, client_id, station_id, community_id, category, quality, "
        "source, household_id, happened_at, received_at, local_date, in_window) VALUES "
        "(1, 'c-1', 1, 1, 'kitchen', 'correct', 'scan', 1, :at, :at, '2026-11-20', true), "
        "(2, 'c-2', 2, 2, 'kitchen', 'incorrect', 'scan', 2, :at, :at, '2026-11-20', true)",
        "INSERT INTO drop_regrade (id, drop_id, from_quality, to_quality, at, reason) VALUES "
        "(1, 2, 'correct', 'incorrect', :at, '')",
        "INSERT INTO points_scored_drop (drop_id, account_id, local_date, happened_at, "
        "category, quality, in_window) VALUES (1, 1, '2026-11-20', :at, 'kitchen', 'correct', "
        "true), (2, 2, '2026-11-20', :at, 'kitchen', 'correct', true)",
        "INSERT INTO ledger_entry (id, account_id, amount, kind, source, reason, at, "
        "local_date) VALUES (1, 1, 2, 'earn', 'drop:1', '', :at, '2026-11-20'), "
        "(2, 2, 2, 'earn', 'drop:2', '', :at, '2026-11-20')",
    ]
    try:
        with engine.begin() as conn:
            for sql in rows:
                conn.execute(text(sql), {"at": at})
        upgrade_database(empty_url, revision)
        with engine.connect() as conn:
            got = {t: [c for (c,) in conn.execute(text(
                f"SELECT community_id FROM {t} ORDER BY community_id"))]  # noqa: S608
                for t in EXPECTED}
        assert got == EXPECTED
        # The same client id, card token and ledger source in the other community: stored.
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO drop_record (id, client_id, station_id, community_id, category, "
                "quality, source, happened_at, received_at, local_date, in_window) VALUES "
                "(3, 'c-1', 2, 2, 'kitchen', 'correct', 'tally', :at, :at, '2026-11-20', "
                "true)"), {"at": at})
            conn.execute(text(
                "INSERT INTO card (id, community_id, household_id, token, short_code, status, "
                "issued_at) VALUES (3, 2, 2, 'tok-a', 'AAAAAAAA', 'revoked', :at)"), {"at": at})
            conn.execute(text(
                "INSERT INTO ledger_entry (id, community_id, account_id, amount, kind, source, "
                "reason, at, local_date) VALUES (3, 2, 2, 1, 'earn', 'drop:1', '', :at, "
                "'2026-11-20')"), {"at": at})
        # Twice in one community, or without a community: refused.
        for sql in (
                "INSERT INTO drop_record (id, client_id, station_id, community_id, category, "
                "quality, source, happened_at, received_at, local_date, in_window) VALUES "
                "(4, 'c-1', 1, 1, 'kitchen', 'correct', 'tally', :at, :at, '2026-11-20', true)",
                "INSERT INTO card (id, community_id, household_id, token, short_code, status, "
                "issued_at) VALUES (4, 1, 1, 'tok-new', 'AAAAAAAA', 'active', :at)",
                "INSERT INTO drop_regrade (id, drop_id, from_quality, to_quality, at, reason) "
                "VALUES (2, 1, 'correct', 'incorrect', :at, '')"):
            with pytest.raises(IntegrityError), engine.begin() as conn:
                conn.execute(text(sql), {"at": at})
    finally:
        engine.dispose()
