"""Forms and labels of the dashboards (Flask-WTF: CSRF on all).

The tonnage form checks what a person can fix in the field (a month, tonnes as a
non-negative number with at most two decimals) and says so in the user's language; the
service checks the same again and has the last word (scope, a month that has begun).
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, ValidationError

from community.dashboard.services import TONNAGE_FIELDS, tonnes

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")

TONNAGE_LABELS = {
    "recyclables": _l("Recyclables recovered (R)"),
    "incineration_grate": _l("Incineration, grate furnaces (I grate)"),
    "incineration_fluid": _l("Incineration, fluidized bed (I fluid)"),
    "kitchen": _l("Kitchen waste treated (K)"),
    "landfill": _l("Sanitary landfill (L)"),
}
SORT_LABELS = {"level": _l("Rating level")}


def parse_month(text: str | None) -> date | None:
    """'2026-11' → the month's first day; None when it is not a month."""
    m = _MONTH.match((text or "").strip())
    if not m or not 1 <= int(m[2]) <= 12 or int(m[1]) < 2000:
        return None
    return date(int(m[1]), int(m[2]), 1)


def _month_valid(_form: Any, field: Any) -> None:
    if parse_month(field.data) is None:
        raise ValidationError(_l("Enter a month as YYYY-MM, e.g. 2026-10."))


def _tonnes_valid(_form: Any, field: Any) -> None:
    if tonnes((field.data or "").strip().replace(",", "")) is None:
        raise ValidationError(_l("Enter tonnes as a number of at least 0 with at most two "
                                 "decimals, e.g. 1250.5."))


def _tonnes_field(name: str) -> StringField:
    return StringField(TONNAGE_LABELS[name], validators=[
        InputRequired(_l("Enter tonnes (0 when none).")), _tonnes_valid])


class TonnageForm(FlaskForm):
    """One area's tonnages of one month (tonnes)."""

    month = StringField(_l("Month"), validators=[
        InputRequired(_l("Enter a month as YYYY-MM, e.g. 2026-10.")), _month_valid])
    recyclables = _tonnes_field("recyclables")
    incineration_grate = _tonnes_field("incineration_grate")
    incineration_fluid = _tonnes_field("incineration_fluid")
    kitchen = _tonnes_field("kitchen")
    landfill = _tonnes_field("landfill")

    def values(self) -> dict[str, str]:
        """The typed tonnages (thousands separators removed), by TonnageEntry field."""
        return {name: (getattr(self, name).data or "").strip().replace(",", "")
                for name in TONNAGE_FIELDS}

    def tonnage_fields(self) -> list[Any]:
        """The five tonnage fields in the formula's order."""
        return [getattr(self, name) for name in TONNAGE_FIELDS]
