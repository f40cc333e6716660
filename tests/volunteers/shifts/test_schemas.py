"""The rota's input models: ranges, the default of `needed`, strict whole numbers."""
from __future__ import annotations

import pytest

from community.errors import InvalidInput
from community.volunteers.shifts import rules
from community.volunteers.shifts.schemas import AssignIn, GenerateIn, NeededIn


def _field(model, **values) -> str:
    with pytest.raises(InvalidInput) as err:
        model.parse(**values)
    return err.value.details["field"]


def test_generate_ranges_and_default_needed() -> None:
    assert GenerateIn.parse(weeks=4).needed == rules.DEFAULT_NEEDED
    assert GenerateIn.parse(weeks=rules.MAX_WEEKS, needed=rules.MAX_NEEDED).weeks == \
        rules.MAX_WEEKS
    assert _field(GenerateIn, weeks=0) == "weeks"
    assert _field(GenerateIn, weeks=rules.MAX_WEEKS + 1) == "weeks"
    assert _field(GenerateIn, weeks=1, needed=0) == "needed"
    assert _field(GenerateIn, weeks=None) == "weeks"


def test_needed_and_assign_take_whole_numbers_only() -> None:
    assert NeededIn.parse(needed=3).needed == 3
    assert _field(NeededIn, needed=rules.MAX_NEEDED + 1) == "needed"
    assert _field(NeededIn, needed="3") == "needed"
    assert _field(NeededIn, needed=True) == "needed"
    assert AssignIn.parse(steward_id=7).steward_id == 7
    assert _field(AssignIn, steward_id=None) == "steward_id"
