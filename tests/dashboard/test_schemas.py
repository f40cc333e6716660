"""The tonnage input model: a month, and five tonnages of at least 0 with two decimals."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from flask_babel import force_locale

from community.dashboard.schemas import TonnageIn
from community.errors import InvalidInput

FIVE = {"recyclables": "100", "incineration_grate": "500.5", "incineration_fluid": 0,
        "kitchen": Decimal("200.10"), "landfill": "200.00"}


def test_tonnes_are_read_to_the_cent() -> None:
    data = TonnageIn.parse(FIVE, month=date(2026, 10, 1))
    assert data.values() == {"recyclables": Decimal("100.00"),
                             "incineration_grate": Decimal("500.50"),
                             "incineration_fluid": Decimal("0.00"),
                             "kitchen": Decimal("200.10"), "landfill": Decimal("200.00")}


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"kitchen": "-0.01"}, "kitchen",
     "Enter tonnes as a number of at least 0 with at most two decimals, e.g. 1250.5."),
    ({"landfill": "1.234"}, "landfill",
     "Enter tonnes as a number of at least 0 with at most two decimals, e.g. 1250.5."),
    ({"recyclables": "NaN"}, "recyclables",
     "Enter tonnes as a number of at least 0 with at most two decimals, e.g. 1250.5."),
    ({"incineration_fluid": " "}, "incineration_fluid", "Enter tonnes (0 when none)."),
    ({"month": None}, "month", "Enter a month as YYYY-MM, e.g. 2026-10."),
])
def test_refusals_in_the_forms_words(app: Flask, change: dict, field: str,
                                     words: str) -> None:
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(InvalidInput) as err:
            TonnageIn.parse({**FIVE, "month": date(2026, 10, 1), **change})
        assert err.value.details["field"] == field
        assert str(err.value.details["fields"][field]) == words
    with pytest.raises(InvalidInput) as err:
        TonnageIn.parse({k: v for k, v in FIVE.items() if k != "kitchen"},
                        month=date(2026, 10, 1))
    assert err.value.details["field"] == "kitchen"
