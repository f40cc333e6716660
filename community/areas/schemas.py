"""The area module's input models: the one place the rules of an area's name and settings live."""
from __future__ import annotations

from typing import Annotated

from flask_babel import lazy_gettext as _l
from pydantic import AfterValidator, StringConstraints

from community.areas.models import LINK_MODES
from community.schemas import InputModel, Say

NAME_MESSAGE = _l("Enter a name of at most 80 characters.")


def _known_mode(mode: str) -> str:
    if mode not in LINK_MODES:
        raise ValueError("unknown link mode")
    return mode


class AreaIn(InputModel):
    """The name of a new or renamed area (district/town, street or community)."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=80), Say(NAME_MESSAGE)]


class LinkModeIn(InputModel):
    """How residents of a community prove a card is theirs: "code" or "approval"."""

    link_mode: Annotated[str, AfterValidator(_known_mode)]
