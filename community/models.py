"""Imports every module's tables so `SQLModel.metadata` is complete (for Alembic and tests)."""
from community.areas.models import Area
from community.audit.models import AuditEntry
from community.auth.models import Account, RoleGrant
from community.auth.phone.models import SmsCode, SmsSendCount
from community.casework.models import CaseRuleSet, CaseworkCursor, MisdropCase, VerdictAudit
from community.collection.models import (
    Collection,
    CollectionLine,
    PickupRange,
    PickupVersion,
    StationTag,
)
from community.dirty.models import DirtyDay
from community.households.models import (
    Card,
    Household,
    HouseholdInvitation,
    HouseholdJoinCode,
    HouseholdMember,
)
from community.inbox.models import NoticeSetting, Notification, SmsOutbox
from community.points.models import (
    LedgerEntry,
    PointsAccount,
    PointsRuleSet,
    Redemption,
    RewardItem,
)
from community.ratings.models import (
    BuildingDay,
    CommunityDay,
    CoverageDay,
    HourDay,
    HouseholdMonth,
    Rating,
    RatingChange,
    RatingPolicy,
    RollupDay,
    StationDay,
    TonnageEntry,
)
from community.reports.models import Report, ReportDeadlineSet, ReportEscalation, ReportPlus
from community.scheduler.models import JobRun
from community.stations.appeals.models import DropAppeal
from community.stations.models import (
    Device,
    Drop,
    DropRegrade,
    MisdropReason,
    ScanSetting,
    ScheduleRange,
    ScheduleVersion,
    Station,
    StationException,
    StationStatusEvent,
    StationWindow,
)
from community.volunteers.models import (
    Shift,
    ShiftAssignment,
    Steward,
    StewardInvite,
    SupervisionLog,
)

__all__ = [
    "BuildingDay", "CommunityDay", "CoverageDay", "HourDay", "HouseholdMonth", "Rating",
    "RatingChange", "RatingPolicy", "RollupDay", "StationDay", "TonnageEntry",
    "Account", "Area", "AuditEntry", "Card", "Device", "DirtyDay", "Drop", "DropRegrade",
    "MisdropReason", "ScanSetting",
    "Household", "HouseholdInvitation", "HouseholdJoinCode", "HouseholdMember", "JobRun",
    "LedgerEntry", "PointsAccount", "PointsRuleSet",
    "Redemption", "Notification", "RewardItem", "RoleGrant", "ScheduleRange", "ScheduleVersion",
    "Shift", "ShiftAssignment", "Station", "StationException", "StationStatusEvent",
    "StationWindow", "Steward", "StewardInvite", "SupervisionLog", "SmsCode", "SmsSendCount",
    "CaseRuleSet", "CaseworkCursor", "MisdropCase", "VerdictAudit",
    "NoticeSetting", "SmsOutbox", "DropAppeal",
    "Collection", "CollectionLine", "PickupRange", "PickupVersion", "StationTag",
    "Report", "ReportDeadlineSet", "ReportEscalation", "ReportPlus",
]
