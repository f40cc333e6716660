"""The vocabulary of waste sorting shared by every module: categories and sort quality.

Each code is one `StrEnum` with one label table (lazy, so a label is translated when shown).
It sits below stations, points and volunteers so all of them read the same words: `points`
may not import `stations`, and the category a ledger entry names is the category a drop has.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l

from community.types import Coded


class Category(StrEnum):
    """Waste categories: a station's bins and a drop's category (in the canonical order)."""

    KITCHEN = "kitchen"
    RECYCLABLE = "recyclable"
    HAZARDOUS = "hazardous"
    OTHER = "other"


class Quality(StrEnum):
    """How well a drop was sorted, as the steward graded it."""

    CORRECT = "correct"
    INCORRECT = "incorrect"
    UNGRADED = "ungraded"


# Keyed by the enum members, which equal their plain-string codes (a stored "kitchen" finds
# Category.KITCHEN's label). Values are lazy strings: str() them where text is needed.
CATEGORY_LABELS: dict[str, Any] = {
    Category.KITCHEN: _l("Kitchen waste"),
    Category.RECYCLABLE: _l("Recyclables"),
    Category.HAZARDOUS: _l("Hazardous waste"),
    Category.OTHER: _l("Other waste"),
}
QUALITY_LABELS: dict[str, Any] = {
    Quality.CORRECT: _l("Correct"),
    Quality.INCORRECT: _l("Incorrect"),
    Quality.UNGRADED: _l("Ungraded"),
}


# The stored numbers of a drop's category and quality (SMALLINT on `drop_record`): fixed
# forever (a new code takes a new number, a retired one keeps its number unused). Here,
# below stations and points, because both read the drop row (points through its own
# column set, `points.facts`); raw SQL compares these numbers, never the strings.
CATEGORY_CODE = Coded({"kitchen": 1, "recyclable": 2, "hazardous": 3, "other": 4})
QUALITY_CODE = Coded({"correct": 1, "incorrect": 2, "ungraded": 3})
