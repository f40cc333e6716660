"""The dashboards' input model: an area's tonnages of one month (the one place their rules
live; the tonnage form, the service and its other callers go through it).

The dashboards' reads (month, sort and page arguments) take no model: each is one optional
query argument, read leniently where it is used (junk means "absent"), with no rule to share.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from flask_babel import lazy_gettext as _l
from pydantic import BeforeValidator

from community.ratings.schemas import METRIC_LABELS
from community.schemas import InputModel, Say

# The headline figures' names: the rating metrics plus the area-only ones.
FIGURE_LABELS = {**METRIC_LABELS, "compliant_coverage": _l("Compliant coverage"),
                 "on_time_rate": _l("On-time handling rate")}
TONNAGE_FIELDS = ("recyclables", "incineration_grate", "incineration_fluid", "kitchen",
                  "landfill")
MAX_TONNES = Decimal("9999999999.99")  # Numeric(12, 2)
CENT = Decimal("0.01")


def tonnes(value: object) -> Decimal | None:
    """A non-negative number of tonnes with at most two decimals, or None when it is not one."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number < 0 or number > MAX_TONNES:
        return None
    if number != number.quantize(CENT):
        return None
    return number.quantize(CENT)


def _tonnes(value: Any) -> Decimal | None:
    """Blank: None (the field asks for a value); otherwise the tonnes, or refused."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = tonnes(value)
    if number is None:
        raise ValueError("not tonnes")
    return number


Tonnes = Annotated[Decimal, BeforeValidator(_tonnes), Say(
    _l("Enter tonnes as a number of at least 0 with at most two decimals, e.g. 1250.5."),
    {"decimal_type": _l("Enter tonnes (0 when none)."),
     "missing": _l("Enter tonnes (0 when none).")})]


class TonnageIn(InputModel):
    """One area's tonnages of one month (tonnes; the month: any day of it)."""

    month: Annotated[date, Say(_l("Enter a month as YYYY-MM, e.g. 2026-10."))]
    recyclables: Tonnes
    incineration_grate: Tonnes
    incineration_fluid: Tonnes
    kitchen: Tonnes
    landfill: Tonnes

    def values(self) -> dict[str, Decimal]:
        """The five tonnages by TonnageEntry field."""
        return {name: getattr(self, name) for name in TONNAGE_FIELDS}
