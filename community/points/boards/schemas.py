"""The honour boards' input model: a household's members hide it from the boards or show it
again (the toggle's form and the service's other callers go through it)."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StrictBool

from community.schemas import InputModel

# The toggle posts "1" (hide) or "0" (show); nothing else is a yes or a no.
HIDE_VALUES = {"1": True, "0": False}


def _hide_value(value: Any) -> Any:
    return HIDE_VALUES.get(value, value) if isinstance(value, str) else value


class OptOutIn(InputModel):
    """Whether one household (of the member's) hides from the honour boards."""

    household_id: Annotated[int, Field(ge=1)]
    hide: Annotated[StrictBool, BeforeValidator(_hide_value)]
