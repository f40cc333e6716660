"""The one authorization rule: may `actor` do `action` inside `area`?

A grant covers its own area and everything below it (path prefix). Pure: no DB,
no Flask; the actor carries its grants as (role, area_id, area_path) triples.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from community.errors import Forbidden

# Rank orders roles for "who may grant what": one may only grant roles ranked below one's own.
RANK = {
    "device": -1,
    "resident": 0,
    "steward": 1,
    "station_chief": 2,
    # A collector (收运员) works a street or district; area and city admins grant it.
    "collector": 2,
    "manager": 3,
    "area_admin": 4,
    "city_admin": 5,
}

ADMINS = frozenset({"manager", "area_admin", "city_admin"})
# An account without any grant yet is a resident who has not linked a household: it lands on
# the resident's home and its menu offers what residents are offered.
DEFAULT_ROLE = "resident"

# action -> roles allowed to perform it (inside the scope of the grant).
ACTIONS: dict[str, frozenset[str]] = {
    "area:read": ADMINS,
    "area:manage": frozenset({"city_admin"}),
    # The area tree page: area and city admins (a manager's area is one community).
    "area:tree": frozenset({"area_admin", "city_admin"}),
    "account:manage": ADMINS,
    "role:grant": ADMINS,
    "audit:read": ADMINS,
    "household:read": ADMINS,
    "household:write": ADMINS,
    "household:import": ADMINS,
    "card:manage": ADMINS,
    "card:print": ADMINS,
    "member:approve": ADMINS,
    "community:settings": ADMINS,
    # The city-wide mis-drop reasons and their how-to texts (a community's own: settings).
    "reasons:city": frozenset({"city_admin"}),
    "station:read": ADMINS | {"steward", "station_chief"},
    "station:manage": ADMINS,
    "device:manage": ADMINS,
    # "device" is the pseudo-role of a kiosk/smart bin/scale authenticated by its token.
    "drop:record": frozenset({"steward", "station_chief", "manager", "device"}),
    # Recording without being on a shift there (stewards record only on duty: stations.duty).
    "drop:record_anywhere": frozenset({"station_chief", "manager", "device"}),
    "drop:read": ADMINS | {"station_chief"},
    "drop:regrade": ADMINS | {"station_chief"},
    # Replacing another recorder's drop photo (the recorder may replace their own).
    "drop:photo_replace": ADMINS,
    "points:read": ADMINS,
    "points:adjust": ADMINS,
    "rules:manage": ADMINS,
    "rewards:manage": ADMINS,
    # Handing a reserved reward over at the station (scanning the resident's pickup QR).
    "rewards:hand_over": ADMINS | {"steward", "station_chief"},
    "jobs:read": frozenset({"city_admin"}),
    # "Run now" on the jobs page: the same exactly-once claim as the scheduler (job_run).
    "jobs:run": frozenset({"city_admin"}),
    # Casework (issue 17): cases of repeat mis-drops, their education tasks, verdict audits.
    # Chiefs and managers see and assign cases; the assigned steward records the task.
    "case:read": ADMINS | {"station_chief"},
    "case:manage": ADMINS | {"station_chief"},
    "case:act": ADMINS | {"steward", "station_chief"},
    # The private watchlist of households with repeated cases: managers and above only.
    "case:watchlist": ADMINS,
    # Re-grading a sample of stewards' verdicts blind (never one's own).
    "verdict:audit": ADMINS | {"station_chief"},
    # Volunteers: managers run stewards, rotas and hours; station chiefs confirm presence.
    "steward:manage": ADMINS,
    "steward:read": ADMINS | {"station_chief"},
    "shift:confirm": ADMINS | {"station_chief"},
    # Ratings and dashboards: managers read their community's figures, area and city admins
    # their areas' rankings; tonnages are entered by area and city admins.
    "ratings:read": ADMINS,
    # Publishing rating policies (and simulating a draft) is the city admin's.
    "ratings:policy": frozenset({"city_admin"}),
    "tonnage:write": frozenset({"area_admin", "city_admin"}),
    # Pages of one's own, offered in the menu (the pages themselves show only one's own rows).
    "home:read": frozenset({"resident", "steward", "station_chief"}),
    "inbox:read": frozenset(RANK) - {"device"},
    "steward:self": frozenset({"steward", "station_chief"}),  # profile, shifts, check-in, hours
    # Working at a station with a phone (scan, reward pickup): the people on duty there and the
    # community's manager; area and city admins may hand rewards over but do not work there.
    "station:work": frozenset({"steward", "station_chief", "manager"}),
    # Running a station's check-in (its rotating code, who is in today): chiefs and managers.
    "station:run": frozenset({"station_chief", "manager"}),
    # Reports (随手拍, community/reports): residents and the people on duty report problems in
    # their community; chiefs and managers see and handle the community's reports; street and
    # district admins see their area's reports (the overdue list), handle the ones that
    # reached them (escalated, or 混收混运, which goes to the street); the city sets deadlines.
    "report:file": frozenset({"resident", "steward", "station_chief", "manager"}),
    "report:read": ADMINS | {"station_chief"},
    "report:handle": ADMINS | {"station_chief"},
    "report:area": frozenset({"area_admin", "city_admin"}),
    "report:deadlines": frozenset({"city_admin"}),
    # Collection (收运, community/collection): collectors record pickups at the stations of
    # their street or district; managers print the stations' collection QR and set pickup
    # windows; the figures (punctuality, 收运端检出) are read by admins.
    "collection:record": frozenset({"collector"}),
    "collection:manage": ADMINS,
    "collection:read": ADMINS,
}


class HasPath(Protocol):
    """Anything that knows its place in the area tree."""

    @property
    def path(self) -> str: ...


@dataclass(frozen=True)
class Grant:
    """A role bound to a scope."""

    role: str
    area_id: int
    area_path: str


@dataclass
class Actor:
    """Who is acting: an account id (None for a device or the system) and its grants."""

    account_id: int | None
    grants: list[Grant] = field(default_factory=list)

    def roles(self) -> set[str]:
        """All role names this actor holds anywhere."""
        return {g.role for g in self.grants}

    def has_any(self, *roles: str) -> bool:
        """True when the actor holds at least one of `roles` somewhere."""
        return any(g.role in roles for g in self.grants)


def covers(scope_path: str, target_path: str) -> bool:
    """True when target lies in (or is) the scope node."""
    return target_path.startswith(scope_path)


def allowed(actor: Actor, action: str, area: HasPath) -> bool:
    """Whether `actor` may do `action` in `area`."""
    roles = ACTIONS.get(action)
    if roles is None:
        raise KeyError(f"unknown action {action!r}")
    return any(g.role in roles and covers(g.area_path, area.path) for g in actor.grants)


def require(actor: Actor, action: str, area: HasPath) -> None:
    """Raise Forbidden unless `actor` may do `action` in `area`."""
    if not allowed(actor, action, area):
        raise Forbidden(action=action)


def offers(actor: Actor, action: str) -> bool:
    """Whether a menu offers `action`'s pages: the actor may do it somewhere.

    An account without grants counts as DEFAULT_ROLE; the anonymous actor is offered nothing.
    """
    roles = ACTIONS[action]
    held = actor.roles() or ({DEFAULT_ROLE} if actor.account_id is not None else set())
    return not held.isdisjoint(roles)


def scopes(actor: Actor, action: str) -> list[str]:
    """Area paths where `actor` may do `action` (outermost only), for filtering queries."""
    roles = ACTIONS[action]
    paths = sorted({g.area_path for g in actor.grants if g.role in roles}, key=len)
    outer: list[str] = []
    for p in paths:
        if not any(covers(o, p) for o in outer):
            outer.append(p)
    return outer


def can_grant(actor: Actor, role: str, area: HasPath) -> bool:
    """One may grant a role strictly below one's own highest role covering `area`."""
    ranks = [RANK[g.role] for g in actor.grants
             if g.role in ADMINS and covers(g.area_path, area.path)]
    return bool(ranks) and RANK[role] < max(ranks)


def highest_role(grants: Iterable[Grant]) -> str | None:
    """The highest-ranked role among grants, used to pick a landing page."""
    best = max(grants, key=lambda g: RANK[g.role], default=None)
    return best.role if best else None
