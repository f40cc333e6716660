"""The points module's input models: the one place the rules of a manual adjustment and of a
rule-set version live (the forms, the services and their other callers all go through them).
"""
from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from flask_babel import lazy_gettext as _l
from pydantic import AfterValidator, Field, StrictBool, StrictInt, StringConstraints

from community.points.rules import DEFAULT_POINTS, RANGES, RuleSet
from community.schemas import InputModel, Say


class LedgerKind(StrEnum):
    """What a ledger entry records (`LedgerEntry.kind`)."""

    EARN = "earn"
    BONUS = "bonus"
    PENALTY = "penalty"
    STRIKE = "strike"
    REDEEM = "redeem"
    REFUND = "refund"
    REVERSAL = "reversal"
    EXPIRE = "expire"
    ADJUST = "adjust"
    # A closed year's lots carried into the next (`jobs.carry_forward`): a pair of entries
    # that moves no points, so the closed year's partitions can be archived.
    CARRY = "carry"


class ItemStatus(StrEnum):
    """Whether a reward item is on offer (`RewardItem.status`)."""

    ACTIVE = "active"
    RETIRED = "retired"


class RedemptionStatus(StrEnum):
    """Where a redemption stands (`Redemption.status`)."""

    RESERVED = "reserved"
    HANDED_OVER = "handed_over"
    CANCELLED = "cancelled"


# Keyed by the enum members, which equal their stored codes; lazy labels (str() them where
# text is needed). The rewards' codes live here, not in `rewards`: the tables derive their
# tuples from them, and the ledger never imports rewards.
KIND_LABELS: dict[str, Any] = {
    LedgerKind.EARN: _l("Earned"), LedgerKind.BONUS: _l("Streak bonus"),
    LedgerKind.PENALTY: _l("Penalty"), LedgerKind.STRIKE: _l("Strike"),
    LedgerKind.REDEEM: _l("Redemption"), LedgerKind.REFUND: _l("Refund"),
    LedgerKind.REVERSAL: _l("Correction"), LedgerKind.EXPIRE: _l("Expiry"),
    LedgerKind.ADJUST: _l("Adjustment"), LedgerKind.CARRY: _l("Carried forward"),
}
ITEM_STATUS_LABELS: dict[str, Any] = {
    ItemStatus.ACTIVE: _l("On offer"),
    ItemStatus.RETIRED: _l("Withdrawn"),
}
REDEMPTION_STATUS_LABELS: dict[str, Any] = {
    RedemptionStatus.RESERVED: _l("Waiting for pickup"),
    RedemptionStatus.HANDED_OVER: _l("Handed over"),
    RedemptionStatus.CANCELLED: _l("Cancelled"),
}

MAX_ADJUST = 100_000
REASON_MAX = 200

ENTER_AMOUNT = _l("Enter a whole number of points, e.g. 20 or -5.")
GIVE_REASON = _l("Please give a reason; the household will see it.")


def _not_zero(amount: int) -> int:
    if amount == 0:
        raise ValueError("zero")
    return amount


class AdjustIn(InputModel):
    """A manager's manual change of a household's points: a signed amount and the reason."""

    amount: Annotated[StrictInt, Field(ge=-MAX_ADJUST, le=MAX_ADJUST), AfterValidator(_not_zero),
                      Say(ENTER_AMOUNT, {
                          "value_error": _l("The amount cannot be zero."),
                          "greater_than_equal": _l(
                              "At most %(n)s points can be added or taken at once.",
                              n=f"{MAX_ADJUST:,}"),
                          "less_than_equal": _l(
                              "At most %(n)s points can be added or taken at once.",
                              n=f"{MAX_ADJUST:,}")})]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=REASON_MAX), Say(
        GIVE_REASON, {"string_too_long": _l("At most 200 characters.")})]


# --- Rule-set versions ---------------------------------------------------------------------

def _whole(name: str) -> Any:
    """The field limits of one rule value (`rules.RANGES`, the one table of them)."""
    low, high = RANGES[name]
    return Field(ge=low, le=high)


def _say(name: str) -> Say:
    low, high = RANGES[name]
    return Say(_l("Enter a whole number from %(low)s to %(high)s.", low=low, high=high))


_D = RuleSet()  # the defaults: a version may change only some values


class RulesIn(InputModel):
    """A new rule-set version: every RuleSet value (defaults for those not given) and the
    date it applies from. The points per category are flat fields, as the form has them."""

    points_kitchen: Annotated[StrictInt, _whole("points"), _say("points")] = \
        DEFAULT_POINTS["kitchen"]
    points_recyclable: Annotated[StrictInt, _whole("points"), _say("points")] = \
        DEFAULT_POINTS["recyclable"]
    points_hazardous: Annotated[StrictInt, _whole("points"), _say("points")] = \
        DEFAULT_POINTS["hazardous"]
    points_other: Annotated[StrictInt, _whole("points"), _say("points")] = \
        DEFAULT_POINTS["other"]
    ungraded_earns: StrictBool = _D.ungraded_earns
    daily_cap: Annotated[StrictInt, _whole("daily_cap"), _say("daily_cap")] = _D.daily_cap
    strike_limit: Annotated[StrictInt, _whole("strike_limit"),
                            _say("strike_limit")] = _D.strike_limit
    strike_window_days: Annotated[StrictInt, _whole("strike_window_days"),
                                  _say("strike_window_days")] = _D.strike_window_days
    strike_penalty: Annotated[StrictInt, _whole("strike_penalty"),
                              _say("strike_penalty")] = _D.strike_penalty
    streak_days: Annotated[StrictInt, _whole("streak_days"), _say("streak_days")] = \
        _D.streak_days
    streak_bonus: Annotated[StrictInt, _whole("streak_bonus"), _say("streak_bonus")] = \
        _D.streak_bonus
    expiry_years: Annotated[StrictInt, _whole("expiry_years"), _say("expiry_years")] = \
        _D.expiry_years
    steward_points_per_hour: Annotated[StrictInt, _whole("steward_points_per_hour"),
                                       _say("steward_points_per_hour")] = \
        _D.steward_points_per_hour
    effective_from: Annotated[date, Say(_l("Please choose the date the rules apply from."))]

    def params(self) -> dict[str, Any]:
        """The RuleSet fields (as stored in `points_rule_set.params`)."""
        values = self.model_dump(exclude={"effective_from"})
        points = {c: values.pop(f"points_{c}") for c in DEFAULT_POINTS}
        return {"points": points, **values}

    def rule_set(self, version: int) -> RuleSet:
        """The RuleSet these values make, as version `version`."""
        return RuleSet(version=version, **self.params())
