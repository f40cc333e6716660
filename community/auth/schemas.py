"""The auth module's input models: the one place the rules of logins, accounts and grants live.

Phone numbers and usernames are normalised here (spaces, dashes and +86 dropped; usernames
lower-cased), so the pages, the CLI and the demo store the same spelling. Passwords are never
stripped: a space is part of a password.

A new password is checked in one place, `password_problem`: at least 10 characters, not one of
the common passwords (zxcvbn's dictionaries and its guess-count score), and not built on the
account's own username or phone number. The `Password` type applies it to every new password;
the models that know the account's login names (`AccountIn`, `PasswordIn`, `PasswordChangeIn`)
apply it again with those names.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Any

from flask_babel import lazy_gettext as _l
from pydantic import AfterValidator, BeforeValidator, StringConstraints, model_validator
from pydantic_core import PydanticCustomError
from zxcvbn import zxcvbn  # type: ignore[import-untyped]

from community.schemas import RULE, InputModel, Say, fail


class Role(StrEnum):
    """The roles a grant gives (`RoleGrant.role`), lowest first."""

    RESIDENT = "resident"
    STEWARD = "steward"
    STATION_CHIEF = "station_chief"
    # 收运员: picks the bins up at the stations of a street or district (community/collection).
    COLLECTOR = "collector"
    MANAGER = "manager"
    AREA_ADMIN = "area_admin"
    CITY_ADMIN = "city_admin"


# Keyed by the enum members, which equal their stored codes; lazy labels (str() them where
# text is needed).
ROLE_LABELS: dict[str, Any] = {
    Role.RESIDENT: _l("Resident"),
    Role.STEWARD: _l("Steward"),
    Role.STATION_CHIEF: _l("Station chief"),
    Role.COLLECTOR: _l("Collector"),
    Role.MANAGER: _l("Community manager"),
    Role.AREA_ADMIN: _l("Street/district admin"),
    Role.CITY_ADMIN: _l("City admin"),
}

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{2,63}$")
MIN_PASSWORD, MAX_PASSWORD = 10, 128
# zxcvbn's score (0-4, from its estimate of guesses): 0 and 1 fall to an online or a cheap
# offline attack.
MIN_PASSWORD_SCORE = 2

REQUIRED = _l("This field is required.")
NAME_LENGTH = _l("At most 80 characters.")
PASSWORD_LENGTH = _l("Use 10 to 128 characters.")
PASSWORD_COMMON = _l("This password is too common or too easy to guess. Try a few unrelated "
                     "words, or a longer sentence.")
PASSWORD_PERSONAL = _l("Do not use your username or phone number in your password.")
PASSWORDS_DIFFER = _l("The two new passwords differ.")
PASSWORD_UNCHANGED = _l("Choose a password different from the current one.")
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


def _personal_parts(login_names: Iterable[str | None]) -> list[str]:
    """The account's login names as zxcvbn user inputs: the name, the phone and its last
    eight digits (a password like `wang13800000001` is one guess away once the phone is known)."""
    parts: list[str] = []
    for name in login_names:
        value = (name or "").strip().lower()
        if len(value) >= 3:
            parts.append(value)
            digits = normalize_phone(value)
            if PHONE_RE.match(digits):
                parts += [digits, digits[-8:]]
    return parts


def password_problem(password: str, login_names: Iterable[str | None] = ()) -> Any | None:
    """Why a new password is refused (lazy words), or None when it is good enough.

    The one password rule: the length, then zxcvbn. Refused are passwords scoring below
    MIN_PASSWORD_SCORE, those that are mostly one of the most common passwords (a match in
    zxcvbn's "passwords" list covering half of it or more: `password2026!`, `woaini1314`),
    and those containing the account's username or phone number.
    """
    if len(password) < MIN_PASSWORD or len(password) > MAX_PASSWORD:
        return PASSWORD_LENGTH
    lowered = password.lower()
    personal = _personal_parts(login_names)
    if any(part in lowered for part in personal):
        return PASSWORD_PERSONAL
    # zxcvbn's cost grows with the length; 128 characters take a few milliseconds.
    result = zxcvbn(password, user_inputs=personal)
    if result["score"] < MIN_PASSWORD_SCORE:
        return PASSWORD_COMMON
    common = sum(len(m["token"]) for m in result["sequence"]
                 if m.get("dictionary_name") == "passwords")
    if common * 2 >= len(password):
        return PASSWORD_COMMON
    return None


def _good_password(value: str) -> str:
    """The `Password` type's check (without the account's login names)."""
    problem = password_problem(value)
    if problem is not None:
        raise PydanticCustomError(RULE, "{text}", {"text": problem})
    return value


def _check_personal(password: str, field_name: str, *login_names: str | None) -> None:
    """A model's second look at its password, now knowing the account's login names."""
    problem = password_problem(password, login_names)
    if problem is not None:
        raise fail(field_name, problem)


# The blank check wraps (runs before) the length, so an empty box reads "required".
Password = Annotated[str, StringConstraints(strip_whitespace=False, max_length=MAX_PASSWORD),
                     AfterValidator(_good_password), BeforeValidator(_not_blank),
                     Say(PASSWORD_LENGTH, {"missing": REQUIRED, "value_error": REQUIRED})]
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
    # "Keep me logged in on this phone": honoured for residents only (staff sessions are short).
    remember: bool = False


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
        _check_personal(self.password, "password", self.username, self.phone)
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
    """A new password set by an admin; `login_names` are the account's (not typed: the
    page passes them so the password cannot be built on them)."""

    password: Password
    login_names: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _not_personal(self) -> PasswordIn:
        _check_personal(self.password, "password", *self.login_names)
        return self


class PasswordChangeIn(InputModel):
    """A user changes their own password: the current one, and the new one twice.

    An account made by SMS sign-up has no password yet (`has_password` False, passed by the
    page like `login_names`): its owner, signed in by SMS code, sets one without a current
    password.
    """

    current_password: Annotated[str | None, StringConstraints(strip_whitespace=False,
                                                              max_length=MAX_PASSWORD)] = None
    new_password: Password
    confirm_password: Annotated[str, StringConstraints(strip_whitespace=False,
                                                       max_length=MAX_PASSWORD),
                                BeforeValidator(_not_blank), Say(
                                    by_type={"missing": REQUIRED, "value_error": REQUIRED})]
    login_names: tuple[str, ...] = ()
    has_password: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> PasswordChangeIn:
        if self.has_password and not (self.current_password or "").strip():
            raise fail("current_password", REQUIRED)
        if self.confirm_password != self.new_password:
            raise fail("confirm_password", PASSWORDS_DIFFER)
        if self.new_password == self.current_password:
            raise fail("new_password", PASSWORD_UNCHANGED)
        _check_personal(self.new_password, "new_password", *self.login_names)
        return self
