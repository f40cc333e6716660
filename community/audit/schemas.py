"""The audit log's codes: the actions and target types an entry records.

One `StrEnum` with one label table each (lazy labels, str() them where text is needed). Only
the actions with a label are members: the page shows any other code as the code itself.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from community.waste import QUALITY_LABELS


class Action(StrEnum):
    """The audit actions the log page names (`AuditEntry.action`)."""

    LOGIN_OK = "login.ok"
    LOGIN_FAILED = "login.failed"
    ACCOUNT_CREATED = "account.created"
    ACCOUNT_SIGNUP = "account.signup"  # a resident signed up by phone and SMS code
    ACCOUNT_PASSWORD_RESET = "account.password_reset"  # noqa: S105 (an action code)
    ROLE_GRANTED = "role.granted"
    ROLE_REVOKED = "role.revoked"
    AREA_CREATED = "area.created"
    AREA_RENAMED = "area.renamed"
    COMMUNITY_LINK_MODE = "community.link_mode"
    HOUSEHOLD_CREATED = "household.created"
    HOUSEHOLD_UPDATED = "household.updated"
    HOUSEHOLDS_IMPORTED = "households.imported"
    HOUSEHOLD_LINK_REQUESTED = "household.link_requested"
    HOUSEHOLD_LINK_APPROVED = "household.link_approved"
    HOUSEHOLD_LINK_REJECTED = "household.link_rejected"
    HOUSEHOLD_LINKED = "household.linked"
    HOUSEHOLD_LINK_FAILED = "household.link_failed"
    COMMUNITY_JOIN_REQUESTS = "community.join_requests"
    HOUSEHOLD_JOINED = "household.joined"
    HOUSEHOLD_JOIN_FAILED = "household.join_failed"
    HOUSEHOLD_MEMBER_REMOVED = "household.member_removed"
    HOUSEHOLD_HEAD_CHANGED = "household.head_changed"
    HOUSEHOLD_INVITATION_CREATED = "household.invitation_created"
    HOUSEHOLD_INVITATION_REVOKED = "household.invitation_revoked"
    JOIN_SLIPS_PRINTED = "household.join_slips_printed"
    ACCOUNT_DISABLED = "account.disabled"
    CARD_ISSUED = "card.issued"
    CARD_REISSUED = "card.reissued"
    CARD_REVOKED = "card.revoked"
    CARD_EXPORTED = "card.exported"
    CARDS_PRINTED = "cards.printed"
    ACCOUNT_ENABLED = "account.enabled"
    ACCOUNT_CLOSED = "account.closed"
    ACCOUNT_PASSWORD_CHANGED = "account.password_changed"  # noqa: S105 (an action code)
    HOUSEHOLD_HONOUR_OPT_OUT = "household.honour_opt_out"
    CASEWORK_RULES_PUBLISHED = "casework.rules_published"
    CASEWORK_CASE_OPENED = "casework.case_opened"
    CASEWORK_CASE_CLOSED = "casework.case_closed"
    CASEWORK_CASE_WITHDRAWN = "casework.case_withdrawn"
    CASEWORK_CASE_ASSIGNED = "casework.case_assigned"
    CASEWORK_TASK_DONE = "casework.task_done"
    CASEWORK_VERDICT_AUDITED = "casework.verdict_audited"
    DEVICE_ISSUED = "device.issued"
    DEVICE_REVOKED = "device.revoked"
    DROP_VOIDED = "drop.voided"
    DROP_APPEALED = "drop.appealed"
    DROP_APPEAL_DECIDED = "drop.appeal_decided"
    DROP_REGRADED = "drop.regraded"
    DROP_PHOTO_REPLACED = "drop.photo_replaced"
    DROPS_EXPORTED = "drops.exported"
    POINTS_ADJUSTED = "points.adjusted"
    POINTS_EXPORTED = "points.exported"
    POINTS_RULES_PUBLISHED = "points.rules_published"
    RATINGS_POLICY_PUBLISHED = "ratings.policy_published"
    REASON_EDITED = "reason.edited"
    REASON_ADDED = "reason.added"
    REASON_DEACTIVATED = "reason.deactivated"
    REASON_ACTIVATED = "reason.activated"
    REWARD_SAVED = "reward.saved"
    REWARD_ACTIVE = "reward.active"
    REWARD_RETIRED = "reward.retired"
    REWARD_CANCELLED = "reward.cancelled"
    SHIFT_ASSIGNED = "shift.assigned"
    SHIFT_UNASSIGNED = "shift.unassigned"
    SHIFT_NEEDED = "shift.needed"
    SHIFT_CONFIRM_PRESENCE = "shift.confirm_presence"
    SHIFTS_GENERATED = "shifts.generated"
    STATION_CREATED = "station.created"
    STATION_UPDATED = "station.updated"
    STATION_STATUS = "station.status"
    STATION_WINDOWS = "station.windows"
    STATION_EXCEPTION_ADDED = "station.exception_added"
    STATION_EXCEPTION_REMOVED = "station.exception_removed"
    STATION_CHIEF_APPOINTED = "station.chief_appointed"
    STATION_CHIEF_REMOVED = "station.chief_removed"
    STEWARD_APPLIED = "steward.applied"
    STEWARD_APPROVED = "steward.approved"
    STEWARD_REJECTED = "steward.rejected"
    STEWARD_JOINED = "steward.joined"
    STEWARD_RETIRED = "steward.retired"
    STEWARD_TRAINING = "steward.training"
    STEWARD_INVITE_CREATED = "steward_invite.created"
    STEWARD_INVITE_REVOKED = "steward_invite.revoked"
    TONNAGE_SAVED = "tonnage.saved"
    VOLUNTEERS_HOURS_APPROVED = "volunteers.hours_approved"
    VOLUNTEERS_HOURS_EXPORTED = "volunteers.hours_exported"
    JOB_RUN_BY_HAND = "job.run_by_hand"
    CASEWORK_REFUND_CORRECTED = "casework.refund_corrected"
    REPORT_FILED = "report.filed"
    REPORT_JOINED = "report.joined"  # a +1: the same problem joined to an open report
    REPORT_STARTED = "report.started"
    REPORT_HANDLED = "report.handled"
    REPORT_CONFIRMED = "report.confirmed"
    REPORT_REOPENED = "report.reopened"
    REPORT_DEADLINES_PUBLISHED = "report.deadlines_published"


class Target(StrEnum):
    """The kinds of thing an audit entry is about (`AuditEntry.target_type`)."""

    ACCOUNT = "account"
    AREA = "area"
    HOUSEHOLD = "household"
    CARD = "card"
    CASE_RULE_SET = "case_rule_set"
    DEVICE = "device"
    DROP = "drop"
    MISDROP_CASE = "misdrop_case"
    MISDROP_REASON = "misdrop_reason"
    POINTS_RULE_SET = "points_rule_set"
    RATING_POLICY = "rating_policy"
    REDEMPTION = "redemption"
    REWARD_ITEM = "reward_item"
    SHIFT = "shift"
    SHIFT_ASSIGNMENT = "shift_assignment"
    STATION = "station"
    STEWARD = "steward"
    STEWARD_INVITE = "steward_invite"
    TONNAGE_ENTRY = "tonnage_entry"
    VERDICT_AUDIT = "verdict_audit"
    REPORT = "report"
    REPORT_DEADLINE_SET = "report_deadline_set"


# Keyed by the enum members, which equal their stored codes.
ACTION_LABELS: dict[str, Any] = {
    Action.LOGIN_OK: _l("Logged in"),
    Action.LOGIN_FAILED: _l("Login failed"),
    Action.ACCOUNT_CREATED: _l("Account created"),
    Action.ACCOUNT_SIGNUP: _l("Signed up by phone"),
    Action.ACCOUNT_PASSWORD_RESET: _l("Password reset"),
    Action.ROLE_GRANTED: _l("Role granted"),
    Action.ROLE_REVOKED: _l("Role removed"),
    Action.AREA_CREATED: _l("Area added"),
    Action.AREA_RENAMED: _l("Area renamed"),
    Action.COMMUNITY_LINK_MODE: _l("Card linking mode changed"),
    Action.HOUSEHOLD_CREATED: _l("Household added"),
    Action.HOUSEHOLD_UPDATED: _l("Household changed"),
    Action.HOUSEHOLDS_IMPORTED: _l("Households imported"),
    Action.HOUSEHOLD_LINK_REQUESTED: _l("Household link requested"),
    Action.HOUSEHOLD_LINK_APPROVED: _l("Household link approved"),
    Action.HOUSEHOLD_LINK_REJECTED: _l("Household link rejected"),
    Action.HOUSEHOLD_LINKED: _l("Account linked to household"),
    Action.HOUSEHOLD_LINK_FAILED: _l("Household link failed"),
    Action.COMMUNITY_JOIN_REQUESTS: _l("Join requests setting changed"),
    Action.HOUSEHOLD_JOINED: _l("Joined a household"),
    Action.HOUSEHOLD_JOIN_FAILED: _l("Joining a household failed"),
    Action.HOUSEHOLD_MEMBER_REMOVED: _l("Household member removed"),
    Action.HOUSEHOLD_HEAD_CHANGED: _l("Household head changed"),
    Action.HOUSEHOLD_INVITATION_CREATED: _l("Household invitation created"),
    Action.HOUSEHOLD_INVITATION_REVOKED: _l("Household invitation revoked"),
    Action.JOIN_SLIPS_PRINTED: _l("Join slips printed"),
    Action.ACCOUNT_DISABLED: _l("Account disabled"),
    Action.CARD_ISSUED: _l("Card issued"),
    Action.CARD_REISSUED: _l("Card reissued"),
    Action.CARD_REVOKED: _l("Card revoked"),
    Action.CARD_EXPORTED: _l("Cards exported"),
    Action.CARDS_PRINTED: _l("Cards printed"),
    Action.ACCOUNT_ENABLED: _l("Account enabled"),
    Action.ACCOUNT_CLOSED: _l("Account closed"),
    Action.ACCOUNT_PASSWORD_CHANGED: _l("Password changed"),
    Action.HOUSEHOLD_HONOUR_OPT_OUT: _l("Honour roll setting changed"),
    Action.CASEWORK_RULES_PUBLISHED: _l("Case rules published"),
    Action.CASEWORK_CASE_OPENED: _l("Case opened"),
    Action.CASEWORK_CASE_CLOSED: _l("Case closed"),
    Action.CASEWORK_CASE_WITHDRAWN: _l("Case withdrawn"),
    Action.CASEWORK_CASE_ASSIGNED: _l("Case assigned"),
    Action.CASEWORK_TASK_DONE: _l("Education task done"),
    Action.CASEWORK_VERDICT_AUDITED: _l("Verdict audited"),
    Action.DEVICE_ISSUED: _l("Device registered"),
    Action.DEVICE_REVOKED: _l("Device revoked"),
    Action.DROP_VOIDED: _l("Drop undone"),
    Action.DROP_APPEALED: _l("Drop appealed"),
    Action.DROP_APPEAL_DECIDED: _l("Appeal decided"),
    Action.DROP_REGRADED: _l("Drop regraded"),
    Action.DROP_PHOTO_REPLACED: _l("Drop photo replaced"),
    Action.DROPS_EXPORTED: _l("Drops exported"),
    Action.POINTS_ADJUSTED: _l("Points adjusted"),
    Action.POINTS_EXPORTED: _l("Points exported"),
    Action.POINTS_RULES_PUBLISHED: _l("Points rules published"),
    Action.RATINGS_POLICY_PUBLISHED: _l("Rating policy published"),
    Action.REASON_EDITED: _l("Mis-drop reason saved"),
    Action.REASON_ADDED: _l("Mis-drop reason added"),
    Action.REASON_DEACTIVATED: _l("Mis-drop reason deactivated"),
    Action.REASON_ACTIVATED: _l("Mis-drop reason restored"),
    Action.REWARD_SAVED: _l("Reward saved"),
    Action.REWARD_ACTIVE: _l("Reward restored"),
    Action.REWARD_RETIRED: _l("Reward retired"),
    Action.REWARD_CANCELLED: _l("Redemption cancelled"),
    Action.SHIFT_ASSIGNED: _l("Shift assigned"),
    Action.SHIFT_UNASSIGNED: _l("Shift assignment removed"),
    Action.SHIFT_NEEDED: _l("Shift staffing changed"),
    Action.SHIFT_CONFIRM_PRESENCE: _l("Presence confirmed"),
    Action.SHIFTS_GENERATED: _l("Shifts generated"),
    Action.STATION_CREATED: _l("Station added"),
    Action.STATION_UPDATED: _l("Station changed"),
    Action.STATION_STATUS: _l("Station status changed"),
    Action.STATION_WINDOWS: _l("Station hours changed"),
    Action.STATION_EXCEPTION_ADDED: _l("Station closure added"),
    Action.STATION_EXCEPTION_REMOVED: _l("Station closure removed"),
    Action.STATION_CHIEF_APPOINTED: _l("Station chief appointed"),
    Action.STATION_CHIEF_REMOVED: _l("Station chief removed"),
    Action.STEWARD_APPLIED: _l("Steward application"),
    Action.STEWARD_APPROVED: _l("Steward approved"),
    Action.STEWARD_REJECTED: _l("Steward rejected"),
    Action.STEWARD_JOINED: _l("Steward joined"),
    Action.STEWARD_RETIRED: _l("Steward retired"),
    Action.STEWARD_TRAINING: _l("Steward training recorded"),
    Action.STEWARD_INVITE_CREATED: _l("Steward invitation created"),
    Action.STEWARD_INVITE_REVOKED: _l("Steward invitation revoked"),
    Action.TONNAGE_SAVED: _l("Tonnage saved"),
    Action.VOLUNTEERS_HOURS_APPROVED: _l("Volunteer hours approved"),
    Action.VOLUNTEERS_HOURS_EXPORTED: _l("Volunteer hours exported"),
    Action.JOB_RUN_BY_HAND: _l("Job run by hand"),
    Action.CASEWORK_REFUND_CORRECTED: _l("Case refund corrected"),
    Action.REPORT_FILED: _l("Report filed"),
    Action.REPORT_JOINED: _l("Report joined (+1)"),
    Action.REPORT_STARTED: _l("Report taken on"),
    Action.REPORT_HANDLED: _l("Report handled"),
    Action.REPORT_CONFIRMED: _l("Report fix confirmed"),
    Action.REPORT_REOPENED: _l("Report reopened"),
    Action.REPORT_DEADLINES_PUBLISHED: _l("Report deadlines published"),
}
TARGET_LABELS: dict[str, Any] = {
    Target.ACCOUNT: _l("Account"),
    Target.AREA: _l("Area"),
    Target.HOUSEHOLD: _l("Household"),
    Target.CARD: _l("Card"),
    Target.CASE_RULE_SET: _l("Case rules"),
    Target.DEVICE: _l("Device"),
    Target.DROP: _l("Drop"),
    Target.MISDROP_CASE: _l("Mis-drop case"),
    Target.MISDROP_REASON: _l("Mis-drop reason"),
    Target.POINTS_RULE_SET: _l("Points rules"),
    Target.RATING_POLICY: _l("Rating policy"),
    Target.REDEMPTION: _l("Redemption"),
    Target.REWARD_ITEM: _l("Reward"),
    Target.SHIFT: _l("Shift"),
    Target.SHIFT_ASSIGNMENT: _l("Shift assignment"),
    Target.STATION: _l("Station"),
    Target.STEWARD: _l("Steward"),
    Target.STEWARD_INVITE: _l("Steward invitation"),
    Target.TONNAGE_ENTRY: _l("Tonnage entry"),
    Target.VERDICT_AUDIT: _l("Verdict audit"),
    Target.REPORT: _l("Report"),
    Target.REPORT_DEADLINE_SET: _l("Report deadlines"),
}

# The detail keys an entry may carry (`AuditEntry.detail`); an unknown key shows as itself.
DETAIL_LABELS: dict[str, Any] = {
    "account": _l("Account"), "address": _l("Address"), "agrees": _l("Agrees with the steward"),
    "allowed": _l("Allowed"), "amount": _l("Amount"), "assignee_id": _l("Assigned to"),
    "building": _l("Building"), "cancelled": _l("Cancelled"), "card": _l("Card"),
    "changes": _l("Changes"), "code": _l("Code"), "cost": _l("Cost"), "count": _l("Count"),
    "created": _l("Created"), "day": _l("Day"), "day_from": _l("From"), "day_to": _l("To"),
    "days": _l("Days"), "device_id": _l("Device"), "drop_id": _l("Drop"),
    "due_on": _l("Due on"), "effective_from": _l("Effective from"),
    "effective_month": _l("Effective month"), "file": _l("File"), "fmt": _l("Format"),
    "format": _l("Format"), "held": _l("Held"), "hide": _l("Hidden"), "hours": _l("Hours"),
    "household_id": _l("Household"), "households": _l("Households"),
    "invitation": _l("Invitation"), "invite": _l("Invitation"), "kind": _l("Kind"),
    "login": _l("Login"), "max_uses": _l("Maximum uses"), "member": _l("Member"),
    "method": _l("Method"), "minutes": _l("Minutes"), "month": _l("Month"), "name": _l("Name"),
    "new": _l("New"), "new_card": _l("New card"), "old": _l("Old"), "old_card": _l("Old card"),
    "outcome": _l("Outcome"), "points": _l("Points"), "quality": _l("Quality"),
    "reason": _l("Reason"), "recorded": _l("Recorded"), "refunded": _l("Refunded"),
    "rejected": _l("Rejected"), "role": _l("Role"), "rows": _l("Rows"),
    "schedule": _l("Schedule"), "shift_id": _l("Shift"), "station_id": _l("Station"),
    "status": _l("Status"), "steward_id": _l("Steward"), "stock": _l("Stock"),
    "strikes": _l("Strikes"), "task": _l("Task"), "trained_on": _l("Trained on"),
    "training": _l("Training"), "trigger_drop_id": _l("Triggering drop"),
    "unchanged": _l("Unchanged"), "updated": _l("Updated"), "version": _l("Version"),
    "via": _l("Via"), "was_head": _l("Was household head"), "weeks": _l("Weeks"),
    "job": _l("Job"), "outcomes": _l("Outcomes"), "join_code": _l("Join slip"), "was": _l("Was"),
    "deserved": _l("Deserved"), "cause": _l("Cause"), "on_time": _l("On time"),
    "photo": _l("Photo"),
}
# A detail naming a stored file (its internal path) reads as what was attached, per action.
FILE_KEYS = frozenset({"photo"})
FILE_LABELS: dict[str, Any] = {
    "report.filed": _l("photo attached"), "report.joined": _l("+1 photo attached"),
    "report.handled": _l("after-photo attached"),
}
FILE_LABEL = _l("photo attached")

# Where an entry's attached file opens (the module that keeps it registers its actions; the
# file's own route decides who may see it).
FILE_LINKS: dict[str, Callable[[Any], str | None]] = {}


def register_file_link(actions: Iterable[str], link: Callable[[Any], str | None]
                       ) -> None:
    """Link the file named in these actions' entries (`link(entry)`: its URL, or None)."""
    for action in actions:
        FILE_LINKS[action] = link


# Coded values, keyed by the detail key (or "*" for any key).
DETAIL_VALUES: dict[str, dict[Any, Any]] = {
    "quality": QUALITY_LABELS,
    "outcome": {"upheld": _l("verdict upheld"), "regraded": _l("regraded"),
                "open": _l("open")},
    "status": {"active": _l("active"), "retired": _l("retired"), "inactive": _l("inactive"),
               "open": _l("open"), "closed": _l("closed"), "cancelled": _l("cancelled")},
    "via": {"invitation": _l("Invitation"), "join_code": _l("Join slip"),
            "approval": _l("Manager approval"), "legacy": _l("Card link code (before 2026-12)")},
    "fmt": {"csv": "CSV", "xlsx": "Excel"},
    "format": {"csv": "CSV", "xlsx": "Excel"},
    "*": {True: _l("Yes"), False: _l("No")},
}


def detail_value(key: str, value: Any) -> str:
    """One detail value in words: the coded values of its key, yes/no, or the value itself."""
    family = "quality" if key.endswith("quality") else key
    if value is None:
        return "—"  # was "None" (e.g. "building: None")
    if isinstance(value, bool):
        return str(DETAIL_VALUES["*"][value])
    if key in FILE_KEYS:
        return str(_l("attached"))  # never the internal path
    if isinstance(value, str) and value in DETAIL_VALUES.get(family, {}):
        return str(DETAIL_VALUES[family][value])
    return str(value)


def describe_detail(detail: dict[str, Any], *, role_label: Any = str) -> list[str]:
    """An entry's detail as "label: value" texts; a from_X/to_X pair reads "X: a → b"."""
    out: list[str] = []
    for key, value in detail.items():
        if key.startswith("to_") and f"from_{key[3:]}" in detail:
            continue  # told with its from_ pair
        if key.startswith("from_") and f"to_{key[5:]}" in detail:
            base = key[5:]
            label = DETAIL_LABELS.get(base, base)
            out.append(gettext("%(label)s: %(value)s", label=str(label), value=(
                f"{detail_value(base, value)} → {detail_value(base, detail[f'to_{base}'])}")))
            continue
        text = str(role_label(value)) if key == "role" else detail_value(key, value)
        out.append(gettext("%(label)s: %(value)s", label=str(DETAIL_LABELS.get(key, key)),
                           value=text))
    return out
