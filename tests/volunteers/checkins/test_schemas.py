"""The supervision log's input model: counts, empty boxes, incidents by code, the note."""
from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import force_locale

from community.errors import InvalidInput
from community.volunteers.checkins.schemas import MAX_COUNT, MAX_INCIDENTS, LogIn
from community.volunteers.models import INCIDENTS


def _field(**values) -> str:
    with pytest.raises(InvalidInput) as err:
        LogIn.parse(**values)
    return err.value.details["field"]


def test_one_field_per_incident_code() -> None:
    assert [name for name in LogIn.model_fields if name.startswith("incident_")] == [
        f"incident_{code}" for code in INCIDENTS]


def test_empty_counts_are_zero_and_incidents_keep_only_counted_codes() -> None:
    log = LogIn.parse(residents_guided=None, incident_dumping=2, incident_other=0,
                      note="  满了 ", remove_photos=["a.png"])
    assert (log.residents_guided, log.drops_corrected, log.note) == (0, 0, "满了")
    assert log.incidents == {"dumping": 2}
    assert log.remove_photos == ("a.png",)


def test_counts_are_whole_numbers_in_range() -> None:
    assert LogIn.parse(residents_guided=MAX_COUNT).residents_guided == MAX_COUNT
    assert _field(residents_guided=MAX_COUNT + 1) == "residents_guided"
    assert _field(incident_full_bin=MAX_INCIDENTS + 1) == "incident_full_bin"
    assert _field(drops_corrected=-1) == "drops_corrected"
    assert _field(drops_corrected="3") == "drops_corrected"
    assert _field(residents_guided=False) == "residents_guided"
    assert _field(incidents={"late_drop": 1}) == "incidents"  # one field per code, no mapping


@pytest.mark.parametrize(("values", "field", "words"), [
    ({"incident_dumping": 5000}, "incident_dumping", "Enter a whole number from 0 to 1000."),
    ({"residents_guided": 99999999999}, "residents_guided",
     "Enter a whole number from 0 to 10000."),
    ({"drops_corrected": -1}, "drops_corrected", "Enter a whole number from 0 to 10000."),
])
def test_a_count_out_of_range_names_the_range(app: Flask, values: dict, field: str,
                                              words: str) -> None:
    with app.test_request_context(), force_locale("en"), pytest.raises(InvalidInput) as err:
        LogIn.parse(**values)
    assert str(err.value.details["fields"][field]) == words
