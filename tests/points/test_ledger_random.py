"""Randomized walk through the real services (earn, regrade, adjust): after every step each
balance equals the sum of its entries and is never negative. The seed is printed; rerun one
with POINTS_SEED=<seed>."""
from __future__ import annotations

import os
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import func, select
from sqlmodel import Session, col

from community.auth import services as auth_services
from community.errors import DomainError
from community.points import services
from community.points.models import LedgerEntry, PointsAccount
from community.points.rules import DropFacts
from community.stations import services as stations_services
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 8, 30, tzinfo=SH)
STEPS = int(os.environ.get("POINTS_STEPS", "120"))


def _check(session: Session) -> None:
    session.expire_all()
    assert services.verify(session) == []
    negative = session.execute(select(func.count()).select_from(PointsAccount).where(
        col(PointsAccount.balance) < 0)).scalar_one()
    assert negative == 0
    # No entry reversed twice, and reversals point at real entries.
    reversed_ids = session.execute(select(LedgerEntry.reverses_id).where(
        col(LedgerEntry.reverses_id).is_not(None))).scalars().all()
    assert len(reversed_ids) == len(set(reversed_ids))


def test_random_walk_keeps_the_ledger_consistent(app: Flask, session: Session,
                                                 world: builders.World) -> None:
    seed = int(os.environ.get("POINTS_SEED", random.randrange(2**32)))
    print(f"points random walk seed: {seed}")
    rnd = random.Random(seed)
    st = builders.station(session, world.a)
    session.commit()
    manager = auth_services.load_actor(session, world.manager_a.id)
    households = world.households_a
    drops = []
    with app.test_request_context():
        for step in range(STEPS):
            op = rnd.choices(["earn", "regrade", "adjust"], weights=[6, 3, 2])[0]
            try:
                if op == "earn" or not drops:
                    batch = []
                    for _ in range(rnd.randint(1, 4)):
                        hh = rnd.choice(households + [None])
                        d = builders.drop(
                            session, st, hh,
                            happened_at=NOW - timedelta(days=rnd.randint(0, 20),
                                                        minutes=rnd.randint(0, 60)),
                            category=rnd.choice(["kitchen", "recyclable", "hazardous", "other"]),
                            quality=rnd.choice(["correct", "incorrect", "ungraded"]),
                            in_window=rnd.random() > 0.2)
                        batch.append(d)
                    batch.sort(key=lambda d: (d.happened_at, d.id))
                    services.award_for_drops(
                        session, [DropFacts(d.id, d.household_id, d.category, d.quality,
                                            d.in_window, d.local_date) for d in batch],
                        community_id=world.a.id, now=NOW)
                    drops += batch
                elif op == "regrade":
                    d = rnd.choice(drops)
                    quality = rnd.choice([q for q in ("correct", "incorrect", "ungraded")
                                          if q != d.quality])
                    stations_services.regrade_drop(session, actor=manager, drop_id=d.id,
                                                   quality=quality)
                else:
                    services.adjust(session, actor=manager,
                                    household_id=rnd.choice(households).id,
                                    amount=rnd.choice([-7, -3, -1, 1, 4, 10]), reason="测试")
                session.commit()
            except DomainError:
                session.rollback()  # a refused adjustment changes nothing
            try:
                _check(session)
            except AssertionError:
                print(f"failed at step {step} ({op}); seed {seed}")
                raise
            session.commit()
