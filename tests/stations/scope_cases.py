"""Scope cases of the stations module, split by owner: API, steward page, manager pages,
appeals."""
from tests.stations import scope_api, scope_views  # noqa: F401
from tests.stations.appeals import scope_cases as appeals_scope_cases  # noqa: F401
from tests.stations.manage import scope_settings as manage_scope_settings  # noqa: F401
from tests.stations.manage import scope_views as manage_scope_views  # noqa: F401
