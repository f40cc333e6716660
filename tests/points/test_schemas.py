"""The points input models: a manual adjustment and a rule-set version (one place per rule)."""
from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask
from flask_babel import force_locale

from community.errors import InvalidInput
from community.points import models, schemas
from community.points.rules import RANGES, RuleSet
from community.points.schemas import MAX_ADJUST, AdjustIn, RulesIn

DAY = date(2026, 11, 20)


@pytest.mark.parametrize(("values", "field"), [
    ({"amount": 0, "reason": "x"}, "amount"),
    ({"amount": True, "reason": "x"}, "amount"),        # a bool is no number of points
    ({"amount": "5", "reason": "x"}, "amount"),         # the form parses the text, not the model
    ({"amount": MAX_ADJUST + 1, "reason": "x"}, "amount"),
    ({"amount": -MAX_ADJUST - 1, "reason": "x"}, "amount"),
    ({"amount": 5, "reason": "   "}, "reason"),
    ({"amount": 5, "reason": "长" * 201}, "reason"),
])
def test_adjustment_refusals_name_their_field(values: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        AdjustIn.parse(values)
    assert err.value.details["field"] == field


def test_adjustment_words_per_rule(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        for amount, words in [(0, "The amount cannot be zero."),
                              (None, "Enter a whole number of points, e.g. 20 or -5."),
                              (MAX_ADJUST + 1,
                               "At most 100,000 points can be added or taken at once.")]:
            with pytest.raises(InvalidInput) as err:
                AdjustIn.parse(amount=amount, reason="x")
            assert str(err.value.details["fields"]["amount"]) == words
    assert AdjustIn.parse(amount=-MAX_ADJUST, reason="  更正 ") == AdjustIn(
        amount=-MAX_ADJUST, reason="更正")


def test_rules_default_what_is_not_given_and_give_the_ruleset_params() -> None:
    data = RulesIn.parse(points_kitchen=4, daily_cap=9, effective_from=DAY)
    assert data.rule_set(3) == RuleSet(version=3, points={
        "kitchen": 4, "recyclable": 2, "hazardous": 3, "other": 1}, daily_cap=9)
    assert set(data.params()) == {f.name for f in RuleSet.__dataclass_fields__.values()
                                  if f.name != "version"}


@pytest.mark.parametrize("name", [*(f"points_{c}" for c in ("kitchen", "other")),
                                  *(n for n in RANGES if n != "points")])
def test_rules_ranges_are_the_rules_table(name: str) -> None:
    low, high = RANGES["points" if name.startswith("points_") else name]
    for value in (low, high):
        assert getattr(RulesIn.parse({name: value, "effective_from": DAY}), name) == value
    for value in (low - 1, high + 1, None):
        with pytest.raises(InvalidInput) as err:
            RulesIn.parse({name: value, "effective_from": DAY})
        assert err.value.details["field"] == name


def test_rules_need_a_date_and_refuse_unknown_fields() -> None:
    with pytest.raises(InvalidInput) as err:
        RulesIn.parse(daily_cap=6)
    assert err.value.details["field"] == "effective_from"
    with pytest.raises(InvalidInput) as err:
        RulesIn.parse(nonsense=1, effective_from=DAY)
    assert err.value.details["field"] == "nonsense"


def _check_codes(table, name: str) -> tuple[str, ...]:
    """The quoted codes of one CHECK constraint, in their order."""
    check = next(c for c in table.constraints if c.name == name)
    return tuple(re.findall(r"'([^']*)'", str(check.sqltext)))


@pytest.mark.parametrize(("labels", "enum", "codes", "table", "check"), [
    (schemas.KIND_LABELS, schemas.LedgerKind, models.KINDS, models.LedgerEntry,
     "ck_ledger_entry_kind"),
    (schemas.ITEM_STATUS_LABELS, schemas.ItemStatus, models.REWARD_STATUSES,
     models.RewardItem, "ck_reward_item_status"),
    (schemas.REDEMPTION_STATUS_LABELS, schemas.RedemptionStatus, models.REDEMPTION_STATUSES,
     models.Redemption, "ck_redemption_status"),
])
def test_every_code_has_one_label(labels, enum, codes, table, check) -> None:
    assert list(labels) == list(enum)
    assert codes == tuple(labels)  # plain strings equal their members, in the same order
    assert all(type(code) is str for code in codes)  # stored as plain strings
    assert _check_codes(table.__table__, check) == codes
