"""The points ledger services on both backends: awards, caps, strikes, streaks, regrades,
adjustments, the ledger check, and the scan feedback."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from community.auth import services as auth_services
from community.errors import Forbidden, InvalidInput
from community.points import facts, services
from community.points.models import LedgerEntry, PointsAccount
from community.points.rules import DropFacts
from community.points.schemas import AdjustIn, RulesIn
from community.stations import services as stations_services
from community.stations.models import CATEGORIES
from community.stations.schemas import DropIn, RegradeIn
from tests import builders
from tests.residents.helpers import link, to_english

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 8, 30, tzinfo=SH)
DAY = NOW.date()
_ids = iter(range(1, 10**9))


def _drop(session: Session, st, hh, *, quality="correct", category="kitchen", days_ago=0,
          in_window=True):
    return builders.drop(session, st, hh, happened_at=NOW - timedelta(days=days_ago),
                         category=category, quality=quality, in_window=in_window)


def _facts(d) -> DropFacts:
    return DropFacts(d.id, d.household_id, d.category, d.quality, d.in_window, d.local_date)


@pytest.fixture
def plain(session: Session, world: builders.World):
    st = builders.station(session, world.a)
    session.commit()
    return world, st


@pytest.fixture
def scene(app: Flask, plain):
    """The world and a station, inside a request context (the reasons are translated)."""
    with app.test_request_context():
        yield plain


def _award(session, world, *drops) -> dict[int, int]:
    got = services.award_for_drops(session, [_facts(d) for d in drops],
                                   community_id=world.a.id, now=NOW)
    session.commit()
    return got


def _entries(session, hh) -> list[tuple[str, int]]:
    return [(r.kind, r.amount) for r in builders.ledger(session, household=hh)]


def test_correct_drop_earns_by_category_and_replay_credits_once(session, scene) -> None:
    world, st = scene
    hh = world.households_a[0]
    d1 = _drop(session, st, hh)
    d2 = _drop(session, st, hh, category="hazardous")
    tally = _drop(session, st, None)
    assert _award(session, world, d1, d2, tally) == {d1.id: 2, d2.id: 3, tally.id: 0}
    assert services.balance(session, hh.id) == 5
    assert _award(session, world, d1) == {d1.id: 0}  # already scored: nothing again
    assert services.balance(session, hh.id) == 5
    assert _entries(session, hh) == [("earn", 2), ("earn", 3)]
    assert services.verify(session) == []


def test_daily_cap_and_out_of_window(session, scene) -> None:
    world, st = scene
    hh = world.households_a[0]
    drops = [_drop(session, st, hh, category="hazardous") for _ in range(3)]
    late = _drop(session, st, hh, in_window=False)
    got = _award(session, world, *drops, late)
    assert [got[d.id] for d in drops] == [3, 3, 0]
    assert got[late.id] == 0
    assert services.balance(session, hh.id) == 6


def test_third_strike_penalty_never_below_zero(session, scene) -> None:
    world, st = scene
    hh, other = world.households_a[0], world.households_a[1]
    good = _drop(session, st, hh, days_ago=1)
    _award(session, world, good)  # 2 points
    bad = [_drop(session, st, hh, quality="incorrect") for _ in range(3)]
    got = _award(session, world, *bad)
    assert [got[d.id] for d in bad] == [0, 0, -2]  # 5 due, only 2 to take
    assert services.balance(session, hh.id) == 0
    bad2 = [_drop(session, st, other, quality="incorrect") for _ in range(3)]
    _award(session, world, *bad2)
    assert services.balance(session, other.id) == 0
    # The third strike's penalty exists (it is deserved) but takes nothing from a zero balance.
    assert _entries(session, other) == [("strike", 0)] * 3 + [("penalty", 0)]
    assert services.verify(session) == []


def test_streak_bonus_after_seven_days(session, scene) -> None:
    world, st = scene
    hh = world.households_a[0]
    for ago in range(6, 0, -1):
        _award(session, world, _drop(session, st, hh, days_ago=ago))
    assert services.balance(session, hh.id) == 12
    seventh = _drop(session, st, hh)
    assert _award(session, world, seventh) == {seventh.id: 7}  # 2 + bonus 5
    again = _drop(session, st, hh, category="recyclable")
    assert _award(session, world, again) == {again.id: 2}  # the day counted already
    assert services.balance(session, hh.id) == 21


def test_long_streaks_are_followed_back_past_the_first_window(session, scene) -> None:
    """A 35-day streak: each seventh day earns a bonus, though the scan path reads no day
    before the drop's (the account's stored run says where the streak started)."""
    world, st = scene
    hh = world.households_a[0]
    got = [_award(session, world, d)[d.id]
           for d in (_drop(session, st, hh, days_ago=ago) for ago in range(34, -1, -1))]
    account = session.execute(select(PointsAccount).where(
        col(PointsAccount.household_id) == hh.id)).scalar_one()
    today = NOW.astimezone(SH).date()
    assert (account.run_first, account.run_last) == (today - timedelta(days=34), today)
    assert [n for n, pts in enumerate(got, start=1) if pts == 7] == [7, 14, 21, 28, 35]
    assert services.balance(session, hh.id) == 35 * 2 + 5 * 5


def test_regrade_reverses_and_reawards_once(session, scene) -> None:
    world, st = scene
    hh = world.households_a[0]
    manager = auth_services.load_actor(session, world.manager_a.id)
    d = _drop(session, st, hh)
    _award(session, world, d)
    change = stations_services.regrade_drop(
        session, actor=manager, drop_id=d.id,
        data=RegradeIn.parse(quality="incorrect", reason_code=builders.MISDROP, reason="复核"))
    session.commit()
    assert services.balance(session, hh.id) == 0
    # The drop's own earn (its row), its strike (its quality now), the earn's reversal.
    assert _entries(session, hh) == [("earn", 2), ("strike", 0), ("reversal", -2)]
    back = stations_services.regrade_drop(session, actor=manager, drop_id=d.id,
                                          data=RegradeIn.parse(quality="correct", reason="复核"))
    session.commit()
    assert services.balance(session, hh.id) == 2
    # Correct again: no strike; the earn deserved again is a ledger entry (the row's own
    # earn stays reversed).
    assert _entries(session, hh) == [("earn", 2), ("reversal", -2), ("earn", 2)]
    assert back.id != change.id
    earn = session.execute(select(LedgerEntry).where(col(LedgerEntry.kind) == "earn")
                           ).scalars().one()
    # A drop row's own earn can be reversed only once, and so can an entry (database keys).
    def reversal(**what) -> LedgerEntry:
        return LedgerEntry(community_id=earn.community_id, account_id=earn.account_id,
                           amount=-2, kind="reversal", reason="", local_date=DAY, **what)

    for twice in ([reversal(source=f"reversal:d{d.id}", drop_id=d.id)],
                  [reversal(source="reversal:once", reverses_id=earn.id),
                   reversal(source="reversal:again", reverses_id=earn.id)]):
        session.add_all(twice)
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()
    assert services.verify(session) == []
    texts = [r.text for r in services.history(session, household_id=hh.id)]
    assert texts[-1] == "厨余垃圾分类正确 +2"
    assert "更正：厨余垃圾分类正确 -2" in texts


def test_adjust_validations_and_audit(session, scene) -> None:
    world, st = scene
    hh = world.households_a[0]
    manager = auth_services.load_actor(session, world.manager_a.id)
    for amount, reason, field in [(0, "x", "amount"), (5, "  ", "reason"),
                                  (True, "x", "amount")]:
        with pytest.raises(InvalidInput) as err:
            services.adjust(session, actor=manager, household_id=hh.id,
                            data=AdjustIn.parse(amount=amount, reason=reason))
        assert err.value.details["field"] == field
    with pytest.raises(services.NotEnoughPoints):
        services.adjust(session, actor=manager, household_id=hh.id,
                        data=AdjustIn.parse(amount=-1, reason="x"))
    with pytest.raises(Forbidden):
        services.adjust(session, actor=auth_services.load_actor(session, world.manager_b.id),
                        household_id=hh.id, data=AdjustIn.parse(amount=3, reason="x"))
    session.rollback()
    entry = services.adjust(session, actor=manager, household_id=hh.id,
                            data=AdjustIn.parse(amount=10, reason="活动奖励"))
    services.adjust(session, actor=manager, household_id=hh.id,
                    data=AdjustIn.parse(amount=-4, reason="误加"))
    session.commit()
    assert entry.source.startswith("adjust:")
    assert services.balance(session, hh.id) == 6
    assert [r.text for r in services.history(session, household_id=hh.id)] == [
        "社区调整：误加 -4", "社区调整：活动奖励 +10"]
    audit_rows = session.execute(text(
        "SELECT count(*) FROM audit_entry WHERE action = 'points.adjusted'")).scalar_one()
    assert audit_rows == 2


def test_rules_versions_apply_by_date(session, scene) -> None:
    world, st = scene
    hh = world.households_a[0]
    manager = auth_services.load_actor(session, world.manager_a.id)
    assert services.current_rules(session, world.a.id, DAY).version == 0
    with pytest.raises(InvalidInput):
        services.publish_rules(session, actor=manager, community_id=world.a.id,
                               data=RulesIn.parse(daily_cap=-1, effective_from=DAY))
    with pytest.raises(InvalidInput):
        services.publish_rules(session, actor=manager, community_id=world.a.id,
                               data=RulesIn.parse(nonsense=1, effective_from=DAY))
    row = services.publish_rules(session, actor=manager, community_id=world.a.id,
                                 data=RulesIn.parse(points_kitchen=4, points_recyclable=2,
                                                    points_hazardous=3, points_other=1,
                                                    effective_from=DAY))
    session.commit()
    assert row.version == 1
    assert services.current_rules(session, world.a.id, DAY - timedelta(days=1)).version == 0
    d_old, d_new = _drop(session, st, hh, days_ago=1), _drop(session, st, hh)
    assert _award(session, world, d_old, d_new) == {d_old.id: 2, d_new.id: 4}
    # A drop's own earn is scored with the version in force on its day (`facts.rule_version`).
    e = facts.entries()
    versions = session.execute(select(e.c.drop_id, facts.rule_version(e))
                               .where(e.c.kind == "earn").order_by(e.c.drop_id)).all()
    assert [tuple(v) for v in versions] == [(d_old.id, 0), (d_new.id, 1)]


def test_verify_finds_injected_drift_and_cli_reports_it(app, session, scene) -> None:
    world, st = scene
    hh = world.households_a[0]
    _award(session, world, _drop(session, st, hh))
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["points", "verify"])
    assert ok.exit_code == 0, ok.output
    session.execute(text("UPDATE points_account SET balance = balance + 3"))
    session.commit()
    drift = services.verify(session)
    assert [(d.household_id, d.balance, d.entries_sum) for d in drift] == [(hh.id, 5, 2)]
    bad = runner.invoke(args=["points", "verify"])
    assert bad.exit_code == 1
    assert f"household {hh.id}" in bad.output
    assert "drift +3" in bad.output


def test_balance_check_constraint(session, scene) -> None:
    world, _st = scene
    session.add(PointsAccount(community_id=world.a.id, household_id=world.households_a[2].id,
                              balance=-1))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_scan_feedback_shows_points_and_replay_shows_the_same(session, scene) -> None:
    world, st = scene
    steward = builders.recorder(session, world.a)
    card = builders.active_card(session, world.households_a[0])
    session.commit()
    # 15 minutes apart: the same category within 10 minutes would be a repeat (scores 0).
    items = [DropIn.model_validate({"client_id": f"points-item-{n}", "station_id": st.id,
                                    "category": c, "quality": "correct",
                                    "happened_at": NOW - timedelta(minutes=15 * (2 - n)),
                                    "card": card.token}, strict=False)
             for n, c in enumerate(["kitchen", "hazardous", "hazardous"])]
    tally = DropIn.model_validate({"client_id": "points-tally", "station_id": st.id,
                                   "category": "other", "quality": "ungraded",
                                   "happened_at": NOW, "tally": True}, strict=False)
    out = stations_services.record_drops(session, actor=steward, items=[*items, tally], now=NOW)
    session.commit()
    assert [o.points for o in out] == [2, 3, 1, None]
    again = stations_services.record_drops(session, actor=steward, items=items, now=NOW)
    session.commit()
    assert [(o.replay, o.points) for o in again] == [(True, 2), (True, 3), (True, 1)]
    assert services.balance(session, world.households_a[0].id) == 6
    assert services.verify(session) == []


def test_resident_points_page(client, session, plain) -> None:
    world, st = plain
    hh = world.households_a[0]
    link(session, world.resident_a.id, builders.active_card(session, hh))
    _award(session, world, _drop(session, st, hh))
    builders.login(client, world.resident_a)
    home = client.get("/me/").get_data(as_text=True)
    assert 'data-testid="points-balance">2<' in home
    assert 'data-testid="points-link"' in home
    page = client.get(f"/me/points?household_id={hh.id}").get_data(as_text=True)
    assert "我的积分" in page
    assert "厨余垃圾分类正确 +2" in page
    assert client.get(f"/me/points?household_id={world.households_b[0].id}").status_code == 404
    to_english(client, f"/me/points?household_id={hh.id}")
    page = client.get(f"/me/points?household_id={hh.id}").get_data(as_text=True)
    assert "My points" in page
    assert "Kitchen waste sorted correctly +2" in page


def test_scan_batches_cost_a_fixed_number_of_statements(app, session, scene) -> None:
    """Scoring is set-based: a batch of 1 and a batch of 12 (3 households) cost the same
    once their accounts exist."""
    from sqlalchemy import event

    from community.db import get_engine

    world, st = scene
    steward = builders.recorder(session, world.a)
    cards = [builders.active_card(session, hh) for hh in world.households_a]
    session.commit()

    def run(prefix: str, n: int, base: int) -> int:
        # A household's drops of a batch in four categories, each run 30 minutes from the
        # others: no drop repeats another within the duplicate window (a repeat scores 0).
        items = [DropIn.model_validate({
            "client_id": f"{prefix}-{i:04d}", "station_id": st.id,
            "category": CATEGORIES[i // 3], "quality": ["correct", "incorrect"][i % 2],
            **({"reason_code": "kitchen_plastic_bag"} if i % 2 else {}),
            "happened_at": NOW - timedelta(minutes=base + i), "card": cards[i % 3].token},
            strict=False) for i in range(n)]
        seen: list[str] = []

        def count(*args) -> None:
            seen.append(args[2])

        engine = get_engine(app)
        event.listen(engine, "before_cursor_execute", count)
        try:
            stations_services.record_drops(session, actor=steward, items=items, now=NOW)
            session.commit()
        finally:
            event.remove(engine, "before_cursor_execute", count)
        # Each drop row is written once: its points are scored before the INSERT.
        assert not any(s.startswith("UPDATE drop_record") for s in seen), seen
        return len([s for s in seen if "ledger_entry" in s or "points_" in s])

    counts = [run("warmup-batch", 1, 90), run("single-batch", 1, 60),
              run("warmup-large", 12, 30), run("large-batch", 12, 0)]
    # Households without an account yet cost two statements more (insert, lock), a
    # community's first award one more (its rule versions, then cached).
    # A single correct drop writes no ledger row (its earn is its row's points, in its
    # INSERT); the large batch's strikes cost penalties: one ledger insert for all of them.
    assert counts[3] == counts[1] + 1 <= 6, counts
    assert counts[0] <= counts[1] + 3, counts
    assert counts[2] <= counts[1] + 2, counts
    assert services.verify(session) == []


def test_a_row_the_insert_skipped_is_scored_as_if_it_never_came(session, scene) -> None:
    """`score_new` counts the new drops before their rows are stored; when the INSERT skips
    one (a concurrent request stored its client id first), `finish` recomputes the
    household from the rows stored: the cap it took goes to the next drop, as a ledger
    correction, and the books still balance."""
    from sqlalchemy import update

    from community.stations.models import Drop

    world, _st = scene
    hh = world.households_a[0]
    day = NOW.date()
    made = [DropFacts(900 + n, hh.id, "hazardous", "correct", True, day,
                      NOW + timedelta(minutes=n)) for n in range(3)]
    scoring = services.score_new(session, made, community_id=world.a.id, now=NOW)
    assert scoring.points == {900: 3, 901: 3}  # the cap of 6 is full after two
    stored = made[1:]  # the first row was stored by someone else: skipped
    builders.store_facts(session, stored)
    for f in stored:
        session.execute(update(Drop).where(Drop.id == f.drop_id)
                        .values(points=scoring.points.get(f.drop_id, 0)))
    got = services.finish(session, scoring, {f.drop_id for f in stored})
    session.commit()
    assert got == {900: 0, 901: 3, 902: 3}
    assert services.balance(session, hh.id) == 6
    assert [(r.kind, r.amount, r.drop_id) for r in builders.ledger(session, household=hh)
            ] == [("earn", 3, 901), ("earn", 3, 902)]
    assert services.verify(session) == []
    assert services.verify_runs(session) == []
