"""Dashboard use cases that write: an area's monthly tonnage entry (one per area and month,
editable), entered by area and city admins for the city's recycling and resource-utilization
rates. Flushes only; the request's commit point commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from community import clock
from community.areas import services as areas_services
from community.audit import services as audit
from community.auth import policy
from community.dashboard.schemas import TonnageIn
from community.dashboard.schemas import tonnes as tonnes  # re-exported: the rule's one home
from community.errors import InvalidInput
from community.ratings import rollups
from community.ratings.models import TonnageEntry
from community.rows import pk


@dataclass(frozen=True)
class SavedTonnage:
    """What `save_tonnage` did: the entry and whether it was new."""

    entry: TonnageEntry
    created: bool


def save_tonnage(session: Session, *, actor: policy.Actor, area_id: int, data: TonnageIn,
                 ip: str | None = None, now: datetime | None = None) -> SavedTonnage:
    """Create or replace an area's tonnage entry of a month (tonnage:write; not a community;
    not a month that has not begun). The values are `TonnageIn`'s to check."""
    area = areas_services.get_area(session, area_id)
    policy.require(actor, "tonnage:write", area)
    if area.level == "community":
        raise InvalidInput(field="area_id")
    month = rollups.month_start(data.month)
    if month > rollups.month_start(clock.local_today(area.timezone, now)):
        raise InvalidInput(field="month")
    parsed: dict[str, Any] = data.values()  # keyword arguments of TonnageEntry
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
