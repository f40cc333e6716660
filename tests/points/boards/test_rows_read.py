"""The boards read a bounded part of the ledger and the drop rows: their community's accounts
and drops for one month, each earning checked for a reversal by one index lookup, however
much lies elsewhere.

No timing: the work of the board's statements is measured before and after thousands of
ledger entries and drop rows (a drop's own earn is on its row) of another community and of
other months of the same community are added, and must not grow. SQLite counts the virtual
machine's steps (a progress handler); PostgreSQL counts the rows its plan reads (EXPLAIN
ANALYZE of every statement the board sent, with fresh statistics and sequential scans
disabled, so that the small test tables are read as a city's would be). The old probe
`reverses_id = id` read the whole reversal index for every earning (the demo's boards:
15-34 s), and the accounts were found by household alone.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import insert, select
from sqlmodel import Session, col

from community.db import get_engine
from community.points.boards import queries as boards
from community.points.models import LedgerEntry, PointsAccount
from tests import builders
from tests.points.boards.helpers import NOV, SH
from tests.points.boards.helpers import earn as _earn
from tests.points.boards.helpers import household as _household
from tests.points.boards.helpers import station as _station
from tests.statements import statements_sent

NOISE_HOUSEHOLDS = 20
NOISE_DAYS = 60  # entries per noise account


@contextmanager
def _statements(app: Flask) -> Iterator[list[tuple[str, Any]]]:
    """(SQL, parameters) of every statement sent meanwhile."""
    with statements_sent(get_engine(app), lambda sql, params, _context: (sql, params)) as seen:
        yield seen


def _rows_read(plan: dict[str, Any]) -> int:
    """Rows a PostgreSQL plan node and its children read from tables (kept and filtered)."""
    own = 0
    if "Relation Name" in plan:
        per_loop = (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)
                    + plan.get("Rows Removed by Index Recheck", 0))
        own = per_loop * plan.get("Actual Loops", 1)
    return own + sum(_rows_read(p) for p in plan.get("Plans", []))


def _work(app: Flask, session: Session, board: Callable[[], object]) -> int:
    """The work of the board's statements: VM steps (SQLite) or rows read (PostgreSQL)."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        assert raw is not None
        steps = [0]

        def tick() -> int:
            steps[0] += 1
            return 0  # go on

        raw.set_progress_handler(tick, 10)
        try:
            board()
        finally:
            raw.set_progress_handler(None, 0)
        return steps[0]
    with _statements(app) as seen:
        board()
    assert seen  # the board ran statements (a hook that saw nothing proves nothing)
    # Statistics as autovacuum keeps them (a city's tables always have some); without them the
    # planner guesses and may prefer a community-wide index to the account's day range.
    conn.exec_driver_sql("ANALYZE household, points_account, ledger_entry, drop_record")
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    try:
        total = 0
        for sql, params in seen:
            plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}",
                                        params).scalar_one()
            total += _rows_read(plan[0]["Plan"])
        return total
    finally:
        conn.exec_driver_sql("SET LOCAL enable_seqscan = on")


def _noise(session: Session, world: builders.World) -> int:
    """Earnings of another community in the board's month and of the board's community in the
    months before, in the ledger and on drop rows; returns how many entries were added."""
    from community.stations.models import Drop

    accounts = []
    for i in range(NOISE_HOUSEHOLDS):
        hh = _household(session, world.b, "9", f"9{i:02d}")
        acct = PointsAccount(community_id=world.b.id, household_id=hh.id)
        session.add(acct)
        session.flush()
        accounts.append((world.b.id, acct.id, hh.id, NOV.first))  # the same month, elsewhere
    accounts += [(c, a, h, NOV.first - timedelta(days=NOISE_DAYS + 1))
                 for c, a, h in session.execute(
                     select(col(PointsAccount.community_id), col(PointsAccount.id),
                            col(PointsAccount.household_id))
                     .where(col(PointsAccount.community_id) == world.a.id)).all()
                 ]  # earlier months here
    rows = [{"community_id": c, "account_id": a, "amount": 2, "kind": "earn",
             "source": f"noise:{a}:{d}", "local_date": first + timedelta(days=d % 29),
             "reason": "", "at": builders.MOVED_IN}
            for c, a, _h, first in accounts for d in range(NOISE_DAYS)]
    session.execute(insert(LedgerEntry), rows)
    stations = {c: _station(session, community).id
                for c, community in ((world.a.id, world.a), (world.b.id, world.b))}
    drops = []
    for c, _a, h, first in accounts:
        for d in range(NOISE_DAYS):
            day = first + timedelta(days=d % 29)
            at = datetime.combine(day, time(8, d // 29), SH).astimezone(UTC)
            drops.append({"client_text": f"noise-{h}-{d}", "station_id": stations[c],
                          "community_id": c, "category": "kitchen", "quality": "correct",
                          "source": "scan", "household_id": h, "happened_at": at,
                          "received_at": at, "local_date": day, "in_window": True,
                          "points": 2})
    session.execute(insert(Drop), drops)
    session.commit()
    return len(rows) + len(drops)


def test_the_boards_do_not_read_the_ledger_of_other_communities_or_months(
        app: Flask, session: Session, world: builders.World) -> None:
    h1, h2, h3 = world.households_a
    _earn(session, h1, date(2026, 11, 2), "hazardous", "kitchen")
    _earn(session, h2, date(2026, 11, 3), "kitchen")
    _earn(session, h3, date(2026, 11, 4), "other")

    def points() -> object:
        return boards.community_points(session, community_id=world.a.id, month=NOV)

    def ranking() -> object:
        return boards.community_ranking(session, parent=world.street_a, month=NOV)

    def mine() -> object:  # a resident's own household, read fresh on every page
        return boards.household_points(session, community_id=world.a.id, household_id=h1.id,
                                       month=NOV)

    measures = (points, ranking, mine)
    before = tuple(_work(app, session, m) for m in measures)
    own = boards.household_points(session, community_id=world.a.id, household_id=h1.id,
                                  month=NOV)
    board = boards.top_of(boards.community_points(session, community_id=world.a.id, month=NOV))
    added = _noise(session, world)
    assert added >= 1000
    after = tuple(_work(app, session, m) for m in measures)
    # Nothing of the noise is on the board, and reading it did not grow with the noise.
    assert boards.top_of(boards.community_points(
        session, community_id=world.a.id, month=NOV)) == board
    slack = 50  # a B-tree one level deeper costs a few steps, never a step per entry
    assert after[0] <= before[0] + slack, (before, after, added)
    assert after[1] <= before[1] + slack, (before, after, added)
    assert after[2] <= before[2] + slack, (before, after, added)
    assert boards.household_points(session, community_id=world.a.id, household_id=h1.id,
                                   month=NOV) == own == 5
