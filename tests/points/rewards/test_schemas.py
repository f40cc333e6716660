"""The rewards' input models: a catalog item (dates in order), a redemption, a cancellation."""
from __future__ import annotations

from datetime import date

import pytest
from flask import Flask

from community.errors import InvalidInput
from community.points.rewards.schemas import CancelIn, RedeemIn, RewardIn


def test_item_dates_must_be_in_order(app: Flask) -> None:
    ok = RewardIn.parse(name=" 鸡蛋 ", cost=1, stock=0, active_from=date(2026, 12, 1),
                        active_until=date(2026, 12, 1))
    assert (ok.name, ok.description) == ("鸡蛋", "")
    assert RewardIn.parse(name="a", cost=1, stock=0, active_until=date(2026, 1, 1))
    with app.test_request_context(), pytest.raises(InvalidInput) as err:
        RewardIn.parse(name="a", cost=1, stock=0, active_from=date(2026, 12, 2),
                       active_until=date(2026, 12, 1))
    assert err.value.details["field"] == "active_until"


def test_item_fields_say_what_they_need(app: Flask) -> None:
    """Field-specific words, as the other forms have (not WTForms' generic ones)."""
    with app.test_request_context():  # Chinese is the default language
        with pytest.raises(InvalidInput) as err:
            RewardIn.parse(name="", cost=None, stock=True)
        fields = {k: str(v) for k, v in err.value.details["fields"].items()}
    assert fields == {"name": "请填写奖品名称。",
                      "cost": "请填写兑换所需积分：1 到 100000 之间的整数。",
                      "stock": "请填写剩余库存：0 到 1000000 之间的整数。"}
    assert "该字段是必填字段。" not in fields.values()
    with app.test_request_context():
        with pytest.raises(InvalidInput) as err:
            RewardIn.parse(name="a", cost=100_001, stock=1, household_limit=0,
                           limit_period="month")
        fields = {k: str(v) for k, v in err.value.details["fields"].items()}
    assert fields["cost"] == "请填写兑换所需积分：1 到 100000 之间的整数。"
    assert fields["household_limit"] == "请填写每户限兑次数：1 到 1000 之间的整数，或留空表示不限。"
    with app.test_request_context():
        with pytest.raises(InvalidInput) as err:
            RewardIn.parse(name="长" * 61, cost=1, stock=1)
        assert str(err.value.details["fields"]["name"]) == "名称最多 60 个字。"


@pytest.mark.parametrize(("values", "field"), [
    ({"household_id": "x", "reward_id": 1}, "household_id"),
    ({"household_id": 0, "reward_id": 1}, "household_id"),
    ({"household_id": 1}, "reward_id"),
    ({"household_id": 1, "reward_id": 1, "client_id": ""}, "client_id"),
    ({"household_id": 1, "reward_id": 1, "client_id": "x" * 41}, "client_id"),
])
def test_redemption_refusals(values: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        RedeemIn.parse(values)
    assert err.value.details["field"] == field
    assert RedeemIn.parse(household_id="7", reward_id=2) == RedeemIn(household_id=7,
                                                                     reward_id=2)


def test_cancellation_reason_is_optional_and_short() -> None:
    assert CancelIn.parse().reason == ""
    assert CancelIn.parse(reason=" 停产 ").reason == "停产"
    with pytest.raises(InvalidInput):
        CancelIn.parse(reason="长" * 201)
