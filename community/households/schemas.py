"""The households module's input models: the one place a household's field rules live.

`HouseholdIn` is used by the registry form, by the services and by every row of an imported
household list, so "3栋", "3" and " 3 " name the same building everywhere and the member
count has one range. Address text is normalised here (pure: no DB, no Flask request).
"""
from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from flask_babel import lazy_gettext as _l
from pydantic import BeforeValidator, Field, StringConstraints

from community.schemas import InputModel, Say

MAX_PART_LENGTH = 20  # the household table's column width
MIN_MEMBERS, MAX_MEMBERS = 1, 30

# Longest first, so "3号楼" loses "号楼" and not just "楼".
_SUFFIXES = {
    "building": ("号楼", "栋", "幢", "楼"),
    "unit": ("单元",),
    "room": ("室", "号"),
}


class HouseholdStatus(StrEnum):
    """Whether a household still lives in the community."""

    ACTIVE = "active"
    MOVED_OUT = "moved_out"


STATUS_LABELS = {HouseholdStatus.ACTIVE: _l("Living here"),
                 HouseholdStatus.MOVED_OUT: _l("Moved out")}


def cell_text(value: Any) -> str:
    """A cell as trimmed text; Excel's 301.0 becomes '301'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).replace("\u3000", " ").strip()
    if re.fullmatch(r"\d+\.0+", text):  # numbers saved as text by some exporters
        text = text.split(".")[0]
    return text


def normalize_part(kind: str, value: Any) -> str:
    """Trim an address part and drop its unit word: '3栋' → '3', '301室' → '301'."""
    text = cell_text(value)
    for suffix in _SUFFIXES[kind]:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)].strip()
            break
    return text


def _part(kind: str, missing: Any) -> Any:
    """An address part: normalised, then 1 to MAX_PART_LENGTH characters."""
    # The before-validator comes last: it wraps (runs before) the constrained text.
    return Annotated[str, StringConstraints(min_length=1, max_length=MAX_PART_LENGTH),
                     BeforeValidator(lambda value: normalize_part(kind, value)),
                     Say(missing, {"string_too_long": None})]


ENTER_MEMBERS = _l("Please enter the number of members.")


class HouseholdIn(InputModel):
    """Address, member count and status of one household."""

    building: _part("building", _l("Please enter the building."))  # type: ignore[valid-type]
    unit: _part("unit", _l("Please enter the unit."))  # type: ignore[valid-type]
    room: _part("room", _l("Please enter the room."))  # type: ignore[valid-type]
    # Strict: 3, not "3" or 3.0 (the form and the importer read the text into a number).
    members: Annotated[int, Field(strict=True, ge=MIN_MEMBERS, le=MAX_MEMBERS), Say(
        _l("Members must be from 1 to 30."), {"missing": ENTER_MEMBERS,
                                              "int_type": ENTER_MEMBERS})]
    status: HouseholdStatus = HouseholdStatus.ACTIVE
    # When the change (moving in, moving out, a new member count) took effect: the
    # community's local wall time (naive, as a form gives it) or an aware moment; None means
    # now. Recorded in the household's history; the service refuses a moment in the future
    # (it knows the community's time zone and the clock).
    effective_at: Annotated[datetime | None, Say(_l("Please enter a valid date and time."))] = None

    @property
    def address(self) -> tuple[str, str, str]:
        """The (building, unit, room) key."""
        return (self.building, self.unit, self.room)
