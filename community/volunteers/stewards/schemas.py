"""The stewards' input models: the one place the field rules of their forms live.

`InviteIn` (a new invitation link), `RejectIn` (why an application is refused), `TrainingIn`
(a steward's training status) and `AvailabilityIn` (one weekly range a steward can help).
Rules that need the database (the community's time zone, the steward's other ranges) stay
in `services`.
"""
from __future__ import annotations

from datetime import date, time
from typing import Annotated, Any

from flask_babel import lazy_gettext as _l
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from community.schemas import InputModel, Say, fail
from community.volunteers.models import TRAINING
from community.volunteers.stewards.rules import INVITE_DAYS, INVITE_USES, MAX_REASON, parse_hhmm

REQUIRED = _l("This field is required.")
HHMM = _l("Write the time as HH:MM, for example 07:30.")


def _training_code(value: str) -> str:
    if value not in TRAINING:
        raise PydanticCustomError("literal_error", "not a training status")
    return value


def _hhmm(value: Any) -> Any:
    """'07:30' as a time (two-digit HH:MM only); a time passes; anything else fails."""
    if isinstance(value, time):
        return value
    try:
        return parse_hhmm(value) if isinstance(value, str) else value
    except ValueError:
        raise PydanticCustomError("time_parsing", "not HH:MM") from None


class InviteIn(InputModel):
    """A new invitation link: how many days it works and how many people may use it."""

    days: Annotated[int, Field(strict=True, ge=INVITE_DAYS[0], le=INVITE_DAYS[1]), Say(
        _l("Valid days must be from %(min)s to %(max)s.", min=INVITE_DAYS[0],
           max=INVITE_DAYS[1]), {"int_type": REQUIRED})]
    max_uses: Annotated[int, Field(strict=True, ge=INVITE_USES[0], le=INVITE_USES[1]), Say(
        _l("Maximum sign-ups must be from %(min)s to %(max)s.", min=INVITE_USES[0],
           max=INVITE_USES[1]), {"int_type": REQUIRED})]


class RejectIn(InputModel):
    """Why an application is rejected (the applicant sees it)."""

    reason: Annotated[str, StringConstraints(min_length=1, max_length=MAX_REASON), Say(
        _l("Give a reason."), {"string_too_long": _l("Give a reason of at most 200 characters.")})]


class TrainingIn(InputModel):
    """A steward's training status; "trained" needs the date (the service checks it is not in
    the community's future); another status stores no date."""

    training: Annotated[str, AfterValidator(_training_code)]
    trained_on: date | None = None

    @model_validator(mode="after")
    def _trained_has_a_date(self) -> TrainingIn:
        if self.training == "trained" and self.trained_on is None:
            raise fail("trained_on", _l("Enter the date the training was completed."))
        return self


class AvailabilityIn(InputModel):
    """One weekly range (Monday 0) a steward can usually help; an earlier end runs past
    midnight, so only an end equal to the start is refused."""

    weekday: Annotated[int, Field(strict=True, ge=0, le=6)]
    start: Annotated[time, BeforeValidator(_hhmm), Field(strict=True), Say(HHMM)]
    end: Annotated[time, BeforeValidator(_hhmm), Field(strict=True), Say(HHMM)]

    @model_validator(mode="after")
    def _end_differs(self) -> AvailabilityIn:
        if self.start == self.end:
            raise fail("end", _l("The end must differ from the start (an earlier end means the "
                                 "range runs past midnight)."))
        return self
