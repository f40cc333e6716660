"""The auth module's input models: the one place the rules of logins, accounts and grants live.

Phone numbers and usernames are normalised here (spaces, dashes and +86 dropped; usernames
lower-cased), so the pages, the CLI and the demo store the same spelling. Passwords are never
stripped: a space is part of a password.
"""
from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from flask_babel import lazy_gettext as _l
from pydantic import AfterValidator, BeforeValidator, StringConstraints, model_validator

from community.schemas import InputModel, Say, fail


class Role(StrEnum):
    """The roles a grant gives (`RoleGrant.role`), lowest first."""

    RESIDENT = "resident"
    STEWARD = "steward"
    STATION_CHIEF = "station_chief"
    MANAGER = "manager"
    AREA_ADMIN = "area_admin"
    CITY_ADMIN = "city_admin"


# Keyed by the enum members, which equal their stored codes; lazy labels (str() them where
# text is needed).
ROLE_LABELS: dict[str, Any] = {
    Role.RESIDENT: _l("Resident"),
    Role.STEWARD: _l("Steward"),
    Role.STATION_CHIEF: _l("Station chief"),
    Role.MANAGER: _l("Community manager"),
    Role.AREA_ADMIN: _l("Street/district admin"),
    Role.CITY_ADMIN: _l("City admin"),
}

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{2,63}$")
MIN_PASSWORD, MAX_PASSWORD = 8, 128

REQUIRED = _l("This field is required.")
NAME_LENGTH = _l("At most 80 characters.")
PASSWORD_LENGTH = _l("Use 8 to 128 characters.")
USERNAME_LENGTH = _l("Use 3 to 64 characters.")
USERNAME_RULE = _l("A username starts with a letter and has 3 to 64 letters, digits, dots, "
                   "dashes or underscores.")
PHONE_RULE = _l("Enter an 11-digit mobile number.")
ROLE_RULE = _l("Choose a role you may give.")


def normalize_phone(value: str) -> str:
    """Strip spaces, dashes and a +86 prefix from a mainland mobile number."""
    digits = re.sub(r"[\s-]", "", value or "")
    return digits[3:] if digits.startswith("+86") else digits


def _phone_or_none(value: Any) -> Any:
    """A typed phone number in its stored spelling; an empty box is no phone."""
    if value is None or not isinstance(value, str):
        return value
    return normalize_phone(value) or None


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _not_blank(value: Any) -> Any:
    """A password of only spaces is no password (the text itself is kept as typed)."""
    if isinstance(value, str) and not value.strip():
        raise ValueError("blank")
    return value


def _known_role(role: str) -> str:
    if role not in tuple(Role):
        raise ValueError("unknown role")
    return role


# The blank check wraps (runs before) the length, so an empty box reads "required".
Password = Annotated[str, StringConstraints(
    strip_whitespace=False, min_length=MIN_PASSWORD, max_length=MAX_PASSWORD),
    BeforeValidator(_not_blank), Say(PASSWORD_LENGTH, {"missing": REQUIRED,
                                                       "value_error": REQUIRED})]
Username = Annotated[str, StringConstraints(min_length=3, max_length=64, to_lower=True,
                                            pattern=USERNAME_RE.pattern)]
Phone = Annotated[str, StringConstraints(pattern=PHONE_RE.pattern)]
RoleCode = Annotated[str, StringConstraints(min_length=1), AfterValidator(_known_role), Say(
    REQUIRED, {"value_error": ROLE_RULE})]
AreaId = Annotated[int, Say(REQUIRED)]


class LoginIn(InputModel):
    """Phone number or username, and password, as typed on the login page."""

    login: Annotated[str, StringConstraints(min_length=1, max_length=64), Say(
        by_type={"missing": REQUIRED, "string_too_short": REQUIRED})]
    password: Annotated[str, StringConstraints(strip_whitespace=False, max_length=MAX_PASSWORD),
                        BeforeValidator(_not_blank), Say(
                            by_type={"missing": REQUIRED, "value_error": REQUIRED})]


class AccountIn(InputModel):
    """A new account: a name, a username or a phone number (or both), and a password."""

    display_name: Annotated[str, StringConstraints(min_length=1, max_length=80), Say(
        REQUIRED, {"string_too_long": NAME_LENGTH})]
    username: Annotated[Username | None, BeforeValidator(_blank_to_none), Say(
        USERNAME_RULE, {"string_too_short": USERNAME_LENGTH,
                        "string_too_long": USERNAME_LENGTH})] = None
    phone: Annotated[Phone | None, BeforeValidator(_phone_or_none), Say(PHONE_RULE)] = None
    password: Password

    @model_validator(mode="after")
    def _a_login_name(self) -> AccountIn:
        if self.username is None and self.phone is None:
            raise fail("username", _l("Enter a username or a phone number."))
        return self


class GrantIn(InputModel):
    """A role to give in one area (whether the actor may give it there is the service's call)."""

    role: RoleCode
    area_id: AreaId


class AccountGrantIn(AccountIn):
    """A new account holding one role in one area (the admins' "new account" page)."""

    role: RoleCode
    area_id: AreaId

    def grant(self) -> GrantIn:
        """The role part of the input."""
        return GrantIn(role=self.role, area_id=self.area_id)


class PasswordIn(InputModel):
    """A new password set by an admin."""

    password: Password
