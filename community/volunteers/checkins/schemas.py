"""The check-in pages' input models: the one place the supervision log's field rules live.

`LogIn` is a steward's log of one shift: whole-number counts (0 to a cap; an empty box is 0),
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



def _say_range(high: int) -> Say:
    """The words of a count from 0 to `high`, for every error, a number past the database's
    integer (99999999999, `int_range`) included: the range that applies, not just "0 or
    more", which a steward typing 5000 into a box capped at 1000 could not act on."""
    words = _l("Enter a whole number from %(low)s to %(high)s.", low=0, high=high)
    return Say(words, by_type={"int_range": words})


def _empty_is_zero(value: Any) -> Any:
    return 0 if value is None else value


Count = Annotated[int, BeforeValidator(_empty_is_zero), Field(strict=True, ge=0, le=MAX_COUNT),
                  _say_range(MAX_COUNT)]
IncidentCount = Annotated[int, BeforeValidator(_empty_is_zero),
                          Field(strict=True, ge=0, le=MAX_INCIDENTS), _say_range(MAX_INCIDENTS)]


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
