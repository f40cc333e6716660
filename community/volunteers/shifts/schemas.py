"""The rota's input models: the one place the field rules of its forms live.

`GenerateIn` (how many weeks ahead to generate, and how many stewards new shifts need),
`AssignIn` (the steward a manager puts on a shift) and `NeededIn` (how many stewards one
shift needs). Rules that need the database (the steward's community and status, the
stewards already on a shift) stay in `services`.
"""
from __future__ import annotations

from typing import Annotated

from flask_babel import lazy_gettext as _l
from pydantic import Field

from community.schemas import InputModel, Say
from community.volunteers.shifts.rules import DEFAULT_NEEDED, MAX_NEEDED, MAX_WEEKS

NEEDED_RANGE = _l("Stewards needed must be from 1 to %(max)s.", max=MAX_NEEDED)


class GenerateIn(InputModel):
    """How many weeks ahead to generate, and how many stewards each new shift needs."""

    weeks: Annotated[int, Field(strict=True, ge=1, le=MAX_WEEKS), Say(
        _l("Weeks must be from 1 to %(max)s.", max=MAX_WEEKS),
        {"int_type": _l("Please enter the number of weeks.")})]
    needed: Annotated[int, Field(strict=True, ge=1, le=MAX_NEEDED), Say(
        NEEDED_RANGE,
        {"int_type": _l("Please enter how many stewards a shift needs.")})] = DEFAULT_NEEDED


class AssignIn(InputModel):
    """The approved steward of the shift's community to put on it."""

    steward_id: Annotated[int, Field(strict=True), Say(_l("Please choose a steward."))]


class NeededIn(InputModel):
    """How many stewards one shift needs (the service: not fewer than are on it)."""

    needed: Annotated[int, Field(strict=True, ge=1, le=MAX_NEEDED), Say(
        NEEDED_RANGE, {"int_type": _l("Please enter how many stewards the shift needs.")})]
