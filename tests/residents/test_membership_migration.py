"""The migration to household heads and join slips: existing approved members stay (the
earliest of each household becomes its head), every card link code is void, and every
community keeps taking requests for the manager's approval."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect, text

from community.cli import upgrade_database
from community.db import make_engine
from tests.migrations import empty_url, revisions

__all__ = ["empty_url"]  # the fixture, used by name

def test_members_get_a_head_and_link_codes_are_void(empty_url: str) -> None:
    revision, before = revisions("household_membership")
    upgrade_database(empty_url, before)
    engine = make_engine(empty_url)
    sqlite = empty_url.startswith("sqlite")

    def moment(value: datetime):  # as the app stores it (community.types.UTCDateTime)
        return value.astimezone(UTC).replace(tzinfo=None) if sqlite else value

    t0 = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO area (id, level, name, path, timezone, link_mode, created_at) "
                "VALUES (1, 'community', 'A', '/1/', 'Asia/Shanghai', 'code', :at), "
                "(2, 'community', 'B', '/2/', 'Asia/Shanghai', 'approval', :at)"),
                {"at": moment(t0)})
            for aid in range(1, 6):
                conn.execute(text(
                    "INSERT INTO account (id, phone, display_name, password_hash, active, "
                    "created_at) VALUES (:id, :phone, 'x', 'h', :yes, :at)"),
                    {"id": aid, "phone": f"1390000000{aid}", "yes": True, "at": moment(t0)})
            for hid, cid in ((1, 1), (2, 1), (3, 2)):
                conn.execute(text(
                    "INSERT INTO household (id, community_id, building, unit, room, members, "
                    "status, created_at, updated_at) VALUES (:id, :c, '1', '1', :room, 3, "
                    "'active', :at, :at)"), {"id": hid, "c": cid, "room": f"10{hid}",
                                              "at": moment(t0)})
                conn.execute(text(
                    "INSERT INTO card (household_id, token, short_code, link_code, "
                    "link_code_used_at, status, issued_at) VALUES (:id, :token, :short, "
                    "'ABCDEF', NULL, 'active', :at)"),
                    {"id": hid, "token": f"token{hid}", "short": f"SHORT00{hid}",
                     "at": moment(t0)})
            # Household 1: two approved members (account 2 joined first, though with the
            # higher id) and a pending one; household 2: only a pending request.
            rows = [(1, 1, 1, "approved", 2), (2, 1, 2, "approved", 1), (3, 1, 3, "pending", 0),
                    (4, 2, 4, "pending", 0), (5, 3, 5, "rejected", 0)]
            for mid, hid, aid, status, day in rows:
                conn.execute(text(
                    "INSERT INTO household_member (id, household_id, account_id, status, "
                    "created_at) VALUES (:id, :h, :a, :s, :at)"),
                    {"id": mid, "h": hid, "a": aid, "s": status,
                     "at": moment(t0 + timedelta(days=day))})
        upgrade_database(empty_url, revision)
        with engine.connect() as conn:
            members = conn.execute(text(
                "SELECT id, status, role, joined_via FROM household_member ORDER BY id")).all()
            areas = conn.execute(text("SELECT id, join_requests FROM area ORDER BY id")).all()
            card_columns = {c["name"] for c in inspect(conn).get_columns("card")}
            area_columns = {c["name"] for c in inspect(conn).get_columns("area")}
    finally:
        engine.dispose()

    assert [tuple(m) for m in members] == [
        (1, "approved", "member", "legacy"), (2, "approved", "head", "legacy"),
        (3, "pending", "member", None), (4, "pending", "member", None),
        (5, "rejected", "member", None)]
    assert [(a, bool(j)) for a, j in areas] == [(1, True), (2, True)]
    assert not {"link_code", "link_code_used_at"} & card_columns
    assert "link_mode" not in area_columns
