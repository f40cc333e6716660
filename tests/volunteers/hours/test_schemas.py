"""The approval's input models: minutes in range, a short reason, the refusal's name."""
from __future__ import annotations

import pytest

from community.errors import InvalidInput
from community.volunteers.hours.schemas import (
    MAX_BULK,
    ApproveIn,
    BulkApproveIn,
    CorrectionReasonRequired,
    MinutesOutOfRange,
)


def test_as_recorded_and_corrected() -> None:
    assert ApproveIn.parse() == ApproveIn(minutes=None, reason="")
    assert ApproveIn.parse(minutes=0, reason="  未到岗 ") == ApproveIn(minutes=0, reason="未到岗")
    assert ApproveIn.parse(minutes=1440).minutes == 1440


@pytest.mark.parametrize(("values", "error", "field"), [
    ({"minutes": -1}, MinutesOutOfRange, "minutes"),
    ({"minutes": 1441}, MinutesOutOfRange, "minutes"),
    ({"minutes": True}, MinutesOutOfRange, "minutes"),
    ({"minutes": "90"}, MinutesOutOfRange, "minutes"),
    ({"minutes": 90, "reason": "长" * 201}, CorrectionReasonRequired, "reason"),
    ({"minutes": 90, "note": "x"}, InvalidInput, "note"),
])
def test_refusals_are_named_by_their_field(values: dict, error: type, field: str) -> None:
    with pytest.raises(error) as err:
        ApproveIn.parse(values)
    assert err.value.details["field"] == field
    assert set(err.value.details["fields"]) == {field}


def test_bulk_names_one_to_max_assignments() -> None:
    assert BulkApproveIn.parse(ids=[3, 1]).ids == [3, 1]
    for ids in ([], list(range(1, MAX_BULK + 2)), ["1"]):
        with pytest.raises(InvalidInput) as err:
            BulkApproveIn.parse(ids=ids)
        assert err.value.details["field"] == "ids"
