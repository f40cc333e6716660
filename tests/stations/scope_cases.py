"""Scope cases of the stations module, split by owner: API, steward page, manager pages."""
from tests.stations import scope_api, scope_views  # noqa: F401
from tests.stations.manage import scope_views as manage_scope_views  # noqa: F401
