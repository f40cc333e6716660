"""Scope cases of the volunteers module, split by owner: stewards, shifts, check-in, hours."""
from tests.volunteers import scope_checkin, scope_hours, scope_shifts, scope_stewards  # noqa: F401
