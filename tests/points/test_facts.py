"""The drop row as points read it (`points.facts`): its columns are the model's, and the
entries relation counts a drop's own earn and its strike exactly once."""
from __future__ import annotations

from community.points import facts
from community.stations.models import Drop


def test_points_column_set_matches_the_drop_model() -> None:
    model = Drop.__table__.c  # type: ignore[attr-defined]
    assert facts.drops.name == Drop.__tablename__
    for column in facts.drops.c:
        assert column.name in model, column.name
        mine, theirs = column.type, model[column.name].type
        assert type(mine).__name__ == type(theirs).__name__ or (
            mine.compile() == theirs.compile()), column.name
        assert column.nullable == model[column.name].nullable, column.name
        if hasattr(theirs, "codes"):
            assert mine.codes == theirs.codes, column.name


def test_entry_ids_of_a_drop_never_meet_a_ledger_id() -> None:
    assert facts.earn_id(7) == -14
    assert facts.strike_id(7) == -15
    assert facts.drop_reversal_source(7) == "reversal:d7"


def test_entries_are_the_drops_own_rows_and_the_ledgers(session, world) -> None:
    """A correct drop's earn is its row; its void is a ledger reversal naming the earn's id;
    an incorrect drop is a strike row; a repeat is no entry; a bonus is a ledger row."""
    from datetime import UTC, date, datetime, timedelta

    from sqlalchemy import update

    from community.points.rules import DropFacts
    from tests import builders

    hh = world.households_a[0]
    day = date(2026, 11, 10)
    now = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)

    def fact(i: int, n: int, quality: str = "correct") -> DropFacts:
        on = day + timedelta(days=n)
        return DropFacts(i, hh.id, "kitchen", quality, True, on,
                         datetime(on.year, on.month, on.day, 0, 30, tzinfo=UTC))

    week = [fact(100 + n, n) for n in range(7)]  # a streak block: a bonus on its 7th day
    builders.award(session, [*week, fact(200, 7, "incorrect"), fact(300, 8)],
                   community_id=world.a.id, now=now)
    builders.store_facts(session, [fact(301, 8)])  # a repeat of 300: stored, never scored
    session.execute(update(Drop).where(Drop.id == 301).values(repeat_of=300))
    builders.void(session, fact(300, 8), community_id=world.a.id, now=now)
    rows = [(r.id, r.kind, r.amount, r.drop_id, r.reverses_id)
            for r in builders.ledger(session, household=hh)]
    own = [(facts.earn_id(i), "earn", 2, i, None) for i in (*range(100, 107), 300)]
    assert [r for r in rows if r[0] < 0] == [*own[:7], (facts.strike_id(200), "strike", 0,
                                                         200, None), own[7]]
    ledger = [(k, a, d, rev) for i, k, a, d, rev in rows if i > 0]
    assert ledger == [("bonus", 5, 106, None), ("reversal", -2, 300, facts.earn_id(300))]
    assert sum(r[2] for r in rows) == 14 + 5

