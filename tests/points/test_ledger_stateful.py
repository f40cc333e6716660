"""A hypothesis state machine drives the real points services — earn, regrade, adjust,
redeem, cancel, hand over and expire — and after every step checks that each balance equals
the sum of its entries and is never negative, that stock is never negative and adds up, and
that every redemption was charged once and refunded at most once.

Runs on both backends. Hypothesis prints the failing sequence of steps (its seed is
reproducible with --hypothesis-seed); POINTS_EXAMPLES / POINTS_STEPS enlarge the search.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from sqlmodel import Session, col

from community.auth import services as auth_services
from community.errors import DomainError
from community.households.models import HouseholdMember
from community.points import jobs, services
from community.points.models import LedgerEntry, PointsAccount, Redemption, RewardItem
from community.points.rewards import services as rewards
from community.points.rewards.schemas import CancelIn, RedeemIn, RewardIn
from community.points.rules import DropFacts
from community.points.schemas import AdjustIn
from community.stations import services as stations_services
from community.stations.schemas import RegradeIn
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 8, 30, tzinfo=SH)
EXAMPLES = int(os.environ.get("POINTS_EXAMPLES", "20"))
STEPS = int(os.environ.get("POINTS_STEPS", "30"))
STOCK = 6


def check_ledger(session: Session, initial_stock: dict[int, int]) -> None:
    """The invariants of the whole ledger (all accounts, items and redemptions)."""
    session.expire_all()
    assert services.verify(session) == []
    negative = session.execute(select(func.count()).select_from(PointsAccount).where(
        col(PointsAccount.balance) < 0)).scalar_one()
    assert negative == 0
    reversed_ids = session.execute(select(LedgerEntry.reverses_id).where(
        col(LedgerEntry.reverses_id).is_not(None))).scalars().all()
    assert len(reversed_ids) == len(set(reversed_ids))
    held = dict(session.execute(
        select(Redemption.reward_id, func.count()).where(
            col(Redemption.status) != "cancelled").group_by(Redemption.reward_id)).all())
    for item in session.execute(select(RewardItem)).scalars():
        assert item.stock >= 0
        assert item.stock + held.get(item.id, 0) == initial_stock[item.id]
    # Each redemption's entries (by their source), read in one query per check.
    status = dict(session.execute(select(Redemption.id, Redemption.status)).all())
    charged: dict[str, list[str]] = {f"redemption:{rid}": [] for rid in status}
    for source, kind in session.execute(select(LedgerEntry.source, LedgerEntry.kind).where(
            col(LedgerEntry.source).in_(list(charged)))):
        charged[source].append(kind)
    for rid, red_status in status.items():
        kinds = sorted(charged[f"redemption:{rid}"])
        assert kinds == (["redeem", "refund"] if red_status == "cancelled" else ["redeem"])
    session.commit()


def test_ledger_state_machine(app: Flask, session: Session, world: builders.World) -> None:
    station = builders.station(session, world.a)
    households = world.households_a
    for hh in households:
        session.add(HouseholdMember(community_id=hh.community_id, household_id=hh.id,
                                    account_id=world.resident_a.id,
                                    status="approved"))
    session.flush()
    manager = auth_services.load_actor(session, world.manager_a.id)
    resident = auth_services.load_actor(session, world.resident_a.id)
    steward = auth_services.load_actor(session, world.steward_a.id)
    with app.test_request_context():
        items = [rewards.save_item(session, actor=manager, community_id=world.a.id, now=NOW,
                                   data=RewardIn.parse(name=name, cost=cost, stock=STOCK))
                 for name, cost in (("鸡蛋", 3), ("垃圾袋", 8))]
    session.commit()
    initial = {i.id: STOCK for i in items}

    class Ledger(RuleBasedStateMachine):
        """One run of operations; the database carries over between runs (still valid)."""

        def __init__(self) -> None:
            super().__init__()
            self.drops: list = []
            self.redemptions: list[int] = []

        @initialize()
        def opening_balances(self) -> None:
            for hh in households:
                self._do(lambda hh=hh: services.adjust(session, actor=manager,
                                                       household_id=hh.id, now=NOW,
                                                       data=AdjustIn.parse(amount=15,
                                                                           reason="开户")))

        def _do(self, action) -> None:
            try:
                with app.test_request_context():
                    action()
                session.commit()
            except DomainError:
                session.rollback()  # a refusal changes nothing (checked by the invariant)

        @rule(hh=st.integers(0, 3), days_ago=st.integers(0, 800),
              category=st.sampled_from(["kitchen", "recyclable", "hazardous", "other"]),
              quality=st.sampled_from(["correct", "incorrect", "ungraded"]),
              in_window=st.booleans())
        def earn(self, hh: int, days_ago: int, category: str, quality: str,
                 in_window: bool) -> None:
            household = households[hh] if hh < len(households) else None  # 3 is a tally
            d = builders.drop(session, station, household,
                              happened_at=NOW - timedelta(days=days_ago), category=category,
                              quality=quality, in_window=in_window)
            self.drops.append(d)
            self._do(lambda: builders.award(
                session, [DropFacts(d.id, d.household_id, d.category, d.quality, d.in_window,
                                    d.local_date)], community_id=world.a.id, now=NOW))

        @rule(pick=st.integers(0, 10_000),
              quality=st.sampled_from(["correct", "incorrect", "ungraded"]))
        def regrade(self, pick: int, quality: str) -> None:
            if self.drops:
                d = self.drops[pick % len(self.drops)]
                self._do(lambda: stations_services.regrade_drop(
                    session, actor=manager, drop_id=d.id,
                    data=RegradeIn.parse(quality=quality, reason="复核", reason_code=(
                        builders.MISDROP if quality == "incorrect" else None))))

        @rule(hh=st.integers(0, 2), amount=st.sampled_from([-20, -5, -1, 1, 7, 30]))
        def adjust(self, hh: int, amount: int) -> None:
            self._do(lambda: services.adjust(session, actor=manager,
                                             household_id=households[hh].id, now=NOW,
                                             data=AdjustIn.parse(amount=amount, reason="测试")))

        @rule(hh=st.integers(0, 2), item=st.integers(0, 1))
        def redeem(self, hh: int, item: int) -> None:
            def go() -> None:
                red = rewards.redeem_reward(session, actor=resident, now=NOW,
                                            data=RedeemIn.parse(household_id=households[hh].id,
                                                                reward_id=items[item].id))
                self.redemptions.append(red.id)  # type: ignore[arg-type]
            self._do(go)

        @rule(pick=st.integers(0, 10_000), by_manager=st.booleans())
        def cancel(self, pick: int, by_manager: bool) -> None:
            if self.redemptions:
                rid = self.redemptions[pick % len(self.redemptions)]
                self._do(lambda: rewards.cancel_redemption(
                    session, actor=manager if by_manager else resident, redemption_id=rid,
                    data=CancelIn.parse(reason="换货" if by_manager else ""), now=NOW))

        @rule(pick=st.integers(0, 10_000))
        def hand_over(self, pick: int) -> None:
            if self.redemptions:
                red = session.get(Redemption, self.redemptions[pick % len(self.redemptions)])
                code = red.pickup_code  # type: ignore[union-attr]
                self._do(lambda: rewards.hand_over(session, actor=steward, code=code, now=NOW))

        @rule(years_on=st.integers(0, 2))
        def expire(self, years_on: int) -> None:
            when = NOW.replace(year=NOW.year + years_on)
            self._do(lambda: jobs.expire_points(session, now=when))

        @invariant()
        def ledger_is_consistent(self) -> None:
            check_ledger(session, initial)

    run_state_machine_as_test(Ledger, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
