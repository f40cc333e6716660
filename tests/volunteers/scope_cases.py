"""Scope cases of the volunteers module, split by owner: stewards, shifts, check-in, hours."""
from tests.volunteers.checkins import scope_cases as checkin_cases  # noqa: F401
from tests.volunteers.hours import scope_cases as hours_cases  # noqa: F401
from tests.volunteers.shifts import scope_cases as shift_cases  # noqa: F401
from tests.volunteers.stewards import scope_cases as steward_cases  # noqa: F401
from tests.volunteers.wallet import scope_cases as wallet_cases  # noqa: F401
