"""The area module's input models: the one place the rules of an area's name and settings live.

Also the area codes (level): one `StrEnum` with one label table each.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from flask_babel import lazy_gettext as _l
from pydantic import StringConstraints

from community.schemas import InputModel, Say

NAME_MESSAGE = _l("Enter a name of at most 80 characters.")


class AreaLevel(StrEnum):
    """The levels of the area tree, top down (`Area.level`)."""

    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"


# Keyed by the enum members, which equal their stored codes; lazy labels (str() them where
# text is needed).
LEVEL_LABELS: dict[str, Any] = {
    AreaLevel.CITY: _l("City"),
    AreaLevel.DISTRICT: _l("District/town"),
    AreaLevel.STREET: _l("Street"),
    AreaLevel.COMMUNITY: _l("Community"),
}
class AreaIn(InputModel):
    """The name of a new or renamed area (district/town, street or community)."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=80), Say(NAME_MESSAGE)]


class JoinRequestsIn(InputModel):
    """Whether residents without an invitation or join slip may ask the manager to approve them."""

    join_requests: bool = False  # an unticked checkbox sends nothing
