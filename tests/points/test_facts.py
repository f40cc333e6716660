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
