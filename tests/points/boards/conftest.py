"""Fixtures of the honour-board tests: empty ranking caches and a ranked November."""
from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from community.points.boards import queries as boards
from tests import builders
from tests.points.boards.helpers import earn as _earn
from tests.points.boards.helpers import household as _household


@pytest.fixture(autouse=True)
def _fresh_rankings():
    """Area rankings are cached per (database, area, month); ids repeat across test databases."""
    boards.forget_rankings()
    yield
    boards.forget_rankings()


@pytest.fixture
def ranked(session: Session, world: builders.World):
    """Community A this November: 101 and 102 tie at 6, 103 has 2, an opted-out household has
    8, one has nothing and a moved-out one has 6."""
    h1, h2, h3 = world.households_a
    opted = _household(session, world.a, "2", "201", opt_out=True)
    idle = _household(session, world.a, "2", "202")
    gone = _household(session, world.a, "2", "203", status="moved_out")
    _earn(session, h1, date(2026, 11, 2), "hazardous", "hazardous")
    _earn(session, h2, date(2026, 11, 3), "kitchen", "kitchen", "kitchen")
    _earn(session, h3, date(2026, 11, 4), "kitchen")
    _earn(session, opted, date(2026, 11, 5), "hazardous", "hazardous")
    _earn(session, opted, date(2026, 11, 6), "kitchen")
    _earn(session, gone, date(2026, 11, 5), "hazardous", "hazardous")
    return world, opted, idle, gone

