"""Foreign-access cases for the area tree: a manager of B may neither see nor change the tree."""
from __future__ import annotations

from tests.builders import World
from tests.scope import Case, foreign


@foreign("areas.tree")
def _tree(w: World) -> list[Case]:
    return [Case("GET", "/admin/areas"), Case("GET", f"/admin/areas?node={w.a.id}")]


@foreign("areas.create")
def _create(w: World) -> list[Case]:
    return [Case("POST", "/admin/areas", data={"parent_id": w.street_a.id, "name": "新社区"}),
            Case("POST", "/admin/areas", data={"parent_id": w.street_b.id, "name": "新社区"}),
            Case("POST", "/admin/areas", data={"parent_id": w.a.id, "name": ""})]


@foreign("areas.rename")
def _rename(w: World) -> list[Case]:
    return [Case("POST", f"/admin/areas/{w.a.id}/rename", data={"name": "改名社区"}),
            Case("POST", f"/admin/areas/{w.b.id}/rename", data={"name": "改名社区"}),
            Case("POST", f"/admin/areas/{w.city.id}/rename", data={"name": ""})]
