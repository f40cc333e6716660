"""The demo's incorrect drops carry mis-drop reasons (of their category), and some photos."""
from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from community.stations.models import Drop, DropRegrade, MisdropReason

pytestmark = pytest.mark.demo_db  # the demo city, built once per worker: see tests/conftest.py


def test_incorrect_demo_drops_have_reasons(session: Session) -> None:
    known = set(session.exec(select(MisdropReason.code)).all())
    rows = session.exec(select(Drop.category, Drop.reason_code, func.count()).where(
        Drop.quality == "incorrect", Drop.household_id.is_not(None))  # type: ignore[union-attr]
        .group_by(Drop.category, Drop.reason_code)).all()
    assert rows
    assert all(code is not None and code in known for _c, code, _n in rows)
    by_category = {(c, code) for c, code, _n in rows}
    assert ("recyclable", "recyclable_dirty") in by_category
    assert ("kitchen", "kitchen_plastic_bag") in by_category
    # A reason on a drop that is not incorrect (now): only where it was regraded (an appeal).
    regraded = set(session.exec(select(DropRegrade.drop_id)).all())
    others = session.exec(select(Drop.id).where(
        Drop.quality != "incorrect", Drop.reason_code.is_not(None))).all()  # type: ignore[union-attr]
    assert set(others) <= regraded
    with_photo = session.exec(select(func.count()).where(
        Drop.quality == "incorrect", Drop.photo.is_not(None))).one()  # type: ignore[union-attr]
    assert with_photo > 0


def test_demo_notes_match_their_reason_and_category(session: Session) -> None:
    """QA: a 厨余 drop with reason 厨余混有塑料袋 had the note "电池投入其他垃圾桶". A note now
    says what its reason (or, for a tally without one, its category's first reason) says."""
    from community.demo.drops import DEMO_REASONS, INCORRECT_NOTES

    rows = session.exec(select(Drop.category, Drop.reason_code, Drop.note).where(
        Drop.quality == "incorrect", Drop.note.is_not(None))  # type: ignore[union-attr]
        .distinct()).all()
    assert rows
    for category, code, note in rows:
        assert code is None or code in DEMO_REASONS[category], (category, code)
        assert note in INCORRECT_NOTES[code or DEMO_REASONS[category][0]], (category, code, note)
    # Each note belongs to one reason only: a note never reads as another reason's.
    owners = [n for notes in INCORRECT_NOTES.values() for n in notes]
    assert len(owners) == len(set(owners))
