"""The rewards' input models: the one place the rules of a catalog item and of a manager's
cancellation live (the forms, the services and their other callers all go through them).

Each field says what it needs in its own words ("Please enter the reward's name.", "Enter
the cost as a whole number of points from 1 to 100000."), as the other forms do, not
WTForms' generic "This field is required." / "Number must be between …"; `ITEM_WORDS` holds
them for the form too (a box WTForms cannot read as a whole number gets the same words).
"""
from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from flask_babel import lazy_gettext as _l
from pydantic import Field, StrictInt, StringConstraints, model_validator

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


NAME_NEEDED = _l("Please enter the reward's name.")
COST_RULE = _l("Enter the cost as a whole number of points from %(low)s to %(high)s.",
               low=1, high=MAX_COST)
STOCK_RULE = _l("Enter the stock left as a whole number from %(low)s to %(high)s.",
                low=0, high=MAX_STOCK)
LIMIT_RULE = _l("Enter the limit per household as a whole number from %(low)s to %(high)s, "
                "or leave it blank.", low=1, high=MAX_HOUSEHOLD_LIMIT)
DATE_RULE = _l("Enter a date as YYYY-MM-DD, or leave it blank.")
# The words of each catalog field whatever went wrong with it (the form uses them for a box
# it cannot read, e.g. a cost of "2.5").
ITEM_WORDS: dict[str, Any] = {"cost": COST_RULE, "stock": STOCK_RULE,
                              "household_limit": LIMIT_RULE, "active_from": DATE_RULE,
                              "active_until": DATE_RULE}


class RewardIn(InputModel):
    """What a manager types for a catalog item."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX), Say(
        NAME_NEEDED, {"string_too_long": _l("The name can be at most %(max)s characters.",
                                            max=NAME_MAX)})]
    cost: Annotated[StrictInt, Field(ge=1, le=MAX_COST), Say(COST_RULE, {"int_range": COST_RULE})]
    stock: Annotated[StrictInt, Field(ge=0, le=MAX_STOCK),
                     Say(STOCK_RULE, {"int_range": STOCK_RULE})]
    description: Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX), Say(
        _l("The description can be at most %(max)s characters.", max=DESCRIPTION_MAX))] = ""
    active_from: Annotated[date | None, Say(DATE_RULE)] = None
    active_until: Annotated[date | None, Say(DATE_RULE)] = None
    # At most this many redemptions per household per period (None: no limit).
    household_limit: Annotated[StrictInt | None, Field(ge=1, le=MAX_HOUSEHOLD_LIMIT),
                               Say(LIMIT_RULE, {"int_range": LIMIT_RULE})] = None
    limit_period: LimitPeriod | None = None
    audience: Audience = Audience.EVERYONE

    @model_validator(mode="after")
    def _dates_in_order(self) -> RewardIn:
        if self.active_from and self.active_until and self.active_until < self.active_from:
            raise fail("active_until", _l("The last day on offer cannot be before the first."))
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
