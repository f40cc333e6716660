"""Use cases on the area tree: create, rename, settings, and scope queries."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_
from sqlmodel import Session, col, select

from community.areas.models import LEVELS, Area
from community.areas.schemas import AreaIn, JoinRequestsIn
from community.audit import services as audit
from community.auth import policy
from community.errors import Forbidden, InvalidInput, NotFound


def get_area(session: Session, area_id: int) -> Area:
    """Load an area or raise NotFound."""
    area = session.get(Area, area_id)
    if area is None:
        raise NotFound()
    return area


def get_community(session: Session, community_id: int) -> Area:
    """Load a community (the 小区 level) or raise NotFound, also for an area of another level."""
    area = session.get(Area, community_id)
    if area is None or area.level != "community":
        raise NotFound()
    return area


def add_area(session: Session, *, parent: Area | None, level: str, data: AreaIn) -> Area:
    """Insert a node and set its path; no authorization (CLI, demo and `create_area` use it)."""
    expected = "city" if parent is None else LEVELS[LEVELS.index(parent.level) + 1]
    if parent is not None and parent.level == "community":
        raise InvalidInput(field="level")
    if level != expected:
        raise InvalidInput(field="level")
    area = Area(parent_id=parent.id if parent else None, level=level, name=data.name,
                timezone=parent.timezone if parent else "Asia/Shanghai")
    session.add(area)
    session.flush()
    area.path = f"{parent.path if parent else '/'}{area.id}/"
    session.flush()
    return area


def create_area(
    session: Session, *, actor: policy.Actor, parent_id: int, data: AreaIn, ip: str | None = None
) -> Area:
    """A city admin adds a child (district, street or community) under `parent_id`."""
    parent = get_area(session, parent_id)
    policy.require(actor, "area:manage", parent)
    if parent.level == "community":
        raise InvalidInput(field="parent_id")
    level = LEVELS[LEVELS.index(parent.level) + 1]
    area = add_area(session, parent=parent, level=level, data=data)
    audit.record(session, actor_id=actor.account_id, action="area.created", area=area,
                 target_type="area", target_id=area.id, ip=ip, name=area.name)
    return area


def rename_area(
    session: Session, *, actor: policy.Actor, area_id: int, data: AreaIn, ip: str | None = None
) -> Area:
    """Rename a node (city admin)."""
    area = get_area(session, area_id)
    policy.require(actor, "area:manage", area)
    old, name = area.name, data.name
    area.name = name
    session.add(area)
    audit.record(session, actor_id=actor.account_id, action="area.renamed", area=area,
                 target_type="area", target_id=area.id, ip=ip, old=old, new=name)
    return area


def set_join_requests(
    session: Session, *, actor: policy.Actor, community_id: int, data: JoinRequestsIn,
    ip: str | None = None,
) -> Area:
    """Choose whether residents without an invitation or join slip may ask for approval."""
    area = get_area(session, community_id)
    policy.require(actor, "community:settings", area)
    if area.level != "community":
        raise InvalidInput(field="join_requests")
    area.join_requests = data.join_requests
    session.add(area)
    audit.record(session, actor_id=actor.account_id, action="community.join_requests",
                 area=area, target_type="area", target_id=area.id, ip=ip,
                 allowed=data.join_requests)
    return area


def areas_in_scopes(session: Session, paths: list[str], level: str | None = None) -> list[Area]:
    """All areas under any of `paths` (optionally of one level), in tree order.

    Tree order is the path's ids compared as numbers: a parent before its children, and
    siblings in the order they were added (as text, "/1/100/" would sort before "/1/99/").
    """
    if not paths:
        return []
    stmt = select(Area).where(or_(*[col(Area.path).startswith(p) for p in paths]))
    if level:
        stmt = stmt.where(Area.level == level)
    return sorted(session.exec(stmt), key=lambda a: path_ids(a.path))


def path_ids(path: str) -> list[int]:
    """The ids along an area path, root first: "/1/5/12/" → [1, 5, 12]."""
    return [int(part) for part in path.strip("/").split("/") if part]


def communities_for(session: Session, actor: policy.Actor, action: str) -> list[Area]:
    """Communities where `actor` may do `action`, for pickers and list filters."""
    return areas_in_scopes(session, policy.scopes(actor, action), level="community")


def full_name(session: Session, area: Area) -> str:
    """'苏州市 / 昆山市 / 玉山镇 / 玉龙社区' style label from the path."""
    ids = [int(x) for x in area.path.strip("/").split("/") if x]
    names = {a.id: a.name for a in session.exec(select(Area).where(col(Area.id).in_(ids)))}
    return " / ".join(names[i] for i in ids if i in names)


@dataclass
class TreeNode:
    """One area in the tree page, with its children and what the reader may do with it."""

    area: Area
    children: list[TreeNode] = field(default_factory=list)
    editable: bool = False
    communities: int = 0  # communities in the subtree (the node itself included)


def area_tree(session: Session, *, actor: policy.Actor) -> list[TreeNode]:
    """The subtrees the actor administers, as nested nodes; managers and below are refused."""
    # area:tree: city admins manage the tree, area admins read their subtree.
    roots_paths = policy.scopes(actor, "area:tree")
    if not roots_paths:
        raise Forbidden(action="area:read")
    nodes: dict[int | None, TreeNode] = {}  # looked up by parent_id (None: no parent)
    roots: list[TreeNode] = []
    # Ordered by path, so a parent always comes before its children.
    for area in areas_in_scopes(session, roots_paths):
        node = TreeNode(area, editable=policy.allowed(actor, "area:manage", area))
        nodes[area.id] = node
        parent = nodes.get(area.parent_id) if area.path not in roots_paths else None
        (parent.children if parent else roots).append(node)

    def count(node: TreeNode) -> int:
        node.communities = (node.area.level == "community") + sum(count(c) for c in node.children)
        return node.communities

    for root in roots:
        count(root)
    return roots


def find_node(roots: list[TreeNode], area_id: int) -> TreeNode | None:
    """The node of `area_id` in an already loaded tree (None when outside it)."""
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node.area.id == area_id:
            return node
        stack.extend(node.children)
    return None


def community_for(session: Session, *, actor: policy.Actor, community_id: int | None,
                  action: str) -> Area:
    """The community a page works in: the given one (authorized) or the actor's first one."""
    if community_id is None:
        communities = communities_for(session, actor, action)
        if not communities:
            raise Forbidden(action=action)
        return communities[0]
    area = session.get(Area, community_id)
    if area is None:
        raise NotFound()
    policy.require(actor, action, area)
    if area.level != "community":
        raise NotFound()
    return area
