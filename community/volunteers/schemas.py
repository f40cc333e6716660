"""The volunteers' stored codes: one `StrEnum` with one label table each.

They sit here, beside the tables, because `models` (below every sub-package) derives its code
tuples from them, and check-ins and hours both read the assignments' codes. Member values are
the stored strings; the labels are lazy (translated when shown: str() them where text is
needed).
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l


class Incident(StrEnum):
    """What a steward may count in a supervision log (the keys of `SupervisionLog.incidents`)."""

    LATE_DROP = "late_drop"
    DUMPING = "dumping"
    FULL_BIN = "full_bin"
    BROKEN_STATION = "broken_station"
    OTHER = "other"


class AssignmentStatus(StrEnum):
    """Where a steward's shift assignment stands."""

    SIGNED_UP = "signed_up"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    DONE = "done"


class CheckMethod(StrEnum):
    """How a steward was checked in (code, chief) or out (also auto, at the shift's end)."""

    CODE = "code"
    CHIEF = "chief"
    AUTO = "auto"


class HoursStatus(StrEnum):
    """Whether an assignment's hours wait for the manager or were approved."""

    PENDING = "pending"
    APPROVED = "approved"


INCIDENT_LABELS: dict[str, Any] = {
    Incident.LATE_DROP: _l("Out-of-window drops seen"),
    Incident.DUMPING: _l("Dumping"),
    Incident.FULL_BIN: _l("Full bins"),
    Incident.BROKEN_STATION: _l("Broken station equipment"),
    Incident.OTHER: _l("Other incidents"),
}
ASSIGNMENT_STATUS_LABELS: dict[str, Any] = {
    AssignmentStatus.SIGNED_UP: _l("Registered"),
    AssignmentStatus.CANCELLED: _l("Cancelled"),
    AssignmentStatus.NO_SHOW: _l("No-show"),
    AssignmentStatus.DONE: _l("Completed"),
}
METHOD_LABELS: dict[str, Any] = {
    CheckMethod.CODE: _l("Station code"),
    CheckMethod.CHIEF: _l("Confirmed by hand"),
    CheckMethod.AUTO: _l("Automatic at the end"),
}
HOURS_STATUS_LABELS: dict[str, Any] = {
    HoursStatus.PENDING: _l("Hours pending approval"),
    HoursStatus.APPROVED: _l("Hours approved"),
}
