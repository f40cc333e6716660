"""The check-in pages' input models: the one place the supervision log's field rules live.

`LogIn` is a steward's log of one shift: whole-number counts (0 or more; an empty box is 0),
one count per incident code (`models.INCIDENTS`), a short note, and the stored photos to
remove. Whose log it is, whether it is still open and the photos themselves are checked by
`services.save_log`.
"""
from __future__ import annotations

from typing import Annotated, Any

from flask_babel import lazy_gettext as _l
from pydantic import BeforeValidator, Field, StringConstraints

from community.schemas import InputModel, Say
from community.volunteers.models import INCIDENTS

MAX_COUNT = 10_000  # residents guided, drops corrected
MAX_INCIDENTS = 1000  # of one kind, in one shift
MAX_NOTE = 1000

WHOLE = _l("Enter a whole number, 0 or more.")


def _empty_is_zero(value: Any) -> Any:
    return 0 if value is None else value


Count = Annotated[int, BeforeValidator(_empty_is_zero), Field(strict=True, ge=0, le=MAX_COUNT),
                  Say(WHOLE)]
IncidentCount = Annotated[int, BeforeValidator(_empty_is_zero),
                          Field(strict=True, ge=0, le=MAX_INCIDENTS), Say(WHOLE)]


class LogIn(InputModel):
    """A steward's log of one shift (the fields are the log form's)."""

    residents_guided: Count = 0
    drops_corrected: Count = 0
    # One field per code of models.INCIDENTS (tests/volunteers/checkins/test_schemas.py).
    incident_late_drop: IncidentCount = 0
    incident_dumping: IncidentCount = 0
    incident_full_bin: IncidentCount = 0
    incident_broken_station: IncidentCount = 0
    incident_other: IncidentCount = 0
    note: Annotated[str, StringConstraints(max_length=MAX_NOTE)] = ""
    remove_photos: tuple[str, ...] = ()  # names of stored photos to drop

    @property
    def incidents(self) -> dict[str, int]:
        """The incidents seen, by code (codes with a count of 0 left out)."""
        return {code: n for code in INCIDENTS if (n := getattr(self, f"incident_{code}"))}
