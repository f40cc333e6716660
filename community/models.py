"""Imports every module's tables so `SQLModel.metadata` is complete (for Alembic and tests)."""
from community.areas.models import Area
from community.audit.models import AuditEntry
from community.auth.models import Account, RoleGrant
from community.households.models import Card, Household, HouseholdMember
from community.points.models import LedgerEntry, PointsAccount, PointsRuleSet
from community.stations.models import (
    Device,
    Drop,
    DropRegrade,
    Station,
    StationException,
    StationWindow,
)

__all__ = [
    "Account", "Area", "AuditEntry", "Card", "Device", "Drop", "DropRegrade", "Household",
    "HouseholdMember", "LedgerEntry", "PointsAccount", "PointsRuleSet", "RoleGrant", "Station",
    "StationException", "StationWindow",
]
