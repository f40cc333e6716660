"""HouseholdIn: the one set of rules of the registry form, the services and every imported row."""
from __future__ import annotations

import pytest

from community.errors import InvalidInput
from community.households import importer
from community.households.schemas import HouseholdIn, HouseholdStatus


def test_address_parts_are_normalised_like_the_import() -> None:
    data = HouseholdIn.parse(building=" 3号楼 ", unit="2单元", room=301.0, members=3)
    assert data.address == ("3", "2", "301")
    assert data.status is HouseholdStatus.ACTIVE
    assert data.model_dump(mode="json")["status"] == "active"


@pytest.mark.parametrize(("change", "field"), [
    ({"building": "栋栋" * 11}, "building"),
    ({"unit": "  "}, "unit"),
    ({"room": None}, "room"),
    ({"members": 0}, "members"),
    ({"members": 31}, "members"),
    ({"members": "3"}, "members"),  # strict: the caller reads the text into a number
    ({"members": 3.0}, "members"),
    ({"members": None}, "members"),
    ({"status": "gone"}, "status"),
])
def test_refusals_name_the_field(change: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        HouseholdIn.parse({"building": "1", "unit": "1", "room": "101", "members": 2} | change)
    assert err.value.details["field"] == field


def test_an_imported_row_is_refused_by_the_same_rules() -> None:
    data = ("楼栋,单元,室,人数,状态\n"
            "1,1,101,30,迁出\n"
            "1,1,102,31,\n"
            f"{'9' * 21},1,103,2,\n"
            "1,,104,2,\n"
            "1,1,105,2,离开\n").encode()
    parsed = importer.parse("list.csv", data)
    assert [(r.address, r.members, r.status) for r in parsed.rows] == [
        (("1", "1", "101"), 30, "moved_out")]
    assert [(r.line, r.reason, r.field) for r in parsed.rejected] == [
        (3, "members", "members"), (4, "too_long", "building"), (5, "missing", "unit"),
        (6, "status", "status")]
