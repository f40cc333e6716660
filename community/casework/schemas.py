"""Casework inputs and code labels: a case-rules version, a task record, an assignment, an
audit grade. The one place each field rule lives (forms and services go through them)."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from flask_babel import lazy_gettext as _l
from pydantic import Field, StrictBool, StrictInt, StringConstraints

from community.casework.rules import RANGES, CaseRules
from community.schemas import Id, InputModel, Say

TASK_LABELS: dict[str, Any] = {
    "bin_side": _l("Guidance at the bin at the next drop"),
    "home_visit": _l("Home visit"),
    "building_talk": _l("Building talk"),
}
STATUS_LABELS: dict[str, Any] = {
    "open": _l("Case open"),
    "closed": _l("Case closed"),
    "withdrawn": _l("Case withdrawn"),
}
VERDICT_LABELS: dict[str, Any] = {
    "correct": _l("Correct"),
    "incorrect": _l("Incorrect"),
    "unclear": _l("Cannot tell from the photo"),
}
FLAG_LABELS: dict[str, Any] = {
    "lenient": _l("More lenient than peers"),
    "strict": _l("Stricter than peers"),
}
# Why a steward's kappa is not shown (calibration.Agreement.kappa_na).
KAPPA_NA_LABELS: dict[str, Any] = {
    "no_pairs": _l("No audited verdicts yet."),
    "one_category": _l("The steward or the auditor gave only one verdict (e.g. never "
                       "\"incorrect\"), so agreement beyond chance cannot be measured."),
    "degenerate": _l("All verdicts agreed (or none did): too little variation for an "
                     "interval."),
}
NOTE_MAX = 300

Task = Literal["bin_side", "home_visit", "building_talk"]


def _whole(name: str) -> Any:
    low, high = RANGES[name]
    return Field(ge=low, le=high)


def _say(name: str) -> Say:
    low, high = RANGES[name]
    return Say(_l("Enter a whole number from %(low)s to %(high)s.", low=low, high=high))


_D = CaseRules()
CHOOSE_TASK = _l("Choose an education task.")


class CaseRulesIn(InputModel):
    """A new version of a community's case rules, effective from a date."""

    threshold: Annotated[StrictInt, _whole("threshold"), _say("threshold")] = _D.threshold
    window_days: Annotated[StrictInt, _whole("window_days"), _say("window_days")] = \
        _D.window_days
    close_after: Annotated[StrictInt, _whole("close_after"), _say("close_after")] = \
        _D.close_after
    refund: StrictBool = _D.refund
    due_days: Annotated[StrictInt, _whole("due_days"), _say("due_days")] = _D.due_days
    task: Annotated[Task, Say(CHOOSE_TASK)] = "bin_side"
    watch_cases: Annotated[StrictInt, _whole("watch_cases"), _say("watch_cases")] = \
        _D.watch_cases
    watch_days: Annotated[StrictInt, _whole("watch_days"), _say("watch_days")] = _D.watch_days
    effective_from: Annotated[date, Say(_l("Please choose the date the rules apply from."))]

    def params(self) -> dict[str, Any]:
        """The CaseRules fields (as stored in `case_rule_set.params`)."""
        return self.model_dump(exclude={"effective_from"})


class TaskDoneIn(InputModel):
    """What the steward did for a case: the task carried out and a short note."""

    task: Annotated[Task, Say(CHOOSE_TASK)]
    note: Annotated[str, StringConstraints(min_length=1, max_length=NOTE_MAX), Say(
        _l("Please say briefly what was done."),
        {"string_too_long": _l("At most 300 characters.")})]


class AssignIn(InputModel):
    """A manager's or chief's assignment of a case's task: to whom, which task, by when."""

    assignee_id: Annotated[Id, Say(_l("Choose a steward."))]
    task: Annotated[Task, Say(CHOOSE_TASK)]
    due_on: Annotated[date, Say(_l("Please choose a due date."))]


class GradeIn(InputModel):
    """An auditor's blind verdict on a sampled drop."""

    verdict: Annotated[Literal["correct", "incorrect", "unclear"],
                       Say(_l("Choose correct, incorrect or cannot tell."))]
