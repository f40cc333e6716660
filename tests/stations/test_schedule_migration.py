"""The migration that starts the stations' history: each existing station gets its first
schedule version (its windows and grace) from its local creation day, an opening at the local
start of that day, and a suspension from the migration's moment when it is suspended now."""
from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import text

from community.cli import upgrade_database
from community.db import make_engine
from tests.migrations import empty_url, revisions

__all__ = ["empty_url"]  # the fixture, used by name

def test_existing_stations_get_their_first_version_and_opening(empty_url: str) -> None:
    revision, before = revisions("station_schedule_versions_and_status_")
    upgrade_database(empty_url, before)
    engine = make_engine(empty_url)
    sqlite = empty_url.startswith("sqlite")

    def moment(value: datetime):  # as the app stores it (community.types.UTCDateTime)
        return value.astimezone(UTC).replace(tzinfo=None) if sqlite else value

    # 2026-10-14 17:30 UTC is 10-15 01:30 in Shanghai: the creation day is the 15th there.
    created = datetime(2026, 10, 14, 17, 30, tzinfo=UTC)
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO area (id, level, name, path, timezone, link_mode, created_at) "
                "VALUES (1, 'community', 'A', '/1/', 'Asia/Shanghai', 'code', :at)"),
                {"at": moment(created)})
            for sid, status, grace in ((1, "open", 10), (2, "suspended", 0)):
                conn.execute(text(
                    "INSERT INTO station (id, community_id, name, location, categories, "
                    "status, grace_minutes, created_at) VALUES (:id, 1, :name, '', 'kitchen', "
                    ":status, :grace, :at)"),
                    {"id": sid, "name": f"S{sid}", "status": status, "grace": grace,
                     "at": moment(created)})
            conn.execute(text(
                "INSERT INTO station_window (station_id, weekday, start_time, end_time) VALUES "
                "(1, 0, '07:00:00', '09:00:00'), (1, 6, '22:00:00', '01:00:00')"))
        upgrade_database(empty_url, revision)
        with engine.connect() as conn:
            versions = conn.execute(text(
                "SELECT station_id, effective_from, grace_minutes FROM schedule_version "
                "ORDER BY station_id")).all()
            ranges = conn.execute(text(
                "SELECT v.station_id, r.weekday, r.start_time, r.end_time FROM schedule_range r "
                "JOIN schedule_version v ON v.id = r.version_id ORDER BY r.weekday")).all()
            events = conn.execute(text(
                "SELECT station_id, status, effective_at FROM station_status_event "
                "ORDER BY station_id, effective_at")).all()
    finally:
        engine.dispose()

    def day(value) -> date:
        return value if isinstance(value, date) else date.fromisoformat(str(value))

    def clock_time(value) -> time:
        return value if isinstance(value, time) else time.fromisoformat(str(value))

    def aware(value) -> datetime:
        value = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    assert [(s, day(d), g) for s, d, g in versions] == [(1, date(2026, 10, 15), 10),
                                                        (2, date(2026, 10, 15), 0)]
    assert [(s, w, clock_time(a), clock_time(b)) for s, w, a, b in ranges] == [
        (1, 0, time(7), time(9)), (1, 6, time(22), time(1))]
    local_midnight = datetime(2026, 10, 14, 16, 0, tzinfo=UTC)  # 10-15 00:00 in Shanghai
    assert [(s, st) for s, st, _at in events] == [(1, "open"), (2, "open"), (2, "suspended")]
    assert aware(events[0][2]) == local_midnight
    assert aware(events[1][2]) == local_midnight
    assert aware(events[2][2]) > local_midnight
