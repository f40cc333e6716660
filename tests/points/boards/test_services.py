"""Honour boards (红榜): a household's members hide it from the boards, on both backends."""
from __future__ import annotations

import pytest
from sqlmodel import Session

from community.points.boards import services as boards
from community.points.boards.schemas import OptOutIn
from tests import builders
from tests.points.boards.helpers import member as _member

# --- Opt-out service -----------------------------------------------------------------------

def test_opt_out_needs_approved_membership(session: Session, world: builders.World) -> None:
    from community.errors import InvalidInput, NotFound

    h1, h2, _h3 = world.households_a
    _member(session, h1, world.resident_a.id)
    _member(session, h2, world.resident_a.id, status="pending")
    got = boards.set_honour_opt_out(session, account_id=world.resident_a.id,
                                    data=OptOutIn.parse(household_id=h1.id, hide=True))
    session.commit()
    assert got.honour_opt_out is True
    for hid in (h2.id, world.households_b[0].id, 10**6):
        with pytest.raises(NotFound):
            boards.set_honour_opt_out(session, account_id=world.resident_a.id,
                                      data=OptOutIn.parse(household_id=hid, hide=True))
    with pytest.raises(InvalidInput):
        boards.set_honour_opt_out(session, account_id=world.resident_a.id,
                                  data=OptOutIn.parse(household_id=h1.id, hide="yes"))
    session.rollback()
    session.refresh(h2)
    assert h2.honour_opt_out is False

