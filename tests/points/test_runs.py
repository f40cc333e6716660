"""The account's stored streak state (its latest run of correct days): an award reads no
history however long the household's streak, late drops and regrades keep the state
equal to what the facts give, and `flask points verify` reports a state that is not.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import event, select, text
from sqlmodel import Session, col

from community.db import get_engine
from community.points import services
from community.points.models import PointsAccount
from community.points.rules import DropFacts
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=SH)
START = date(2025, 1, 1)


def _facts(hh: int, drop_id: int, day: date, quality: str = "correct") -> DropFacts:
    at = datetime(day.year, day.month, day.day, 7, tzinfo=SH)
    return DropFacts(drop_id, hh, "kitchen", quality, True, day, at)


def _award(session: Session, cid: int, facts: DropFacts) -> int:
    return builders.award(session, [facts], community_id=cid, now=NOW)[facts.drop_id]


def _run(session: Session, hh: int) -> tuple[date | None, date | None]:
    session.expire_all()
    a = session.execute(select(PointsAccount).where(
        col(PointsAccount.household_id) == hh)).scalar_one()
    return a.run_first, a.run_last


@contextmanager
def _statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: object) -> None:
        if not str(args[2]).startswith(("SAVEPOINT", "RELEASE")):  # the test's harness
            seen.append(str(args[2]))

    engine = get_engine(app)
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _history(session: Session, cid: int, hh: int, days: int, base: int,
             skip: frozenset[int] = frozenset()) -> None:
    """A correct drop every day from START for `days` days (except `skip`), in one batch."""
    builders.award(session, [
        _facts(hh, base + n, START + timedelta(days=n)) for n in range(days) if n not in skip],
        community_id=cid, now=NOW)


def test_an_award_after_a_long_streak_reads_no_more_than_on_day_one(
        app: Flask, session: Session, world: builders.World) -> None:
    cid = world.a.id
    long_, short = world.households_a[0].id, world.households_a[1].id
    _history(session, cid, long_, 405, 10_000)  # a run longer than a year
    _history(session, cid, short, 1, 20_000)
    assert _run(session, long_) == (START, START + timedelta(days=404))
    session.commit()
    with app.test_request_context():
        with _statements(app) as long_sql:
            got = _award(session, cid, _facts(long_, 30_000, START + timedelta(days=405)))
        with _statements(app) as short_sql:
            _award(session, cid, _facts(short, 30_001, START + timedelta(days=1)))
    # Day 406 of the run completes block 58 (7-day blocks counted from the run's first day,
    # more than a year back): 2 points and the bonus.
    assert got == 2 + 5
    # The bonus is good news: the household's members are looked up to be told (two small
    # statements, no history; this household has no members, so nothing is inserted).
    told = [s for s in long_sql if "household_member" in s
            or s.startswith("SELECT points_account.id, points_account.household_id")]
    assert len(told) == 2, long_sql
    # The bonus is the one ledger row either award writes (a drop's earn is its row's points).
    bonus = [s for s in long_sql if s.startswith("INSERT INTO ledger_entry")]
    assert len(bonus) == 1, long_sql
    assert not any(s.startswith("INSERT INTO ledger_entry") for s in short_sql), short_sql
    assert len(long_sql) - len(told) - len(bonus) == len(short_sql), (long_sql, short_sql)
    assert not any("group by" in s.lower() for s in long_sql)  # no correct-days walk
    assert _run(session, long_) == (START, START + timedelta(days=405))
    assert services.verify_runs(session) == []
    assert services.verify(session) == []


def test_a_late_drop_joins_an_older_run_and_the_state_follows(
        app: Flask, session: Session, world: builders.World) -> None:
    cid = world.a.id
    hh = world.households_a[0].id
    _history(session, cid, hh, 30, 1000, skip=frozenset({20}))
    assert _run(session, hh) == (START + timedelta(days=21), START + timedelta(days=29))
    # The gap is filled late: one run of 30 days; its bonuses are counted from its start.
    got = _award(session, cid, _facts(hh, 2000, START + timedelta(days=20)))
    assert _run(session, hh) == (START, START + timedelta(days=29))
    # Its earn and the bonus of the block ending on its day (days 14-20); the bonus of the
    # block ending on day 27 stays (7-day blocks from day 0 or from day 21 end there alike).
    assert got == 2 + 5
    assert services.verify_runs(session) == []
    assert services.verify(session) == []


def test_a_regrade_that_empties_the_latest_run_moves_the_state_back(
        app: Flask, session: Session, world: builders.World) -> None:
    cid = world.a.id
    hh = world.households_a[0].id
    _history(session, cid, hh, 10, 1000, skip=frozenset({7}))
    assert _run(session, hh) == (START + timedelta(days=8), START + timedelta(days=9))
    for n, drop_id in enumerate((1008, 1009)):
        builders.regrade(
            session, facts=_facts(hh, drop_id, START + timedelta(days=8 + n), "incorrect"),
            community_id=cid, regrade_id=500 + n, now=NOW)
    assert _run(session, hh) == (START, START + timedelta(days=6))
    builders.regrade(
        session, facts=_facts(hh, 1003, START + timedelta(days=3), "incorrect"),
        community_id=cid, regrade_id=600, now=NOW)
    assert _run(session, hh) == (START + timedelta(days=4), START + timedelta(days=6))
    for n in range(7):
        if n != 3:
            builders.regrade(
                session, facts=_facts(hh, 1000 + n, START + timedelta(days=n), "incorrect"),
                community_id=cid, regrade_id=700 + n, now=NOW)
    assert _run(session, hh) == (None, None)
    assert services.verify_runs(session) == []
    assert services.verify(session) == []


def test_verify_reports_a_corrupted_state(app: Flask, session: Session,
                                          world: builders.World) -> None:
    cid = world.a.id
    hh = world.households_a[0].id
    _history(session, cid, hh, 12, 1000)
    session.commit()
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["points", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "Streak state OK" in ok.output
    session.execute(text("UPDATE points_account SET run_first = :d WHERE household_id = :h"),
                    {"d": START + timedelta(days=1), "h": hh})
    session.commit()
    drift = services.verify_runs(session)
    assert [(d.household_id, d.stored, d.facts) for d in drift] == [
        (hh, (START + timedelta(days=1), START + timedelta(days=11)),
         (START, START + timedelta(days=11)))]
    bad = runner.invoke(args=["points", "verify"])
    assert bad.exit_code == 1
    assert f"household {hh}" in bad.output
    assert "stored run 2025-01-02..2025-01-12, facts give 2025-01-01..2025-01-12" in bad.output


def test_verify_reports_a_reversal_dated_before_its_entry(
        app: Flask, session: Session, world: builders.World) -> None:
    """The ledger read finds an entry's reversal among the rows from the entry's day on; a
    reversal dated earlier (no service writes one) is reported."""
    cid = world.a.id
    hh = world.households_a[0].id
    _history(session, cid, hh, 3, 1000)
    assert services.misdated_reversals(session) == []
    account = session.execute(select(PointsAccount.id).where(
        col(PointsAccount.household_id) == hh)).scalar_one()
    services.append_entries(session, [{
        "account_id": account, "amount": 0, "kind": "adjust", "source": "test:entry",
        "rule_version": 0, "actor_id": None, "reason": "", "at": NOW,
        "local_date": START + timedelta(days=2), "reverses_id": None}], community_id=cid)
    entry = session.execute(text("SELECT id FROM ledger_entry WHERE source = 'test:entry'")
                            ).scalar_one()
    # Dated before what they undo: an entry's reversal, and the reversal of a drop row's
    # own earn (by drop, `points.facts`), a day before the drop's.
    services.append_entries(session, [{
        "account_id": account, "amount": 0, "kind": "reversal", "source": "test:misdated",
        "rule_version": 0, "actor_id": None, "reason": "", "at": NOW,
        "local_date": START + timedelta(days=1), "reverses_id": entry, "drop_id": None}, {
        "account_id": account, "amount": -2, "kind": "reversal", "source": "reversal:d1002",
        "rule_version": 0, "actor_id": None, "reason": "", "at": NOW,
        "local_date": START + timedelta(days=1), "reverses_id": None, "drop_id": 1002}],
        community_id=cid)
    session.commit()
    rev = services.misdated_reversals(session)
    assert len(rev) == 2
    bad = app.test_cli_runner().invoke(args=["points", "verify"])
    assert bad.exit_code == 1
    assert "2 reversal(s) dated before the entry they undo" in bad.output


def test_block_start_agrees_with_the_bonuses_of_the_whole_run() -> None:
    """`rules.block_start` (arithmetic without a rule change in the run, walked with one)
    puts each block where `streak_bonuses` over the whole run puts it."""
    from community.points import rules

    seven, three = rules.RuleSet(version=1), rules.RuleSet(version=2, streak_days=3)
    for change in (None, START + timedelta(days=10), START + timedelta(days=40)):
        def rules_on(d: date, change: date | None = change) -> rules.RuleSet:
            return three if change is not None and d >= change else seven

        changes = [change] if change else []
        for length in (1, 6, 7, 8, 20, 50):
            days = [START + timedelta(days=n) for n in range(length)]
            ends = sorted(k[1] for k in rules.streak_bonuses(rules_on, days))
            last = days[-1]
            want = max((e for e in ends if e <= last), default=START - timedelta(days=1))
            got = rules.block_start(rules_on, START, last, changes)
            assert got == want + timedelta(days=1), (change, length, got, want)
            # Resuming from the block start with the run's bounds gives the same bonuses.
            more = [last + timedelta(days=n) for n in range(1, 15)]
            whole = rules.streak_bonuses(rules_on, days + more)
            resumed = rules.streak_bonuses(
                rules_on, [d for d in days + more if d >= got],
                resume={got: (START, got)} if got <= more[-1] else None)
            assert {k: v for k, v in whole.items() if k[1] >= got} == resumed
