"""Casework forms (Flask-WTF, CSRF on all); the field rules are the input models'
(`casework.schemas`)."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField
from wtforms.validators import Optional

from community.casework.rules import CaseRules
from community.casework.schemas import (
    TASK_LABELS,
    AssignIn,
    CaseRulesIn,
    GradeIn,
    TaskDoneIn,
)
from community.web.forms import ModelForm


def _tasks() -> list[tuple[str, Any]]:
    return list(TASK_LABELS.items())


class TaskForm(ModelForm[TaskDoneIn]):
    """What the steward did (`TaskDoneIn`)."""

    model = TaskDoneIn

    task = SelectField(_l("Task carried out"), choices=_tasks)
    note = StringField(_l("What was done"))


class AssignForm(ModelForm[AssignIn]):
    """Assign the task: steward, task and due date (`AssignIn`)."""

    model = AssignIn

    assignee_id = SelectField(_l("Steward"), coerce=int, validate_choice=False)
    task = SelectField(_l("Task"), choices=_tasks)
    due_on = DateField(_l("Due date"), validators=[Optional()])


class GradeForm(ModelForm[GradeIn]):
    """The auditor's verdict (three buttons post `verdict`)."""

    model = GradeIn

    verdict = StringField()


NUMBER_FIELDS = ("threshold", "window_days", "close_after", "due_days", "watch_cases",
                 "watch_days")


class CaseRulesForm(ModelForm[CaseRulesIn]):
    """A new case-rules version (`CaseRulesIn`)."""

    model = CaseRulesIn

    threshold = IntegerField(_l("Incorrect drops that open a case"), validators=[Optional()])
    window_days = IntegerField(_l("Within (days)"), validators=[Optional()])
    close_after = IntegerField(_l("Correct drops in a row that close it"),
                               validators=[Optional()])
    refund = BooleanField(_l("Refund the case period's penalties on closing"))
    due_days = IntegerField(_l("Days to carry out the task"), validators=[Optional()])
    task = SelectField(_l("Default task"), choices=_tasks)
    watch_cases = IntegerField(_l("Cases that put a household on the watchlist"),
                               validators=[Optional()])
    watch_days = IntegerField(_l("Watchlist period (days)"), validators=[Optional()])
    effective_from = DateField(_l("In force from"), validators=[Optional()])

    def model_data(self) -> dict[str, Any]:
        """The fields as CaseRulesIn takes them (a checkbox is true or false)."""
        return super().model_data() | {"refund": bool(self.refund.data)}

    def fill(self, rules: CaseRules, day: date) -> None:
        """Prefill with the rules in force."""
        for name in (*NUMBER_FIELDS, "refund", "task"):
            getattr(self, name).data = getattr(rules, name)
        self.effective_from.data = day
