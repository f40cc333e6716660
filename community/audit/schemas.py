"""The audit log's codes: the actions and target types an entry records.

One `StrEnum` with one label table each (lazy labels, str() them where text is needed). Only
the actions with a label are members: the page shows any other code as the code itself.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l


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


class Target(StrEnum):
    """The kinds of thing an audit entry is about (`AuditEntry.target_type`)."""

    ACCOUNT = "account"
    AREA = "area"
    HOUSEHOLD = "household"
    CARD = "card"


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
}
TARGET_LABELS: dict[str, Any] = {
    Target.ACCOUNT: _l("Account"),
    Target.AREA: _l("Area"),
    Target.HOUSEHOLD: _l("Household"),
    Target.CARD: _l("Card"),
}
