"""Area tree services: the nested tree in scope, child counts, creating and renaming."""
from __future__ import annotations

import pytest
from sqlmodel import Session

from community.areas import services as areas_services
from community.areas.schemas import AreaIn
from community.auth import services as auth_services
from community.errors import Forbidden, InvalidInput
from tests import builders


def _actor(session: Session, account) -> object:
    return auth_services.load_actor(session, account.id)


def test_city_admin_tree(session: Session, world: builders.World) -> None:
    roots = areas_services.area_tree(session, actor=_actor(session, world.city_admin))
    assert [r.area.id for r in roots] == [world.city.id]
    city = roots[0]
    assert city.editable
    assert city.communities == 2
    district = city.children[0]
    assert {s.area.id for s in district.children} == {world.street_a.id, world.street_b.id}
    node_a = areas_services.find_node(roots, world.a.id)
    assert node_a is not None
    assert node_a.children == []
    assert node_a.communities == 1


def test_area_admin_tree_is_own_subtree_read_only(session: Session, world: builders.World) -> None:
    roots = areas_services.area_tree(session, actor=_actor(session, world.area_admin_a))
    assert [r.area.id for r in roots] == [world.street_a.id]
    assert not roots[0].editable
    assert areas_services.find_node(roots, world.b.id) is None
    assert areas_services.find_node(roots, world.a.id) is not None


def test_tree_scope_is_not_a_string_prefix(session: Session, world: builders.World) -> None:
    # Add sibling streets until one's id extends street A's id as a string (3 → 30: "/1/2/30/"
    # starts with "/1/2/3" but not with "/1/2/3/"), with a community below it.
    prefix = str(world.street_a.id)
    while True:
        sibling = builders.area(session, world.district)
        if str(sibling.id).startswith(prefix) and sibling.id != world.street_a.id:
            break
    below = builders.area(session, sibling)
    session.commit()
    admin = builders.account(session, "area_admin", world.street_a)
    session.commit()
    roots = areas_services.area_tree(session, actor=_actor(session, admin))
    ids = {n.area.id for n in roots}
    stack = list(roots)
    while stack:
        node = stack.pop()
        ids.add(node.area.id)
        stack.extend(node.children)
    assert ids == {world.street_a.id, world.a.id}
    assert sibling.path.startswith(world.street_a.path.rstrip("/"))
    assert below.id not in ids


@pytest.mark.parametrize("who", ["manager_a", "resident_a", "steward_a"])
def test_tree_refused_below_area_admin(session: Session, world: builders.World, who: str) -> None:
    with pytest.raises(Forbidden):
        areas_services.area_tree(session, actor=_actor(session, getattr(world, who)))


def test_create_area_checks(session: Session, world: builders.World) -> None:
    city_admin = _actor(session, world.city_admin)
    with pytest.raises(InvalidInput) as info:
        areas_services.create_area(session, actor=city_admin, parent_id=world.a.id,
                                   data=AreaIn.parse(name="x"))
    assert info.value.details["field"] == "parent_id"
    with pytest.raises(InvalidInput) as info:
        areas_services.create_area(session, actor=city_admin, parent_id=world.street_a.id,
                                   data=AreaIn.parse(name="x" * 81))
    assert info.value.details["field"] == "name"
    with pytest.raises(Forbidden):
        areas_services.create_area(session, actor=_actor(session, world.area_admin_a),
                                   parent_id=world.street_a.id, data=AreaIn.parse(name="新社区"))
    area = areas_services.create_area(session, actor=city_admin, parent_id=world.street_b.id,
                                      data=AreaIn.parse(name="新社区"))
    assert area.level == "community"
    assert area.path.startswith(world.street_b.path)
