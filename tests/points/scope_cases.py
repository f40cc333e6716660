"""Scope cases of the points module, split by owner: manager views, honour boards, rewards."""
from tests.points import scope_board, scope_rewards, scope_views  # noqa: F401
