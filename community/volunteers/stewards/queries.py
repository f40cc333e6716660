"""What the steward pages show: a community's invitations, the roster, a steward's page, the
steward's own profile and the station chiefs; and the loaders the services share.

Read-only: these authorize and load, never write (`services` writes, loading through
`community_area`, `steward_for`, `chief_stations` and `my_communities`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, cast

from sqlalchemy import case, func, or_
from sqlmodel import Session, col, select

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.auth import policy
from community.auth import services as auth_services
from community.auth.models import Account, RoleGrant
from community.errors import NotFound
from community.households.models import Household, HouseholdMember
from community.rows import pk
from community.stations.models import Station
from community.volunteers.models import STEWARD_STATUSES, TRAINING, Steward, StewardInvite
from community.volunteers.stewards.rules import invite_state, slots_of
from community.web.pagination import Page, paginate

# --- Loaders (the services load through these too) ----------------------------------------

def community_area(session: Session, community_id: int) -> Area:
    """A community (NotFound for another level or an unknown id)."""
    area = session.get(Area, community_id)
    if area is None or area.level != "community":
        raise NotFound()
    return area


def steward_for(session: Session, *, actor: policy.Actor, steward_id: int,
                action: str = "steward:manage", lock: bool = False) -> tuple[Steward, Area]:
    """A steward and their community, if the actor may do `action` there (else 404/403)."""
    stmt = select(Steward).where(Steward.id == steward_id)
    steward = session.exec(stmt.with_for_update() if lock else stmt).first()
    if steward is None:
        raise NotFound()
    area = community_area(session, steward.community_id)
    policy.require(actor, action, area)
    return steward, area


def invite_for(session: Session, *, actor: policy.Actor, invite_id: int) -> StewardInvite:
    """An invitation link of a community where the actor manages stewards (else 404/403)."""
    invite = session.get(StewardInvite, invite_id)
    if invite is None:
        raise NotFound()
    policy.require(actor, "steward:manage", community_area(session, invite.community_id))
    return invite


def chief_stations(session: Session, community_id: int, account_id: int) -> list[Station]:
    """The stations of a community whose chief the account is, by name."""
    return list(session.exec(select(Station).where(
        Station.community_id == community_id, Station.chief_id == account_id)
        .order_by(col(Station.name))))


def my_communities(session: Session, account_id: int) -> list[Area]:
    """Communities an account belongs to: its active households' and its community roles'.

    (The households are read here directly: residents sits above volunteers in the layers.)
    """
    homes = (select(Household.community_id)
             .join(HouseholdMember, col(HouseholdMember.household_id) == Household.id)
             .where(HouseholdMember.account_id == account_id,
                    HouseholdMember.status == "approved", Household.status == "active"))
    roles = select(RoleGrant.area_id).where(RoleGrant.account_id == account_id)
    return list(session.exec(
        select(Area).where(Area.level == "community",
                           or_(col(Area.id).in_(homes), col(Area.id).in_(roles)))
        .order_by(col(Area.name), col(Area.id))))


# --- Invitations ----------------------------------------------------------------------------

@dataclass
class InviteRow:
    """An invitation in the manager's list with its state and who made it."""

    invite: StewardInvite
    state: str
    created_by: str | None


@dataclass
class InviteList:
    """The invitations page: the community picker, the community and its invitations."""

    communities: list[Area]
    community: Area
    invites: list[InviteRow]


def list_invites(session: Session, *, actor: policy.Actor, community_id: int | None,
                 now: datetime | None = None, limit: int = 100) -> InviteList:
    """A community's invitations, newest first (steward:manage)."""
    now = now or clock.now()
    area = areas_services.community_for(session, actor=actor, community_id=community_id,
                                        action="steward:manage")
    rows = session.exec(
        select(StewardInvite, Account.display_name)
        .outerjoin(Account, col(Account.id) == StewardInvite.created_by)
        .where(StewardInvite.community_id == area.id)
        .order_by(col(StewardInvite.id).desc()).limit(limit)).all()
    return InviteList(areas_services.communities_for(session, actor, "steward:manage"), area,
                      [InviteRow(i, invite_state(i, now), name) for i, name in rows])


# --- Roster and detail ----------------------------------------------------------------------

@dataclass
class RosterFilter:
    """The roster's filters (all optional)."""

    community_id: int | None = None
    status: str = ""
    training: str = ""
    q: str = ""           # name or phone
    chiefs: bool = False  # only station chiefs


@dataclass
class RosterRow:
    """One steward on the roster: who, how to reach them, what they can do and when."""

    steward: Steward
    name: str
    phone: str | None
    chief_of: list[str]


@dataclass
class Roster:
    """The roster page: picker, community, resolved filter, counts by status and one page."""

    communities: list[Area]
    community: Area
    filters: RosterFilter
    counts: dict[str, int]
    page: Page  # items: RosterRow
    can_manage: bool


_STATUS_ORDER = case({"pending": 0, "approved": 1, "retired": 2, "rejected": 3},
                     value=col(Steward.status), else_=4)


def _chiefs_by_account(session: Session, community_id: int,
                       account_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    if not account_ids:
        return out
    for chief_id, name in session.exec(
            select(Station.chief_id, Station.name)
            .where(Station.community_id == community_id,
                   col(Station.chief_id).in_(account_ids))
            .order_by(col(Station.name))):
        out.setdefault(cast(int, chief_id), []).append(name)  # in account_ids: never NULL
    return out


def roster(session: Session, *, actor: policy.Actor, filters: RosterFilter, page: int = 1,
           per_page: int = 50) -> Roster:
    """One page of a community's stewards, pending first (steward:read)."""
    area = areas_services.community_for(session, actor=actor, community_id=filters.community_id,
                                        action="steward:read")
    conds: list[Any] = [col(Steward.community_id) == area.id]
    status = filters.status if filters.status in STEWARD_STATUSES else ""
    training = filters.training if filters.training in TRAINING else ""
    if status:
        conds.append(col(Steward.status) == status)
    if training:
        conds.append(col(Steward.training) == training)
    can_manage = policy.allowed(actor, "steward:manage", area)
    q = (filters.q or "").strip()
    if q:
        terms = [col(Account.display_name).contains(q, autoescape=True)]
        digits = auth_services.normalize_phone(q)
        if digits.isdigit() and can_manage:  # a chief sees masked numbers: no probing them
            terms.append(col(Account.phone).contains(digits, autoescape=True))
        conds.append(or_(*terms))
    if filters.chiefs:
        conds.append(col(Steward.account_id).in_(select(Station.chief_id).where(
            Station.community_id == area.id)))
    stmt = (select(Steward, Account.display_name, Account.phone)
            .join(Account, col(Account.id) == Steward.account_id)
            .where(*conds).order_by(_STATUS_ORDER, col(Account.display_name), col(Steward.id)))
    result = paginate(session, stmt, page=page, per_page=per_page)
    chiefs = _chiefs_by_account(session, pk(area),
                                [s.account_id for s, _n, _p in result.items])
    # Station chiefs see 139****0001: they need to know who, the manager calls (DOMAIN
    # privacy: a phone number only for the roles that need it).
    result.items = [RosterRow(s, name, phone if can_manage else auth_services.mask_phone(phone),
                              chiefs.get(s.account_id, []))
                    for s, name, phone in result.items]
    counts = dict(session.exec(select(Steward.status, func.count())
                               .where(Steward.community_id == area.id)
                               .group_by(Steward.status)).all())
    return Roster(
        communities=areas_services.communities_for(session, actor, "steward:read"),
        community=area,
        filters=RosterFilter(area.id, status, training, q, filters.chiefs),
        counts={s: counts.get(s, 0) for s in STEWARD_STATUSES}, page=result,
        can_manage=can_manage)


@dataclass
class StewardDetail:
    """A steward's page for the manager: person, application, training, availability, posts."""

    steward: Steward
    community: Area
    account: Account
    phone: str          # masked (139****0001) for readers who do not manage stewards
    chief_of: list[str]
    decided_by: str | None
    can_manage: bool
    today: date


def steward_detail(session: Session, *, actor: policy.Actor, steward_id: int,
                   now: datetime | None = None) -> StewardDetail:
    """Everything the manager's steward page shows (steward:read)."""
    steward, area = steward_for(session, actor=actor, steward_id=steward_id,
                                action="steward:read")
    account = cast(Account, session.get(Account, steward.account_id))  # a foreign key
    decider = session.get(Account, steward.decided_by) if steward.decided_by else None
    can_manage = policy.allowed(actor, "steward:manage", area)
    return StewardDetail(
        steward=steward, community=area, account=account,
        phone=(account.phone or "") if can_manage else auth_services.mask_phone(account.phone),
        chief_of=[s.name for s in chief_stations(session, pk(area),
                                                  steward.account_id)],
        decided_by=decider.display_name if decider else None,
        can_manage=can_manage,
        today=clock.local_today(area.timezone, now))


# --- The steward's own profile (phone) ------------------------------------------------------

@dataclass
class MyStewardship:
    """One community the account volunteers in (any status), with its station chief posts."""

    steward: Steward
    community: Area
    slots: list[tuple[int, time, time]]
    chief_of: list[str]


@dataclass
class StewardHome:
    """The /steward/profile page: the account's stewardships and where else it could apply."""

    account: Account
    stewardships: list[MyStewardship]
    can_apply: list[Area] = field(default_factory=list)


def my_profile(session: Session, account_id: int) -> StewardHome:
    """The account's own steward profile(s) and the communities open to an application."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound()
    rows = session.exec(
        select(Steward, Area).join(Area, col(Area.id) == Steward.community_id)
        .where(Steward.account_id == account_id).order_by(col(Steward.id))).all()
    mine = [MyStewardship(s, a, slots_of(s),
                          [st.name for st in chief_stations(session, pk(a),
                                                             account_id)])
            for s, a in rows]
    taken = {s.steward.community_id for s in mine}
    return StewardHome(account, mine,
                       [a for a in my_communities(session, account_id) if a.id not in taken])


# --- Station chiefs -------------------------------------------------------------------------

@dataclass
class ChiefRow:
    """A station with its chief (if any)."""

    station: Station
    chief_name: str | None
    chief_steward_id: int | None


@dataclass
class ChiefBoard:
    """The station chiefs page: stations with chiefs, and the approved stewards to appoint."""

    communities: list[Area]
    community: Area
    stations: list[ChiefRow]
    candidates: list[tuple[int, str]]  # (steward id, name)
    can_manage: bool


def chief_board(session: Session, *, actor: policy.Actor,
                community_id: int | None) -> ChiefBoard:
    """A community's stations with their chiefs and the approved stewards (steward:read)."""
    area = areas_services.community_for(session, actor=actor, community_id=community_id,
                                        action="steward:read")
    stewards = session.exec(
        select(Steward.id, Steward.account_id, Account.display_name, Steward.status)
        .join(Account, col(Account.id) == Steward.account_id)
        .where(Steward.community_id == area.id)
        .order_by(col(Account.display_name), col(Steward.id))).all()
    # Looked up by chief_id, which is None for a station without a chief.
    by_account: dict[int | None, int | None] = {
        acc: sid for sid, acc, _n, status in stewards if status == "approved"}
    rows = session.exec(
        select(Station, Account.display_name)
        .outerjoin(Account, col(Account.id) == Station.chief_id)
        .where(Station.community_id == area.id).order_by(col(Station.name))).all()
    return ChiefBoard(
        communities=areas_services.communities_for(session, actor, "steward:read"),
        community=area,
        stations=[ChiefRow(s, name, by_account.get(s.chief_id)) for s, name in rows],
        candidates=[(cast(int, sid), name)  # a primary key: never NULL
                    for sid, _a, name, status in stewards if status == "approved"],
        can_manage=policy.allowed(actor, "steward:manage", area))
