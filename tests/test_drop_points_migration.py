"""The migration that puts a drop's own earn on its row (a3c7e2d15b90): each drop's live
earn entry becomes its `points` and leaves the ledger, an earn already reversed stays with
its reversal, strike entries go, balances still verify; the downgrade rebuilds the earn
entries (their reversals pointing at them again) and the scored facts."""
from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from community.cli import alembic_config, upgrade_database
from community.db import make_engine
from tests.migrations import empty_url, revisions

__all__ = ["empty_url"]  # the fixture, used by name

AT = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
DAY = "2026-11-20"


def _ledger(conn) -> list[tuple]:
    return [tuple(r) for r in conn.execute(text(
        "SELECT kind, amount, source, drop_id FROM ledger_entry ORDER BY kind, source"))]


def test_live_earns_move_to_their_drops_and_back(empty_url: str) -> None:
    revision, before = revisions("drop_row_points")
    upgrade_database(empty_url, before)
    engine = make_engine(empty_url)
    at = AT.replace(tzinfo=None) if empty_url.startswith("sqlite") else AT
    # Drop 1: correct, earned 2 (live). Drop 2: correct, earned 2, then regraded incorrect
    # (its earn reversed, a strike). Drop 3: incorrect (a strike). Drop 4: a correction
    # entry another drop made for it ("drop:1/e4") stays a ledger entry.
    rows = [
        "INSERT INTO area (id, level, name, path, timezone, created_at) VALUES "
        "(1, 'community', 'A', '/1/', 'Asia/Shanghai', :at)",
        "INSERT INTO household (id, community_id, building, unit, room, members, status, "
        "created_at, updated_at) VALUES (1, 1, '1', '1', '101', 1, 'active', :at, :at)",
        "INSERT INTO points_account (id, community_id, owner_type, household_id, balance) "
        "VALUES (1, 1, 'household', 1, 3)",
        "INSERT INTO station (id, community_id, name, location, categories, status, "
        "grace_minutes, created_at) VALUES (1, 1, 'S', '', 'kitchen', 'open', 0, :at)",
        "INSERT INTO drop_record (id, client_text, station_id, community_id, category, "
        "quality, source, household_id, happened_at, received_at, local_date, in_window) "
        "VALUES (1, 'c-0001', 1, 1, 1, 1, 1, 1, :at, :at, :day, true), "
        "(2, 'c-0002', 1, 1, 1, 2, 1, 1, :at, :at, :day, true), "
        "(3, 'c-0003', 1, 1, 1, 2, 1, 1, :at, :at, :day, true), "
        "(4, 'c-0004', 1, 1, 4, 1, 1, 1, :at, :at, :day, true)",
        "INSERT INTO points_scored_drop (community_id, drop_id, account_id, local_date, "
        "happened_at, category, quality, in_window) VALUES "
        "(1, 1, 1, :day, :at, 'kitchen', 'correct', true), "
        "(1, 2, 1, :day, :at, 'kitchen', 'incorrect', true), "
        "(1, 3, 1, :day, :at, 'kitchen', 'incorrect', true), "
        "(1, 4, 1, :day, :at, 'other', 'correct', true)",
        "INSERT INTO ledger_entry (id, community_id, account_id, amount, kind, source, reason, "
        "at, local_date, reverses_id, drop_id) VALUES "
        "(1, 1, 1, 2, 'earn', 'drop:1', 'category:kitchen', :at, :day, NULL, 1), "
        "(2, 1, 1, 2, 'earn', 'drop:2', 'category:kitchen', :at, :day, NULL, 2), "
        "(3, 1, 1, -2, 'reversal', 'reversal:2', 'regrade:1', :at, :day, 2, 2), "
        "(4, 1, 1, 0, 'strike', 'regrade:1', 'drop:incorrect', :at, :day, NULL, 2), "
        "(5, 1, 1, 0, 'strike', 'drop:3', 'drop:incorrect', :at, :day, NULL, 3), "
        "(6, 1, 1, 1, 'earn', 'drop:1/e4', 'category:other', :at, :day, NULL, 4), "
        "(7, 1, 1, 0, 'strike', 'drop:4', 'drop:incorrect', :at, :day, NULL, 4), "
        "(8, 1, 1, 0, 'reversal', 'reversal:7', 'regrade:2', :at, :day, 7, 4)",
    ]
    try:
        with engine.begin() as conn:
            for sql in rows:
                conn.execute(text(sql), {"at": at, "day": DAY})
        upgrade_database(empty_url, revision)
        with engine.connect() as conn:
            points = dict(conn.execute(text("SELECT id, points FROM drop_record")).all())
            assert points == {1: 2, 2: 0, 3: 0, 4: 0}
            assert _ledger(conn) == [("earn", 1, "drop:1/e4", 4), ("earn", 2, "drop:2", 2),
                                     ("reversal", -2, "reversal:2", 2)]
            # The balance (3) is still the sum of the drops' points and the entries.
            total = conn.execute(text(
                "SELECT (SELECT sum(points) FROM drop_record) + "
                "(SELECT sum(amount) FROM ledger_entry)")).scalar_one()
            assert total == 3
            assert "points_scored_drop" not in {t for (t,) in conn.execute(text(
                "SELECT tablename FROM pg_tables" if not empty_url.startswith("sqlite")
                else "SELECT name FROM sqlite_master WHERE type = 'table'"))}
        # A drop-row reversal made after the upgrade points at the rebuilt earn entry again.
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO ledger_entry (id, community_id, account_id, amount, kind, source, "
                "reason, at, local_date, reverses_id, drop_id) VALUES (9, 1, 1, -2, "
                "'reversal', 'reversal:d1', 'void:1', :at, :day, NULL, 1)"),
                {"at": at, "day": DAY})
        command.downgrade(alembic_config(empty_url), before)
        with engine.connect() as conn:
            earn = conn.execute(text("SELECT id FROM ledger_entry WHERE source = 'drop:1' "
                                     "AND kind = 'earn'")).scalar_one()
            undo = conn.execute(text("SELECT reverses_id, source FROM ledger_entry "
                                     "WHERE id = 9")).one()
            assert tuple(undo) == (earn, f"reversal:{earn}")
            scored = conn.execute(text(
                "SELECT drop_id, category, quality FROM points_scored_drop ORDER BY drop_id"))
            assert [tuple(r) for r in scored] == [
                (1, "kitchen", "correct"), (2, "kitchen", "incorrect"),
                (3, "kitchen", "incorrect"), (4, "other", "correct")]
    finally:
        engine.dispose()
