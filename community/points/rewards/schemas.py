"""The rewards' input models: the one place the rules of a catalog item and of a manager's
cancellation live (the forms, the services and their other callers all go through them).

The catalog form's messages were WTForms' own ("This field is required.", "Number must be
between 1 and 100000."); `_wtforms` keeps those exact words, translated by WTForms' catalog
as before.
"""
from __future__ import annotations

from datetime import date
from enum import StrEnum
from functools import cache
from typing import Annotated, Any

from babel.support import NullTranslations, Translations
from flask_babel import LazyString, get_locale
from flask_babel import lazy_gettext as _l
from pydantic import Field, StrictInt, StringConstraints, model_validator
from wtforms.i18n import messages_path

from community.schemas import InputModel, Say, fail

MAX_COST = 100_000
MAX_STOCK = 1_000_000
NAME_MAX, DESCRIPTION_MAX, REASON_MAX = 60, 300, 200
CLIENT_ID_MAX = 40  # Redemption.client_id
MAX_HOUSEHOLD_LIMIT = 1000


class LimitPeriod(StrEnum):
    """The local calendar period a per-household limit counts redemptions in."""

    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class Audience(StrEnum):
    """Whose points may buy an item: everyone's, or only households' or stewards' own."""

    EVERYONE = "everyone"
    HOUSEHOLDS = "households"
    STEWARDS = "stewards"


AUDIENCE_LABELS = {
    Audience.EVERYONE: _l("Households and stewards"),
    Audience.HOUSEHOLDS: _l("Households only"),
    Audience.STEWARDS: _l("Stewards only (their own points)"),
}
# Who buys: a household (its members, with the household's points) or a steward (their own).
Buyer = str  # "household" | "steward"


def offered_to(audience: str, buyer: Buyer) -> bool:
    """Whether an item of `audience` may be bought with a `buyer`'s points (pure)."""
    return audience == Audience.EVERYONE or audience == f"{buyer}s"


LIMIT_PERIOD_LABELS = {
    LimitPeriod.MONTH: _l("per month"),
    LimitPeriod.QUARTER: _l("per quarter"),
    LimitPeriod.YEAR: _l("per year"),
}


@cache
def _wtforms_catalog(locale: str) -> NullTranslations:
    """WTForms' own catalog for a language (as Flask-WTF loads it for the forms)."""
    return Translations.load(messages_path(), [locale], domain="wtforms")


def _wtforms(text: str, plural: str | None = None, n: int = 1, **values: Any) -> Any:
    """WTForms' own message, in the user's language (lazy, like `_l`)."""
    def words() -> str:
        locale = get_locale()
        catalog = _wtforms_catalog(str(locale)) if locale is not None else None
        if plural is None:
            said = catalog.ugettext(text) if catalog is not None else text
        else:
            said = (catalog.ungettext(text, plural, n) if catalog is not None
                    else text if n == 1 else plural)
        return str(said % values if values else said)
    return LazyString(words)


REQUIRED = _wtforms("This field is required.")


def _longer(limit: int) -> Any:
    return _wtforms("Field cannot be longer than %(max)d character.",
                    "Field cannot be longer than %(max)d characters.", limit, max=limit)


def _between(low: int, high: int) -> Say:
    return Say(_wtforms("Number must be between %(min)s and %(max)s.", min=low, max=high),
               {"int_type": REQUIRED, "missing": REQUIRED})


class RewardIn(InputModel):
    """What a manager types for a catalog item."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX), Say(
        REQUIRED, {"string_too_long": _longer(NAME_MAX)})]
    cost: Annotated[StrictInt, Field(ge=1, le=MAX_COST), _between(1, MAX_COST)]
    stock: Annotated[StrictInt, Field(ge=0, le=MAX_STOCK), _between(0, MAX_STOCK)]
    description: Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX), Say(
        _longer(DESCRIPTION_MAX))] = ""
    active_from: date | None = None
    active_until: date | None = None
    # At most this many redemptions per household per period (None: no limit).
    household_limit: Annotated[StrictInt | None, Field(ge=1, le=MAX_HOUSEHOLD_LIMIT),
                               _between(1, MAX_HOUSEHOLD_LIMIT)] = None
    limit_period: LimitPeriod | None = None
    audience: Audience = Audience.EVERYONE

    @model_validator(mode="after")
    def _dates_in_order(self) -> RewardIn:
        if self.active_from and self.active_until and self.active_until < self.active_from:
            raise fail("active_until", _l("This value is not valid."))
        if self.household_limit is not None and self.limit_period is None:
            raise fail("limit_period", _l("Choose the period the limit counts in."))
        if self.household_limit is None and self.limit_period is not None:
            raise fail("household_limit", _l("Give the number of redemptions per household."))
        return self


class RedeemIn(InputModel):
    """A household member's redemption of one item; `client_id` is the phone's request id
    (a double tap or a retried request redeems once)."""

    household_id: Annotated[int, Field(ge=1)]
    reward_id: Annotated[int, Field(ge=1)]
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=CLIENT_ID_MAX)] | None \
        = None


class CancelIn(InputModel):
    """Why a redemption is cancelled (a manager must say; a household member need not)."""

    reason: Annotated[str, StringConstraints(max_length=REASON_MAX), Say(
        _l("At most 200 characters."))] = ""
