"""Dirty-day marks: counts add up per cause, claims take exactly what they name, and a claim
waits for a writer still holding a mark (PostgreSQL, real threads)."""
from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select
from sqlmodel import Session

from community.db import get_engine
from community.dirty import services as dirty
from community.dirty.models import DirtyDay
from tests import builders

D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 21)


def test_marks_add_up_per_cause_and_claims_take_only_their_keys(
        session: Session, world: builders.World) -> None:
    a, b = world.a.id, world.b.id
    dirty.mark(session, "drops", {(a, D1): 3, (b, D1): 1, (a, D3): 2})
    dirty.mark(session, "drops", {(a, D1): 2})
    dirty.mark(session, "regrades", {(a, D1): 1})
    dirty.mark(session, "presence", {(a, D2): 1})
    assert dirty.pending(session, before=D3, limit=10) == [(a, D1), (b, D1), (a, D2)]
    assert dirty.pending(session, before=D3, limit=1) == [(a, D1)]
    got = dirty.claim(session, [(a, D1), (a, D2)])
    assert [(c.community_id, c.local_date) for c in got] == [(a, D1), (a, D2)]
    assert got[0].counts == {"drops": 5, "regrades": 1, "households": 0, "presence": 0,
                             "schedule": 0, "collections": 0}
    left = session.execute(select(DirtyDay.community_id, DirtyDay.local_date)).all()
    assert sorted(left) == sorted([(b, D1), (a, D3)])
    assert dirty.claim(session, []) == []


@pytest.mark.real_db
def test_a_claim_waits_for_a_writer_holding_the_mark(app: Flask, db_url: str,
                                                      session: Session,
                                                      world: builders.World) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrency is tested on PostgreSQL (SQLite serializes writers)")
    a = world.a.id
    dirty.mark(session, "drops", {(a, D1): 1})
    session.commit()
    marked, claimed = threading.Event(), []
    with app.app_context():
        engine = get_engine()

    def writer() -> None:
        with Session(engine) as s:
            dirty.mark(s, "drops", {(a, D1): 1})  # holds the row until commit
            marked.set()
            time.sleep(0.5)
            s.commit()

    def claimer() -> None:
        marked.wait(5)
        with Session(engine) as s:
            claimed.extend(dirty.claim(s, [(a, D1)]))
            s.commit()

    threads = [threading.Thread(target=writer), threading.Thread(target=claimer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    # The claim saw the writer's count: a writer never commits behind a claim's back.
    assert [c.counts["drops"] for c in claimed] == [2]
    session.expire_all()
    assert session.execute(select(DirtyDay)).all() == []
