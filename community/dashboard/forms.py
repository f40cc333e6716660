"""Forms and labels of the dashboards (Flask-WTF: CSRF on all).

The tonnage form renders, protects and reads the typed text (a month, tonnes with thousands
separators); the rules are `TonnageIn`'s (`dashboard.schemas`: a month, tonnes as a
non-negative number with at most two decimals). The service has the last word on what needs
the area (its scope, a month that has begun).
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import StringField

from community.dashboard.schemas import TONNAGE_FIELDS, TonnageIn
from community.web.forms import ModelForm

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


class TonnageForm(ModelForm[TonnageIn]):
    """One area's tonnages of one month (tonnes; rules: `TonnageIn`)."""

    model = TonnageIn

    month = StringField(_l("Month"))
    recyclables = StringField(TONNAGE_LABELS["recyclables"])
    incineration_grate = StringField(TONNAGE_LABELS["incineration_grate"])
    incineration_fluid = StringField(TONNAGE_LABELS["incineration_fluid"])
    kitchen = StringField(TONNAGE_LABELS["kitchen"])
    landfill = StringField(TONNAGE_LABELS["landfill"])

    def model_data(self) -> dict[str, Any]:
        """The month read from its text (None when it is not one: the model says so) and the
        typed tonnages, thousands separators removed."""
        return {"month": parse_month(self.month.data),
                **{name: (getattr(self, name).data or "").strip().replace(",", "")
                   for name in TONNAGE_FIELDS}}

    def tonnage_fields(self) -> list[Any]:
        """The five tonnage fields in the formula's order."""
        return [getattr(self, name) for name in TONNAGE_FIELDS]
