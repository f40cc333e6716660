"""The honour-board toggle's input model: "1" hides, "0" shows, nothing else is a yes or no."""
from __future__ import annotations

import pytest

from community.errors import InvalidInput
from community.points.boards.schemas import OptOutIn


def test_hide_takes_the_toggles_values_and_booleans_only() -> None:
    assert OptOutIn.parse(household_id="3", hide="1") == OptOutIn(household_id=3, hide=True)
    assert OptOutIn.parse(household_id=3, hide="0").hide is False
    assert OptOutIn.parse(household_id=3, hide=True).hide is True
    for hide in ("yes", "true", 1, "", None):
        with pytest.raises(InvalidInput) as err:
            OptOutIn.parse(household_id=3, hide=hide)
        assert err.value.details["field"] == "hide"
    with pytest.raises(InvalidInput) as err:
        OptOutIn.parse(household_id="x", hide="1")
    assert err.value.details["field"] == "household_id"
