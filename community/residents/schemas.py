"""The residents module's input models: the one place the rules of joining a household live."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from flask_babel import lazy_gettext as _l
from pydantic import AfterValidator, StringConstraints

from community.households import codes
from community.schemas import InputModel, Say

# How a member joined (`HouseholdMember.joined_via`), for the members pages.
VIA_LABELS: dict[str, Any] = {
    "invitation": _l("Invitation"),
    "join_code": _l("Join slip"),
    "approval": _l("Manager approval"),
    "legacy": _l("Card link code (before 2026-12)"),
}
ENTER_CODE = _l("Enter the code printed under the QR code.")
ENTER_JOIN_CODE = _l("Enter the 12-character join code printed on your household's join slip.")


def _join_code(text: str) -> str:
    code = codes.normalize_code(text)
    if not codes.is_join_code(code):
        raise ValueError("not a join code")
    return code


class LinkIn(InputModel):
    """A request for a manager's approval: the card's short code names the household.

    The card proves nothing (others see it at the station): the request only waits for a
    manager, who knows the household.
    """

    short_code: Annotated[str, StringConstraints(min_length=1, max_length=20), Say(
        by_type={"missing": ENTER_CODE, "string_too_short": ENTER_CODE})]


class JoinCodeIn(InputModel):
    """The one-time join code from a slip (spaces, dashes and case as typed are fine).

    `community_id` is the community the resident came from (a community's sign-up poster):
    a code of another community is refused rather than joining the wrong place.
    """

    code: Annotated[str, StringConstraints(max_length=30), AfterValidator(_join_code),
                    Say(ENTER_JOIN_CODE)]
    community_id: int | None = None


class CloseAccountIn(InputModel):
    """Closing one's own account (注销): a deliberate tick, never a single tap."""

    confirm: Annotated[Literal[True], Say(
        _l("Tick the box to confirm that you want to close your account."))]


class NoticesIn(InputModel):
    """How the resident wants to be told besides the inbox: text messages on or off."""

    sms: bool = False
