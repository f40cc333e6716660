"""Read model of the steward scan page: the open stations an actor may record drops at.

Kept apart from `services.py` (owned by the station-management work) and free of Flask;
the page itself talks to the JSON API for everything it writes.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlmodel import Session, col

from community.areas.models import Area
from community.auth import policy
from community.errors import Forbidden
from community.stations.models import Station


@dataclass(frozen=True)
class ScanStation:
    """One station as the scan page shows it (its bins decide the category buttons)."""

    id: int
    name: str
    location: str
    community_id: int
    community_name: str
    categories: list[str]


def scan_stations(session: Session, *, actor: policy.Actor) -> list[ScanStation]:
    """Open stations of every community where `actor` may record drops; Forbidden if none.

    Only stewards, station chiefs and managers hold `drop:record`; any other account
    (a resident, a street admin) is refused even when no station exists yet.
    """
    paths = policy.scopes(actor, "drop:record")
    if not paths:
        raise Forbidden(action="drop:record")
    rows = session.execute(
        select(Station, Area.name)
        .join(Area, col(Area.id) == Station.community_id)
        .where(or_(*[col(Area.path).startswith(p) for p in paths]),
               col(Station.status) == "open")
        .order_by(Area.path, Station.name)
    ).all()
    return [ScanStation(id=s.id, name=s.name, location=s.location, community_id=s.community_id,
                        community_name=name, categories=s.category_list())
            for s, name in rows]
