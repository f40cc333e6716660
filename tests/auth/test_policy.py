"""The authorization policy, pure: scopes are path prefixes, ranks decide who may grant what."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from community.auth import policy
from community.auth.policy import Actor, Grant
from community.errors import Forbidden


@dataclass
class Node:
    """Stands in for an Area: only the path matters to the policy."""

    path: str


CITY, DISTRICT, STREET_2, STREET_23 = Node("/1/"), Node("/1/2/"), Node("/1/2/5/"), Node("/1/23/")
COMMUNITY_2 = Node("/1/2/5/9/")
COMMUNITY_23 = Node("/1/23/7/")


def actor(*grants: tuple[str, str]) -> Actor:
    """An actor holding (role, path) grants."""
    return Actor(1, [Grant(role, i, path) for i, (role, path) in enumerate(grants, start=100)])


def test_covers_is_a_prefix_test_on_whole_segments() -> None:
    assert policy.covers("/1/2/", "/1/2/")
    assert policy.covers("/1/2/", "/1/2/5/9/")
    assert policy.covers("/1/", "/1/23/")
    # "/1/2/" must not cover "/1/23/": the trailing slash separates 2 from 23.
    assert not policy.covers("/1/2/", "/1/23/")
    assert not policy.covers("/1/2/", "/1/23/7/")
    assert not policy.covers("/1/2/5/", "/1/2/")  # a child never covers its parent


def test_allowed_inside_scope_only() -> None:
    manager = actor(("manager", COMMUNITY_2.path))
    assert policy.allowed(manager, "household:read", COMMUNITY_2)
    assert not policy.allowed(manager, "household:read", COMMUNITY_23)
    assert not policy.allowed(manager, "household:read", STREET_2)  # not upwards
    street_admin = actor(("area_admin", "/1/2/"))
    assert policy.allowed(street_admin, "audit:read", COMMUNITY_2)
    assert not policy.allowed(street_admin, "audit:read", COMMUNITY_23)


def test_allowed_checks_the_role_not_just_the_scope() -> None:
    resident = actor(("resident", COMMUNITY_2.path))
    assert not policy.allowed(resident, "household:read", COMMUNITY_2)
    steward = actor(("steward", COMMUNITY_2.path))
    assert policy.allowed(steward, "drop:record", COMMUNITY_2)
    assert not policy.allowed(actor(("area_admin", "/1/")), "drop:record", COMMUNITY_2)
    # Only city admins manage the tree, even inside an area admin's own subtree.
    assert not policy.allowed(actor(("area_admin", "/1/2/")), "area:manage", STREET_2)
    assert policy.allowed(actor(("city_admin", "/1/")), "area:manage", COMMUNITY_23)


def test_no_grants_allows_nothing() -> None:
    assert not policy.allowed(Actor(None, []), "audit:read", CITY)


def test_unknown_action_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        policy.allowed(actor(("city_admin", "/1/")), "area:destroy", CITY)


def test_require_raises_forbidden() -> None:
    manager = actor(("manager", COMMUNITY_2.path))
    policy.require(manager, "card:manage", COMMUNITY_2)  # no exception
    with pytest.raises(Forbidden) as info:
        policy.require(manager, "card:manage", COMMUNITY_23)
    assert info.value.status == 403
    assert info.value.details == {"action": "card:manage"}


def test_scopes_keeps_outermost_paths_for_the_action() -> None:
    many = actor(("manager", "/1/2/5/9/"), ("area_admin", "/1/2/"), ("manager", "/1/23/7/"),
                 ("resident", "/1/30/"))
    assert sorted(policy.scopes(many, "audit:read")) == ["/1/2/", "/1/23/7/"]
    # "/1/2/" must not swallow "/1/23/7/" (prefix without the slash would).
    assert sorted(policy.scopes(many, "drop:record")) == ["/1/2/5/9/", "/1/23/7/"]
    assert policy.scopes(actor(("resident", "/1/30/")), "audit:read") == []


def test_can_grant_only_below_own_rank_inside_scope() -> None:
    manager = actor(("manager", COMMUNITY_2.path))
    for role in ("resident", "steward", "station_chief"):
        assert policy.can_grant(manager, role, COMMUNITY_2)
        assert not policy.can_grant(manager, role, COMMUNITY_23)
    assert not policy.can_grant(manager, "manager", COMMUNITY_2)
    assert not policy.can_grant(manager, "area_admin", COMMUNITY_2)

    area_admin = actor(("area_admin", "/1/2/"))
    assert policy.can_grant(area_admin, "manager", COMMUNITY_2)
    assert not policy.can_grant(area_admin, "manager", COMMUNITY_23)  # /1/23/ is not under /1/2/
    assert not policy.can_grant(area_admin, "area_admin", STREET_2)
    assert not policy.can_grant(area_admin, "city_admin", CITY)
    assert not policy.can_grant(area_admin, "city_admin", STREET_2)

    city_admin = actor(("city_admin", "/1/"))
    assert policy.can_grant(city_admin, "area_admin", STREET_23)
    assert not policy.can_grant(city_admin, "city_admin", CITY)


def test_can_grant_uses_the_highest_role_covering_the_target() -> None:
    # A manager of one community who is also area admin elsewhere gains nothing here.
    mixed = actor(("manager", COMMUNITY_2.path), ("area_admin", "/1/23/"))
    assert not policy.can_grant(mixed, "manager", COMMUNITY_2)
    assert policy.can_grant(mixed, "manager", COMMUNITY_23)
    # Non-admin roles never grant, whatever their rank.
    chief = actor(("station_chief", COMMUNITY_2.path))
    assert not policy.can_grant(chief, "resident", COMMUNITY_2)


def test_highest_role_and_has_any() -> None:
    grants = [Grant("resident", 1, "/1/2/5/9/"), Grant("manager", 2, "/1/2/5/9/")]
    assert policy.highest_role(grants) == "manager"
    assert policy.highest_role([]) is None
    a = Actor(3, grants)
    assert a.has_any("manager", "city_admin")
    assert not a.has_any("city_admin")
    assert a.roles() == {"resident", "manager"}


def test_offers_anywhere_in_any_grant() -> None:
    """Menus: the actor may do the action somewhere (any area), whatever its other roles."""
    chief = actor(("station_chief", COMMUNITY_2.path))
    assert policy.offers(chief, "drop:read")
    assert not policy.offers(chief, "station:manage")
    both = actor(("steward", COMMUNITY_2.path), ("area_admin", STREET_23.path))
    assert policy.offers(both, "area:tree")
    assert policy.offers(both, "steward:self")
    assert not policy.offers(both, "station:run")


def test_offers_treats_an_account_without_grants_as_a_resident() -> None:
    assert policy.offers(Actor(1, []), "home:read")
    assert policy.offers(Actor(1, []), "inbox:read")
    assert not policy.offers(Actor(1, []), "steward:self")
    assert not policy.offers(Actor(None, []), "home:read")  # anonymous: nothing
    assert not policy.offers(actor(("manager", COMMUNITY_2.path)), "home:read")
    with pytest.raises(KeyError):
        policy.offers(Actor(1, []), "no:such-action")
