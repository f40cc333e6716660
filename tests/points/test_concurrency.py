"""PostgreSQL only: 32 concurrent awards of the same drop credit it exactly once."""
from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlmodel import Session, col

from community.db import get_engine
from community.points import services
from community.points.models import LedgerEntry
from community.points.rules import DropFacts
from tests import builders

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
THREADS = 32

pytestmark = pytest.mark.postgres_only


@pytest.fixture(autouse=True)
def _postgres_only(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrency is tested on PostgreSQL (SQLite serializes writers)")


def test_same_drop_awarded_by_32_threads_is_credited_once(app: Flask, session: Session,
                                                          world: builders.World) -> None:
    st = builders.station(session, world.a)
    hh = world.households_a[0]
    d = builders.drop(session, st, hh, happened_at=NOW, quality="correct")
    other = builders.drop(session, st, hh, happened_at=NOW, quality="correct",
                          category="hazardous")
    session.commit()
    facts = [DropFacts(x.id, hh.id, x.category, x.quality, True, x.local_date)
             for x in (d, other)]
    engine = get_engine(app)
    barrier = threading.Barrier(THREADS)
    errors: list[str] = []
    got: list[dict[int, int]] = []

    def worker(i: int) -> None:
        with Session(engine) as s:
            barrier.wait()
            try:
                got.append(services.award_for_drops(s, facts if i % 2 else facts[::-1],
                                                     community_id=world.a.id, now=NOW))
                s.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    session.expire_all()
    earns = session.execute(select(func.count()).select_from(LedgerEntry).where(
        col(LedgerEntry.kind) == "earn")).scalar_one()
    assert earns == 2
    assert services.balance(session, hh.id) == 5
    assert services.verify(session) == []
    # Exactly one thread credited each drop; the others saw it already scored.
    assert sorted(g[d.id] for g in got).count(2) == 1
    assert sorted(g[other.id] for g in got).count(3) == 1
