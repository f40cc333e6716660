"""Dashboard use cases that write: an area's monthly tonnage entry (one per area and month,
editable), entered by area and city admins for the city's recycling and resource-utilization
rates. Flushes only; the request's commit point commits.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from community import clock
from community.areas import services as areas_services
from community.audit import services as audit
from community.auth import policy
from community.errors import InvalidInput
from community.ratings import rollups
from community.ratings.models import TonnageEntry
from community.rows import pk

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


@dataclass(frozen=True)
class SavedTonnage:
    """What `save_tonnage` did: the entry and whether it was new."""

    entry: TonnageEntry
    created: bool


def save_tonnage(session: Session, *, actor: policy.Actor, area_id: int, month: date,
                 values: Mapping[str, object], ip: str | None = None,
                 now: datetime | None = None) -> SavedTonnage:
    """Create or replace an area's tonnage entry of a month (tonnage:write; not a community;
    not a month that has not begun; every value non-negative with at most two decimals)."""
    area = areas_services.get_area(session, area_id)
    policy.require(actor, "tonnage:write", area)
    if area.level == "community":
        raise InvalidInput(field="area_id")
    month = rollups.month_start(month)
    if month > rollups.month_start(clock.local_today(area.timezone, now)):
        raise InvalidInput(field="month")
    parsed: dict[str, Any] = {}  # TONNAGE_FIELDS → Decimal: keyword arguments of TonnageEntry
    for name in TONNAGE_FIELDS:
        number = tonnes(values.get(name, ""))
        if number is None:
            raise InvalidInput(field=name)
        parsed[name] = number
    entry = session.execute(select(TonnageEntry).where(
        col(TonnageEntry.area_id) == area.id, col(TonnageEntry.month) == month)).scalar()
    created = entry is None
    if entry is None:
        entry = TonnageEntry(area_id=pk(area), month=month,
                             entered_by=actor.account_id, **parsed)
        try:
            with session.begin_nested():  # two admins saving the same month at once
                session.add(entry)
                session.flush()
        except IntegrityError:
            entry = session.execute(select(TonnageEntry).where(
                col(TonnageEntry.area_id) == area.id,
                col(TonnageEntry.month) == month)).scalar_one()
            created = False
    if not created:
        for name, number in parsed.items():
            setattr(entry, name, number)
        entry.entered_by = actor.account_id
        entry.entered_at = now or clock.now()
        session.add(entry)
        session.flush()
    audit.record(session, actor_id=actor.account_id, action="tonnage.saved", area=area,
                 target_type="tonnage_entry", target_id=entry.id, ip=ip,
                 month=month.isoformat(), created=created,
                 **{name: str(number) for name, number in parsed.items()})
    return SavedTonnage(entry, created)
