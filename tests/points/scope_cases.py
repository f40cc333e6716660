"""Scope cases of the points module, split by owner: manager views, honour boards, rewards."""
from tests.points import scope_views  # noqa: F401
from tests.points.boards import scope_cases as _boards  # noqa: F401
from tests.points.rewards import scope_cases as _rewards  # noqa: F401
