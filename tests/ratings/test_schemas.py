"""The rating-policy input models: the params' rules (`policy.problems`) name the exact
threshold, in the words the page shows; a version needs its month, a simulation its month."""
from __future__ import annotations

import copy
from datetime import date

import pytest
from flask import Flask
from flask_babel import force_locale

from community.errors import InvalidInput
from community.ratings.policy import DEFAULT_POLICY
from community.ratings.schemas import PolicyIn, PolicyVersionIn, SimulationIn

NOV = date(2026, 11, 1)


def _params() -> dict:
    return copy.deepcopy(DEFAULT_POLICY.to_params())


def test_valid_params_make_the_policy() -> None:
    assert PolicyIn.parse(_params()).policy() == DEFAULT_POLICY
    version = PolicyVersionIn.parse(_params(), effective_month=NOV, note=" 试点 ")
    assert (version.note, version.effective_month) == ("试点", NOV)
    assert SimulationIn.parse(_params(), simulate_month=NOV).params() == _params()


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"min_active_households": -1}, "min_active_households",
     "Enter a whole number from 0 to 100,000."),
    ({"min_active_households": None}, "min_active_households",
     "Enter a whole number from 0 to 100,000."),
    ({"compliant": [{"metric": "accuracy", "op": ">=", "value": 1.5}]}, "compliant.accuracy",
     "Enter a percentage from 0 to 100 (at most two decimals), or leave it blank."),
    ({"star": [{"metric": "bogus", "op": ">=", "value": 0.5}]}, "star",
     "This value is not valid."),
])
def test_params_refusals_name_the_field_in_the_pages_words(app: Flask, change: dict,
                                                           field: str, words: str) -> None:
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(InvalidInput) as err:
            PolicyVersionIn.parse(_params() | change, effective_month=NOV)
        assert err.value.details["field"] == field
        assert str(err.value.details["fields"][field]) == words


def test_each_model_needs_its_own_month_and_knows_no_other_field(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(InvalidInput) as err:
            PolicyVersionIn.parse(_params(), effective_month=None)
        assert str(err.value.details["fields"]["effective_month"]) == (
            "Enter a month as YYYY-MM, e.g. 2026-11.")
    with pytest.raises(InvalidInput) as err:
        SimulationIn.parse(_params())
    assert err.value.details["field"] == "simulate_month"
    with pytest.raises(InvalidInput) as err:
        SimulationIn.parse(_params(), simulate_month=NOV, note="x")
    assert err.value.details["field"] == "note"
    with pytest.raises(InvalidInput) as err:
        PolicyVersionIn.parse(_params(), effective_month=NOV, note="长" * 201)
    assert err.value.details["field"] == "note"


def _with(params: dict, level: str, metric: str, value: float) -> dict:
    params[level] = [t | {"value": value} if t["metric"] == metric else t
                     for t in params[level]]
    return params


def test_a_star_threshold_easier_than_the_compliant_one_is_refused_on_each_pair(
        app: Flask) -> None:
    # Star accuracy 80% under compliant 90%; star out-of-window 15% over compliant 10%.
    params = _with(_with(_params(), "compliant", "accuracy", 0.90), "star", "accuracy", 0.80)
    params = _with(params, "star", "out_of_window_rate", 0.15)
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(InvalidInput) as err:
            PolicyVersionIn.parse(params, effective_month=NOV)
        fields = {k: str(v) for k, v in err.value.details["fields"].items()}
    assert fields == {
        "star.accuracy": "A star threshold cannot be easier than the compliant one: "
                         "enter at least 90%.",
        "star.out_of_window_rate": "A star threshold cannot be easier than the compliant "
                                   "one: enter at most 10%."}
    with app.test_request_context(), force_locale("zh"):
        with pytest.raises(InvalidInput) as err:
            SimulationIn.parse(params, simulate_month=NOV)
        assert str(err.value.details["fields"]["star.accuracy"]) == (
            "星级门槛不能比达标门槛更宽松：请填写不低于 90% 的值。")
    # A pair on any metric both levels check (here scan rate, 95% for compliant).
    params = _params()
    params["star"].append({"metric": "scan_rate", "op": ">=", "value": 0.925})
    with pytest.raises(InvalidInput) as err:
        PolicyIn.parse(params)
    assert err.value.details["field"] == "star.scan_rate"


def test_a_star_threshold_equal_to_compliant_or_on_a_metric_only_star_checks_is_valid() -> None:
    params = _with(_params(), "star", "accuracy", 0.85)  # as strict as compliant: allowed
    params = _with(params, "star", "out_of_window_rate", 0.10)
    params["star"].append({"metric": "kitchen_separation", "op": ">=", "value": 0.05})
    params["compliant"] = [t for t in params["compliant"] if t["metric"] != "participation"]
    params["star"] = [t | {"value": 0.01} if t["metric"] == "participation" else t
                      for t in params["star"]]  # no compliant participation to compare with
    assert PolicyIn.parse(params).params() == params
