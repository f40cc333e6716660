"""Scope cases for the steward's scan page (stations/views.py); see tests/scope.py.

`steward.service_worker` is exempt: it is the same static script for everyone and carries
no data. The scan page lists only stations where the caller may record drops; a manager of
community B gets B's page without A's stations (also tested in test_views.py).
"""
from __future__ import annotations

from sqlmodel import Session

from tests import builders
from tests.builders import World
from tests.scope import Case, exempt, foreign

exempt("steward.service_worker")

STATION_A = "玉龙东门投放亭"


@foreign("steward.scan")
def _scan(world: World) -> list[Case]:
    session = Session.object_session(world.a)
    assert session is not None
    builders.station(session, world.a, STATION_A)
    session.commit()
    return [
        Case("GET", "/steward/scan", expect=(200,), absent=[STATION_A]),
        Case("GET", f"/steward/scan?station_id=1&community_id={world.a.id}", expect=(200,),
             absent=[STATION_A]),
    ]
