"""Inputs of the phone sign-in: the phone number (step 1) and the code (step 2).

A phone number is a mainland mobile number, stored as 11 digits `1[3-9]xxxxxxxxx`; spaces,
dashes and a +86 prefix are dropped (the same normalisation as the password login's).
"""
from __future__ import annotations

from typing import Annotated, Any

from flask_babel import lazy_gettext as _l
from pydantic import BeforeValidator, StringConstraints

from community.auth.schemas import PHONE_RE, normalize_phone
from community.schemas import InputModel, Say

REQUIRED = _l("This field is required.")
PHONE_RULE = _l("Enter an 11-digit mainland mobile number, e.g. 138 0013 8000.")
CODE_RULE = _l("Enter the 6-digit code from the text message.")
NAME_LENGTH = _l("At most 80 characters.")


def _phone(value: Any) -> Any:
    return normalize_phone(value) if isinstance(value, str) else value


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _digits(value: Any) -> Any:
    """People paste codes with spaces ("123 456"): keep the digits' order, drop the spaces."""
    return "".join(value.split()) if isinstance(value, str) else value


Name = Annotated[str, StringConstraints(max_length=80)]
PhoneNumber = Annotated[str, BeforeValidator(_phone), StringConstraints(
    pattern=PHONE_RE.pattern), Say(PHONE_RULE, {"missing": REQUIRED})]


class PhoneIn(InputModel):
    """Step 1: the phone number a code is sent to."""

    phone: PhoneNumber


class CodeIn(InputModel):
    """Step 2: the code, a name used only if the phone has no account yet, and whether a
    resident stays logged in on this device (staff sessions are never remembered)."""

    code: Annotated[str, BeforeValidator(_digits), StringConstraints(pattern=r"^\d{6}$"),
                    Say(CODE_RULE, {"missing": REQUIRED})]
    display_name: Annotated[Name | None, BeforeValidator(_blank_to_none),
                            Say(NAME_LENGTH)] = None
    remember: bool = False
