"""Read queries of the rating pages: the ratings of the reader's communities for a month, one
community's rating with its history, and the policy page (versions, the policy in force,
and a draft's simulation).

Every function authorizes before it reads: a manager sees their communities, an area admin
the communities of their area, the city admin all (`ratings:read`); the policy page is the
city admin's (`ratings:policy`). Reads only.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session, col

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.auth import policy as auth_policy
from community.auth.models import Account
from community.errors import Forbidden, NotFound
from community.ratings import policy as rating_policy
from community.ratings import services
from community.ratings.models import Rating, RatingChange, RatingPolicy
from community.ratings.policy import LEVELS, Policy
from community.ratings.rollups import month_start
from community.ratings.schemas import SimulationIn
from community.rows import pk
from community.web.pagination import Page, paginate

HISTORY_MONTHS = 24
UNRATED = "unrated"  # the list filter for communities without a rating that month


def _scope_paths(actor: auth_policy.Actor, action: str = "ratings:read") -> list[str]:
    paths = auth_policy.scopes(actor, action)
    if not paths:
        raise Forbidden(action=action)
    return paths


def _under(paths: list[str]) -> Any:
    return or_(*[col(Area.path).startswith(p) for p in paths])


def _default_month(session: Session, paths: list[str], tz: str, now: datetime | None) -> date:
    """The newest rated month in scope, else last month."""
    newest = session.execute(
        select(func.max(Rating.month)).join(Area, col(Area.id) == Rating.community_id)
        .where(_under(paths))).scalar_one()
    return newest or services.add_months(services.local_month(tz, now), -1)


# --- The list of a month ---------------------------------------------------------------------

@dataclass
class Overview:
    """The reader's communities and their ratings of one month, with counts per level."""

    month: date
    months: list[date]          # months with ratings in scope, newest first (the picker)
    level: str | None           # the list's filter
    page: Page                  # items: (Area, Rating | None)
    counts: dict[str, int]      # per level, plus UNRATED
    can_set_policy: bool

    @property
    def coverage(self) -> float | None:
        """Compliant coverage (达标小区覆盖率) of the month in scope."""
        rated = sum(self.counts[level] for level in LEVELS if level != "insufficient")
        good = self.counts["compliant"] + self.counts["star"]
        return good / rated if rated else None


def overview(session: Session, *, actor: auth_policy.Actor, month: date | None,
             level: str | None, page: int, per_page: int,
             now: datetime | None = None) -> Overview:
    """Every community in the reader's scope with its rating of `month` (newest by default)."""
    paths = _scope_paths(actor)
    month = (month_start(month) if month
             else _default_month(session, paths, clock.DEFAULT_TZ, now))
    months = list(session.execute(
        select(col(Rating.month)).join(Area, col(Area.id) == Rating.community_id)
        .where(_under(paths)).distinct().order_by(col(Rating.month).desc())
        .limit(HISTORY_MONTHS)).scalars())
    if month not in months:
        months = sorted({*months, month}, reverse=True)
    joined = and_(col(Rating.community_id) == Area.id, col(Rating.month) == month)
    base = select(Area, Rating).outerjoin(Rating, joined).where(
        col(Area.level) == "community", _under(paths))
    if level == UNRATED:
        base = base.where(col(Rating.id).is_(None))
    elif level in LEVELS:
        base = base.where(col(Rating.level) == level)
    else:
        level = None
    listed = paginate(session, base.order_by(col(Area.path)), page=page, per_page=per_page)
    counts = dict.fromkeys((*LEVELS, UNRATED), 0)
    for got, n in session.execute(
            select(col(Rating.level), func.count()).select_from(Area).outerjoin(Rating, joined)
            .where(col(Area.level) == "community", _under(paths)).group_by(Rating.level)):
        counts[got or UNRATED] = int(n)
    can_set = bool(auth_policy.scopes(actor, "ratings:policy"))
    return Overview(month, months, level, listed, counts, can_set)


# --- One community -------------------------------------------------------------------------

@dataclass
class CommunityRatings:
    """One community's rating of a month, the policy behind it, and its history."""

    community: Area
    full_name: str
    month: date
    this_month: date            # the running local month (its rating is provisional)
    rating: Rating | None
    policy_area: str | None     # the area whose policy rated it (None: the default)
    history: list[Rating]       # newest first
    changes: list[RatingChange]  # changes of the shown month's published level, oldest first
    final_from: date            # the first day the shown month's rating is final


def community_ratings(session: Session, *, actor: auth_policy.Actor, community_id: int,
                      month: date | None, now: datetime | None = None) -> CommunityRatings:
    """A community's rating of `month` (its newest by default) and its monthly history."""
    community = areas_services.community_for(session, actor=actor, community_id=community_id,
                                             action="ratings:read")
    history = list(session.execute(
        select(Rating).where(col(Rating.community_id) == community.id)
        .order_by(col(Rating.month).desc()).limit(HISTORY_MONTHS)).scalars())
    this_month = services.local_month(community.timezone, now)
    if month is None:
        month = history[0].month if history else services.add_months(this_month, -1)
    month = month_start(month)
    rating = next((r for r in history if r.month == month), None)
    if rating is None:
        rating = services.rating_for(session, pk(community), month)
    policy_area = None
    if rating is not None and rating.policy_area_id is not None:
        found = session.get(Area, rating.policy_area_id)
        policy_area = found.name if found else None
    return CommunityRatings(community, areas_services.full_name(session, community), month,
                            this_month, rating, policy_area, history,
                            services.rating_changes(session, pk(community), month),
                            services.final_from(month))


# --- The policy page -----------------------------------------------------------------------

@dataclass(frozen=True)
class VersionRow:
    """One published version of the area's policy."""

    version: int
    effective_month: date
    policy: Policy
    note: str
    published_by: str | None
    published_at: datetime
    in_force: bool
    upcoming: bool


@dataclass
class PolicyPage:
    """An area's rating policy: what is in force, its versions, the picker, a simulation."""

    areas: list[Area]               # the areas the admin may set a policy for
    area: Area
    area_name: str
    this_month: date
    in_force: services.InForce
    source_name: str | None         # the area the policy in force comes from (None: default)
    versions: list[VersionRow]
    months: list[date]              # months to simulate, newest first
    simulation: services.Simulation | None = None


def policy_page(session: Session, *, actor: auth_policy.Actor, area_id: int | None,
                now: datetime | None = None, draft: SimulationIn | None = None) -> PolicyPage:
    """The policy page of an area (the admin's outermost area by default); with a draft (and
    its month), also the simulation of publishing that draft for the area."""
    paths = _scope_paths(actor, "ratings:policy")
    if area_id is None:
        found = session.execute(select(Area).where(col(Area.path) == paths[0])).scalars().first()
        if found is None:
            raise NotFound()
        area = found
    else:
        got = session.get(Area, area_id)
        if got is None:
            raise NotFound()
        area = got
    auth_policy.require(actor, "ratings:policy", area)
    areas = [a for a in areas_services.areas_in_scopes(session, paths) if a.level != "community"]
    if area not in areas:
        areas.append(area)
    this_month = services.local_month(area.timezone, now)
    in_force = services.policy_for(session, area, this_month)
    source = session.get(Area, in_force.area_id) if in_force.area_id else None
    rows = session.execute(
        select(RatingPolicy, col(Account.display_name))
        .outerjoin(Account, col(Account.id) == RatingPolicy.created_by)
        .where(col(RatingPolicy.area_id) == area.id)
        .order_by(col(RatingPolicy.version).desc())).all()
    versions = [VersionRow(r.version, r.effective_month, rating_policy.from_params(
        r.params), r.note, name, r.created_at,
        in_force.area_id == area.id and in_force.version == r.version,
        r.effective_month > this_month) for r, name in rows]
    months = list(session.execute(
        select(col(Rating.month)).join(Area, col(Area.id) == Rating.community_id)
        .where(col(Area.path).startswith(area.path)).distinct()
        .order_by(col(Rating.month).desc()).limit(HISTORY_MONTHS)).scalars())
    for extra in (this_month, services.add_months(this_month, -1)):
        if extra not in months:
            months.append(extra)
    months.sort(reverse=True)
    page = PolicyPage(areas, area, areas_services.full_name(session, area), this_month,
                      in_force, source.name if source else None, versions, months)
    if draft is not None:
        page.simulation = services.simulate(session, actor=actor, area_id=pk(area),
                                            data=draft, now=now)
    return page
