"""The job history page is the city admin's alone: a community manager is refused."""
from __future__ import annotations

from tests.builders import World
from tests.scope import Case, foreign


@foreign("jobs.index")
def _index(world: World) -> list[Case]:
    return [Case("GET", "/admin/jobs/", expect=(403,)),
            Case("GET", "/admin/jobs/?failed=1", expect=(403,))]


@foreign("jobs.run")
def _run(world: World) -> list[Case]:
    return [Case("POST", "/admin/jobs/points.verify/run", expect=(403,))]
