"""The volunteers' codes: one StrEnum and one label table each, equal to the tables' codes."""
from __future__ import annotations

import re

import pytest

from community.volunteers import models, schemas


def _check_codes(table, name: str) -> tuple[str, ...]:
    """The quoted codes of one CHECK constraint, in their order."""
    check = next(c for c in table.constraints if c.name == name)
    return tuple(re.findall(r"'([^']*)'", str(check.sqltext)))


@pytest.mark.parametrize(("labels", "enum", "codes"), [
    (schemas.INCIDENT_LABELS, schemas.Incident, models.INCIDENTS),
    (schemas.ASSIGNMENT_STATUS_LABELS, schemas.AssignmentStatus, models.ASSIGNMENT_STATUSES),
    (schemas.HOURS_STATUS_LABELS, schemas.HoursStatus, models.HOURS_STATUSES),
    (schemas.METHOD_LABELS, schemas.CheckMethod, ("code", "chief", "auto")),
])
def test_every_code_has_one_label(labels, enum, codes) -> None:
    assert list(labels) == list(enum)
    assert codes == tuple(labels)  # plain strings equal their members, in the same order
    assert all(type(code) is str for code in codes)  # stored as plain strings


def test_the_check_constraints_name_the_enums_codes() -> None:
    table = models.ShiftAssignment.__table__
    assert _check_codes(table, "ck_assignment_status") == models.ASSIGNMENT_STATUSES
    assert _check_codes(table, "ck_assignment_hours_status") == models.HOURS_STATUSES
