"""Monthly partitions of drops and ledger entries (issue 16, part 3), on both backends.

On PostgreSQL the scheduler's job makes last month to three months ahead; a drop on the last
day of a month and one on the first day of the next land in their own month's partition,
with their ledger entries; a late upload into last month lands in last month's; a row of a
month nobody made waits in the DEFAULT partition and moves into its month when the month is
made; running the job again changes nothing. On SQLite the tables stay plain and the job
does nothing, while the same uploads are stored and scored alike. The months here (2031)
lie far from the ones the migration made, so the job makes them.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session, col

from community import partitions
from community.auth import services as auth_services
from community.points.models import LedgerEntry
from community.scheduler.registry import JOBS
from community.scheduler.runner import make_period
from community.stations import services
from community.stations.models import Drop, client_id_matches
from community.stations.schemas import DropIn, RegradeIn
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2031, 2, 1, 8, 30, tzinfo=SH)  # inside 07:00–09:00 on the 1st of a month


def _pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _where(session: Session, table: str, row_id: int) -> str | None:
    return partitions.partition_of(session, table, row_id)


def test_the_job_makes_last_month_to_three_ahead_once(session: Session) -> None:
    made = partitions.ensure_ahead(session, NOW.date())
    again = partitions.ensure_ahead(session, NOW.date())
    if not _pg(session):
        assert (made, again) == (partitions.Ensured(), partitions.Ensured())
        return
    assert made == partitions.Ensured(created=2 * 5, moved=0)
    assert again == partitions.Ensured()
    for table in partitions.TABLES:
        have = partitions.existing(session, table)
        assert {f"{table}_{m}" for m in ("203101", "203102", "203103", "203104", "203105")} <= have
        assert f"{table}_203106" not in have
        assert f"{table}_default" in have


def test_the_scheduler_job_makes_them_and_counts(session: Session) -> None:
    job = JOBS["maintenance.partitions"]
    assert job.cadence.describe() == "each day at 04:30"
    period = make_period(job, datetime(2032, 7, 1), SH)  # noqa: DTZ001 - a naive local start
    first, second = job.fn(session, period), job.fn(session, period)
    assert first == {"created": 10 if _pg(session) else 0, "moved": 0}
    assert second == {"created": 0, "moved": 0}


def test_month_boundary_and_a_late_upload_land_in_their_months(
        session: Session, world: builders.World) -> None:
    partitions.ensure_ahead(session, NOW.date())
    st = builders.station(session, world.a)
    builders.on_duty(session, world.steward_a, st, NOW - timedelta(days=40), NOW)
    card = builders.active_card(session, world.households_a[0])
    steward = auth_services.load_actor(session, world.steward_a.id)
    times = {"late": datetime(2031, 1, 10, 7, 30, tzinfo=SH),   # 22 days late: last month
             "last": datetime(2031, 1, 31, 8, 50, tzinfo=SH),   # the last day of January
             "first": datetime(2031, 2, 1, 7, 5, tzinfo=SH)}    # the first of February
    items = [DropIn.model_validate({"client_id": f"part-{name}-0001", "station_id": st.id,
                                    "category": "kitchen", "quality": "correct",
                                    "happened_at": at, "card": card.token}, strict=False)
             for name, at in times.items()]
    out = services.record_drops(session, actor=steward, items=items, now=NOW)
    session.flush()
    ids = dict(zip(times, (o.id for o in out), strict=True))
    assert all(not getattr(o, "replay", True) for o in out)
    drops = {d.id: d for d in session.execute(
        select(Drop).where(col(Drop.id).in_(list(ids.values())))).scalars()}
    assert {n: drops[i].local_date for n, i in ids.items()} == {
        "late": date(2031, 1, 10), "last": date(2031, 1, 31), "first": date(2031, 2, 1)}
    # Each drop earned, whatever its partition: its own earn is its row's points.
    assert {i: drops[i].points for i in ids.values()} == dict.fromkeys(ids.values(), 2)
    # Their regrades (a correction of each drop's earn, dated on the drop's day) land in
    # the ledger's partition of the drop's month, last month's for the late one.
    manager = auth_services.load_actor(session, world.manager_a.id)
    for drop_id in ids.values():
        services.regrade_drop(session, actor=manager, drop_id=drop_id,
                              data=RegradeIn.parse(quality="incorrect",
                                                   reason_code=builders.MISDROP, reason="复核"))
    session.flush()
    undone = dict(session.execute(select(col(LedgerEntry.drop_id), col(LedgerEntry.id)).where(
        col(LedgerEntry.drop_id).in_(list(ids.values())),
        col(LedgerEntry.kind) == "reversal")).all())
    month = {"late": "203101", "last": "203101", "first": "203102"}
    for name, drop_id in ids.items():
        want = f"_{month[name]}" if _pg(session) else ""
        assert _where(session, "drop_record", drop_id) == f"drop_record{want}"
        assert _where(session, "ledger_entry", undone[drop_id]) == f"ledger_entry{want}"
    # A replay of the late drop is found in last month's partition and stored once.
    again = services.record_drops(session, actor=steward, items=items[:1], now=NOW)
    assert getattr(again[0], "replay", False)
    assert again[0].id == ids["late"]
    assert session.execute(select(Drop.id).where(
        client_id_matches(["part-late-0001"]))).scalars().all() == [ids["late"]]


def test_a_month_nobody_made_waits_in_default_then_moves(
        session: Session, world: builders.World) -> None:
    st = builders.station(session, world.a)
    at = datetime(2034, 6, 15, 8, 0, tzinfo=SH)  # far beyond every partition made
    drop = builders.drop(session, st, world.households_a[0], happened_at=at)
    if not _pg(session):
        assert _where(session, "drop_record", drop.id) == "drop_record"
        assert partitions.ensure_months(session, at.date(), at.date()) == partitions.Ensured()
        return
    assert _where(session, "drop_record", drop.id) == "drop_record_default"
    made = partitions.ensure_months(session, at.date(), at.date())
    assert made == partitions.Ensured(created=2, moved=1)
    assert _where(session, "drop_record", drop.id) == "drop_record_203406"
    assert session.get(Drop, drop.id, populate_existing=True) is not None
