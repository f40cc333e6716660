"""Scope cases of the stations module, split by owner: API, manager views, steward page."""
from tests.stations import scope_api, scope_steward, scope_views  # noqa: F401
