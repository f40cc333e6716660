"""Points are a function of the facts: the real services, fed a household's drops and
regrades in device-time order or in any other order, end with the same live entries and
balances; late drops and regrades append readable corrections, never edits.

The hypothesis test prints the failing example (reproduce with --hypothesis-seed).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlmodel import Session, col

from community.points import services
from community.points.models import LedgerEntry, PointsAccount
from community.points.rules import DropFacts
from community.stations.models import Drop
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=SH)
START = date(2026, 9, 20)
OFFSET = 1_000_000  # the second household's copy of a drop id (same order within a day)


def _facts(hh: int, drop_id: int, day: int, minute: int, quality: str = "correct",
           category: str = "kitchen", in_window: bool = True) -> DropFacts:
    on = START + timedelta(days=day)
    at = datetime(on.year, on.month, on.day, 7, tzinfo=SH) + timedelta(minutes=minute)
    return DropFacts(drop_id, hh, category, quality, in_window, on, at)


def _live(session: Session, hh: int, offset: int = 0) -> tuple[int, list[tuple]]:
    """(balance, live drop entries by key: (kind, drop id or day, amount))."""
    session.expire_all()
    account = session.execute(select(PointsAccount).where(
        col(PointsAccount.household_id) == hh)).scalar_one()
    rows = builders.ledger(session, account_id=account.id)
    undone = {r.reverses_id for r in rows if r.reverses_id is not None}
    return account.balance, sorted(
        (r.kind, str(r.local_date) if r.kind == "bonus" else r.drop_id - offset, r.amount)
        for r in rows if r.kind in services.DROP_KINDS and r.id not in undone)


def _texts(session: Session, hh: int) -> list[str]:
    return [r.text for r in services.history(session, household_id=hh, limit=200)]


def test_a_late_drop_fills_a_run_and_the_bonus_is_recalculated(app: Flask, session: Session,
                                                               world: builders.World) -> None:
    hh = world.households_a[0].id
    cid = world.a.id
    with app.test_request_context():
        for day in [d for d in range(10) if d != 3]:
            builders.award(session, [_facts(hh, 100 + day, day, 0)],
                                     community_id=cid, now=NOW)
        assert services.balance(session, hh) == 18  # no run of 7 yet
        got = builders.award(session, [_facts(hh, 103, 3, 0)], community_id=cid,
                                       now=NOW)
        assert got == {103: 2 + 5}  # the bonus of the block ending on day 6, triggered by 103
        assert services.balance(session, hh) == 25
        late = (START + timedelta(days=3)).strftime("%m-%d")
        assert (f"连续7天分类正确奖励（补录 {late} 投放后重新计算） +5" in _texts(session, hh)
                or any("补录" in t and "+5" in t for t in _texts(session, hh)))
        # Retrying the same upload changes nothing.
        assert builders.award(session, [_facts(hh, 103, 3, 0)], community_id=cid,
                                        now=NOW) == {103: 0}
        assert services.balance(session, hh) == 25
        assert services.verify(session) == []


def test_a_regrade_keeps_a_bonus_the_run_still_deserves(app: Flask, session: Session,
                                                        world: builders.World) -> None:
    hh = world.households_a[0].id
    cid = world.a.id
    with app.test_request_context():
        for day in range(7):
            builders.award(session, [_facts(hh, 200 + day, day, 0)],
                                     community_id=cid, now=NOW)
        builders.award(session, [_facts(hh, 299, 6, 30, category="other")],
                                 community_id=cid, now=NOW)
        assert services.balance(session, hh) == 7 * 2 + 1 + 5
        # The drop that completed the run turns incorrect: day 6 stays correct (drop 299).
        change = builders.regrade(
            session, facts=_facts(hh, 206, 6, 0, quality="incorrect"), community_id=cid,
            regrade_id=1, now=NOW)
        assert change == -2
        assert ("bonus", "2026-09-26", 5) in _live(session, hh)[1]
        # A regrade of day 2 breaks the run: the bonus goes, with a readable reason.
        change = builders.regrade(
            session, facts=_facts(hh, 202, 2, 0, quality="incorrect"), community_id=cid,
            regrade_id=2, now=NOW)
        assert change == -2 - 5
        day2 = (START + timedelta(days=2)).strftime("%m-%d")
        assert any(f"{day2} 投放改判后重新计算" in t and "-5" in t for t in _texts(session, hh))
        assert services.verify(session) == []


def test_a_late_strike_moves_the_later_penalty(app: Flask, session: Session,
                                               world: builders.World) -> None:
    hh = world.households_a[0].id
    cid = world.a.id
    with app.test_request_context():
        builders.award(session, [_facts(hh, 300 + d, d, 0) for d in range(5)],
                                 community_id=cid, now=NOW)  # 10 points
        for d in (6, 10, 12):
            builders.award(session, [_facts(hh, 400 + d, d, 0, "incorrect")],
                                     community_id=cid, now=NOW)
        assert services.balance(session, hh) == 5  # the third strike (day 12) cost 5
        builders.award(session, [_facts(hh, 408, 8, 0, "incorrect")],
                                 community_id=cid, now=NOW)
        live = _live(session, hh)[1]
        assert [(k, i) for k, i, _a in live if k == "penalty"] == [("penalty", 410)]
        assert services.balance(session, hh) == 5
        assert services.verify(session) == []


# --- The zero floor: a penalty takes at most the fact balance before its strike -----------

def _redeem(session: Session, hh: int, amount: int, at: datetime) -> None:
    """A redemption's ledger entry, appended as the rewards service appends it."""
    account_id, _b = services.lock_accounts(session, builders_cid(session, hh), {hh})[hh]
    services.append_entries(session, [{
        "account_id": account_id, "amount": -amount, "kind": "redeem",
        "source": f"redemption:test-{hh}-{at.isoformat()}", "rule_version": None,
        "actor_id": None, "reason": "test", "at": at, "local_date": at.astimezone(SH).date(),
        "reverses_id": None}], community_id=builders_cid(session, hh))


def builders_cid(session: Session, hh: int) -> int:
    from community.households.models import Household
    return session.get_one(Household, hh).community_id


def _penalties(session: Session, hh: int) -> list[tuple[int, int]]:
    return [(i, a) for k, i, a in _live(session, hh)[1] if k == "penalty"]


def test_a_penalty_is_floored_at_the_fact_balance_and_a_late_earn_raises_it(
        app: Flask, session: Session, world: builders.World) -> None:
    hh = world.households_a[0].id
    cid = world.a.id
    with app.test_request_context():
        builders.award(session, [_facts(hh, 500, 2, 0)], community_id=cid, now=NOW)
        for d in (3, 4, 5):
            builders.award(session, [_facts(hh, 510 + d, d, 0, "incorrect")],
                                     community_id=cid, now=NOW)
        assert _penalties(session, hh) == [(515, -2)]  # the fact balance before it was 2
        assert services.balance(session, hh) == 0
        # A hazardous drop of day 1 arrives late: the balance before the penalty was 5.
        got = builders.award(session, [_facts(hh, 501, 1, 0, category="hazardous")],
                                       community_id=cid, now=NOW)
        assert got == {501: 3 + 2 - 5}  # its earn, and the penalty moved from -2 to -5
        assert _penalties(session, hh) == [(515, -5)]
        assert services.balance(session, hh) == 0
        day1 = (START + timedelta(days=1)).strftime("%m-%d")
        texts = _texts(session, hh)
        assert any("扣分" in t and f"补录 {day1} 投放后重新计算" in t and "-5" in t
                   for t in texts), texts
        assert services.verify(session) == []
        # The day-2 drop regraded incorrect: the strikes count from day 2, so day 4's is the
        # 3rd; the fact balance before it is 3.
        builders.regrade(session, facts=_facts(hh, 500, 2, 0, "incorrect"),
                                     community_id=cid, regrade_id=9, now=NOW)
        assert _penalties(session, hh) == [(514, -3)]  # day 4's strike is the 3rd now
        assert services.balance(session, hh) == 0
        assert services.verify(session) == []


def test_a_redemption_counts_by_its_time_and_a_shortfall_is_not_taken_later(
        app: Flask, session: Session, world: builders.World) -> None:
    after, before = world.households_a[0].id, world.households_a[1].id
    cid = world.a.id
    noon = datetime.combine(START + timedelta(days=2), datetime.min.time(), SH) + timedelta(
        hours=12)
    with app.test_request_context():
        for hh, offset in ((after, 0), (before, 100)):
            builders.award(session, [
                _facts(hh, 600 + offset, 0, 0), _facts(hh, 601 + offset, 0, 10,
                                                       category="hazardous"),
                _facts(hh, 602 + offset, 1, 60, "incorrect"),
                _facts(hh, 603 + offset, 1, 120, "incorrect")], community_id=cid, now=NOW)
            _redeem(session, hh, 4, noon)  # balance 5 - 4 = 1
        # The third strike arrives late, made after the redemption (18:00, minute 660).
        builders.award(session, [_facts(after, 604, 2, 660, "incorrect")],
                                 community_id=cid, now=NOW)
        assert _penalties(session, after) == [(604, -1)]  # the fact balance then was 1
        assert services.balance(session, after) == 0
        # Made before the redemption (10:00): its fact balance was 5, but the points were
        # spent meanwhile: it takes what is there and the rest is never taken.
        builders.award(session, [_facts(before, 704, 2, 180, "incorrect")],
                                 community_id=cid, now=NOW)
        assert _penalties(session, before) == [(704, -1)]
        assert services.balance(session, before) == 0
        builders.award(session, [_facts(before, 705, 2, 240)], community_id=cid,
                                 now=NOW)  # a later drop of the same day: nothing retaken
        assert _penalties(session, before) == [(704, -1)]
        assert services.balance(session, before) == 2
        texts = _texts(session, before)
        assert any(t.startswith("第3次分类错误扣分") and t.endswith(" -1") for t in texts), texts
        assert not any("short" in t for t in texts)
        assert services.verify(session) == []


# --- Any order gives the same ledger --------------------------------------------------------

# Days cluster in one week (caps fill, runs and strikes form) within the 60 days.
drops = st.lists(st.tuples(st.one_of(st.integers(0, 59), st.integers(20, 26)),  # day
                           st.integers(0, 600),                 # minute of the morning
                           st.sampled_from(["correct"] * 5 + ["incorrect", "ungraded"]),
                           st.sampled_from(["kitchen", "recyclable", "hazardous", "other"]),
                           st.sampled_from([True] * 9 + [False]),
                           st.lists(st.sampled_from(["correct", "incorrect", "ungraded"]),
                                    max_size=2)),               # later regrades
                 min_size=1, max_size=45)


@settings(max_examples=20, deadline=None, print_blob=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(drops=drops, order=st.randoms(use_true_random=False))
def test_any_upload_order_gives_the_same_points(app: Flask, session: Session,
                                                world: builders.World, drops, order) -> None:
    one, two = world.households_a[0].id, world.households_a[1].id
    cid = world.a.id
    session.execute(delete(LedgerEntry))
    session.execute(delete(Drop))
    session.info.pop("scored_by_test", None)
    session.execute(delete(PointsAccount))
    # Events: each drop's arrival, then its regrades (in their own order).
    events: list[tuple[int, int, str]] = []  # (drop index, step, quality)
    for i, (_d, _m, quality, _c, _w, regrades) in enumerate(drops):
        events.append((i, 0, quality))
        events += [(i, n + 1, q) for n, q in enumerate(regrades)]
    in_order = sorted(events, key=lambda e: ((drops[e[0]][0], drops[e[0]][1], e[0]), e[1]))
    shuffled = list(events)
    order.shuffle(shuffled)
    # Any order, except that a drop's arrival and regrades keep their own order.
    slots: dict[int, list[int]] = {}
    for pos, e in enumerate(shuffled):
        slots.setdefault(e[0], []).append(pos)
    for i, positions in slots.items():
        own = sorted((e for e in events if e[0] == i), key=lambda e: e[1])
        for pos, e in zip(positions, own, strict=True):
            shuffled[pos] = e
    regrade_ids = iter(range(1, 10**6))
    with app.test_request_context():
        for hh, offset, seq in ((one, 0, in_order), (two, OFFSET, shuffled)):
            for i, step, quality in seq:
                day, minute, _q, category, in_window, _r = drops[i]
                f = _facts(hh, offset + i + 1, day, minute, quality, category, in_window)
                if step == 0:
                    builders.award(session, [f], community_id=cid, now=NOW)
                else:
                    builders.regrade(session, facts=f, community_id=cid,
                                                 regrade_id=next(regrade_ids) + offset,
                                                 now=NOW)
    a_balance, a_live = _live(session, one)
    b_balance, b_live = _live(session, two, OFFSET)
    # Which entries exist, every amount (a penalty's too: floored at the fact balance before
    # its strike, whatever the arrival order) and so the balances are the facts' functions.
    assert a_live == b_live
    assert a_balance == b_balance
    assert services.verify(session) == []
