"""Report inputs and code labels: a new report, a handling, a reopening, a city's deadlines.
The one place each field rule lives (forms, services, the demo and tests go through them)."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from flask_babel import lazy_gettext as _l
from pydantic import Field, StrictBool, StrictInt, StringConstraints, model_validator

from community.reports.rules import KINDS, MAX_HOURS, MIN_HOURS
from community.schemas import Id, InputModel, Say, fail

KIND_LABELS: dict[str, Any] = {
    "overflow": _l("Overflowing bin"),
    "dumping": _l("Illegal dumping"),
    "broken": _l("Broken facility"),
    "missed_pickup": _l("Missed collection"),
    "odour": _l("Odour"),
    "no_offhours_point": _l("No off-hours drop point"),
    "mixed_collection": _l("Mixed collection by the truck"),
    "other": _l("Other problem"),
}
STATUS_LABELS: dict[str, Any] = {
    "new": _l("New"),
    "assigned": _l("Assigned"),
    "in_progress": _l("In progress"),
    "handled": _l("Handled: please confirm"),
    "confirmed": _l("Confirmed"),
    "reopened": _l("Reopened"),
}
LEVEL_LABELS: dict[str, Any] = {
    "community": _l("Community"),
    "street": _l("Street"),
    "district": _l("District"),
}
SOURCE_LABELS: dict[str, Any] = {
    "resident": _l("Resident"),
    "steward": _l("Steward"),
    "log": _l("Supervision log"),
}
# Why an action was refused (rules.refusal codes), in the user's language.
REFUSALS: dict[str, Any] = {
    "not_open": _l("This report is not waiting for handling."),
    "already_handled": _l("This report has already been handled."),
    "not_handled": _l("Only a handled report can be confirmed or reopened."),
    "reopened_once": _l("A report can be reopened once; please make a new report."),
    "reason_required": _l("Please say why the problem is not fixed."),
}

Kind = Literal["overflow", "dumping", "broken", "missed_pickup", "odour", "no_offhours_point",
               "mixed_collection", "other"]
assert set(KINDS) == set(KIND_LABELS)  # noqa: S101 - one list of kinds

CHOOSE_KIND = _l("Please choose what the problem is.")
SAY_WHERE = _l("Choose a station, or say where the problem is.")


def where_missing(station_id: int | None, place: str) -> bool:
    """True when a report names neither a station nor a place in words (the one rule; the
    form also asks it when other fields failed, so every error shows at once)."""
    return station_id is None and not place


class ReportIn(InputModel):
    """A report from a phone: where (a station, or somewhere else with words), what, a note,
    and whether the photo's location may be kept."""

    community_id: Annotated[Id, Say(_l("Choose a community."))]
    station_id: Annotated[Id | None, Say(_l("Choose a station."))] = None
    place: Annotated[str, StringConstraints(max_length=120), Say(
        _l("At most 120 characters."))] = ""
    kind: Annotated[Kind, Say(CHOOSE_KIND)]
    note: Annotated[str, StringConstraints(max_length=500), Say(
        _l("At most 500 characters."))] = ""
    keep_location: StrictBool = False

    @model_validator(mode="after")
    def _where(self) -> ReportIn:
        if where_missing(self.station_id, self.place):
            raise fail("place", SAY_WHERE)
        return self


class HandleIn(InputModel):
    """What the handler did (the after-photo comes with it)."""

    note: Annotated[str, StringConstraints(min_length=1, max_length=500), Say(
        _l("Please say what was done."), {"string_too_long": _l("At most 500 characters.")})]


class ReopenIn(InputModel):
    """Why the reporter says the problem is not fixed."""

    reason: Annotated[str, StringConstraints(min_length=1, max_length=300), Say(
        _l("Please say why the problem is not fixed."),
        {"string_too_long": _l("At most 300 characters.")})]


def _hours() -> Any:
    return Field(ge=MIN_HOURS, le=MAX_HOURS)


HOURS_SAY = Say(_l("Enter whole hours from %(low)s to %(high)s.", low=MIN_HOURS,
                   high=MAX_HOURS))


class DeadlinesIn(InputModel):
    """A new version of a city's deadlines (hours per kind)."""

    overflow: Annotated[StrictInt, _hours(), HOURS_SAY]
    dumping: Annotated[StrictInt, _hours(), HOURS_SAY]
    broken: Annotated[StrictInt, _hours(), HOURS_SAY]
    missed_pickup: Annotated[StrictInt, _hours(), HOURS_SAY]
    odour: Annotated[StrictInt, _hours(), HOURS_SAY]
    no_offhours_point: Annotated[StrictInt, _hours(), HOURS_SAY]
    mixed_collection: Annotated[StrictInt, _hours(), HOURS_SAY]
    other: Annotated[StrictInt, _hours(), HOURS_SAY]
