"""Resident use cases: link an account to a household by its card, manager decisions, home data.

The community's `link_mode` decides how a resident proves a card is theirs:
- "code": the one-time link code printed on the card; the first correct use links at once
  and spends the code. Later family members (the code is spent) become pending requests.
- "approval": every request waits for a community manager.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.audit import services as audit
from community.auth import policy
from community.auth import services as auth_services
from community.auth.models import Account
from community.errors import Conflict, DomainError, InvalidInput, NotFound
from community.households import codes
from community.households import services as households_services
from community.households.models import Card, Household, HouseholdMember
from community.points import services as points_services
from community.ratings import standing as ratings_standing
from community.residents.schemas import LinkIn
from community.rows import pk

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


class LinkCodeWrong(DomainError):
    """One message for any wrong link code, so codes cannot be probed character by character."""

    code, status, message = "link_code_wrong", 422, _l(
        "The link code does not match this card. Check the code printed on the card."
    )


class LinkCodeRequired(InvalidInput):
    """Code mode needs the link code; approval mode does not."""

    code, message = "link_code_required", _l("Enter the link code printed on your card.")


class HouseholdInactive(DomainError):
    """A moved-out household takes no new members."""

    code, status, message = "household_inactive", 409, _l(
        "This household has moved out and cannot be linked."
    )


@dataclass(frozen=True)
class LinkOutcome:
    """What `link_household` did: `result` is linked | already_linked | pending | code_used."""

    member: HouseholdMember
    household: Household
    result: str


@dataclass(frozen=True)
class MyHousehold:
    """One household the resident belongs to, with what the home page shows."""

    member: HouseholdMember
    household: Household
    community: Area
    card: Card | None
    address: str


@dataclass(frozen=True)
class PendingLink:
    """A link request awaiting a manager."""

    member_id: int
    household_id: int
    address: str
    account_name: str
    account_login: str
    requested_at: datetime


def _grant_resident(session: Session, account_id: int, area: Area) -> None:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound()
    auth_services.add_grant(session, account=account, role="resident", area=area)


def _approve(session: Session, member: HouseholdMember, area: Area,
             decided_by: int | None) -> None:
    member.status = APPROVED
    member.decided_by = decided_by
    member.decided_at = clock.now()
    session.add(member)
    _grant_resident(session, member.account_id, area)
    session.flush()


def _spend_link_code(session: Session, card: Card) -> bool:
    """Mark the card's link code used; False when someone used it first (conditional UPDATE)."""
    now = clock.now()
    result = session.exec(
        update(Card)
        .where(col(Card.id) == card.id, col(Card.link_code_used_at).is_(None))
        .values(link_code_used_at=now)
        .execution_options(synchronize_session=False)
    )
    session.expire(card, ["link_code_used_at"])
    return result.rowcount == 1


def link_household(session: Session, *, account_id: int, data: LinkIn,
                   ip: str | None = None) -> LinkOutcome:
    """Link an account to the household of a card (see the module docstring for the modes)."""
    card, hh = households_services.resolve_card(session, data.short_code)
    if hh.status != "active":
        raise HouseholdInactive()
    area = households_services.household_area(session, hh)
    member = session.exec(select(HouseholdMember).where(
        HouseholdMember.household_id == hh.id, HouseholdMember.account_id == account_id
    )).first()
    if member is not None and member.status == APPROVED:
        return LinkOutcome(member, hh, "already_linked")

    result = PENDING
    if area.link_mode == "code":
        typed = codes.normalize_code(data.link_code)
        if not typed:
            raise LinkCodeRequired(field="link_code")
        if not hmac.compare_digest(typed.encode(), card.link_code.encode()):
            audit.record(session, actor_id=account_id, action="household.link_failed", area=area,
                         target_type="household", target_id=hh.id, ip=ip)
            raise LinkCodeWrong(field="link_code")
        # The right code proves the card is at hand; if a family member spent it already, a
        # manager decides (the code is one-time so a lost or photographed card can't be reused).
        result = "linked" if _spend_link_code(session, card) else "code_used"

    if member is None:
        member = HouseholdMember(household_id=pk(hh), account_id=account_id, status=PENDING)
        try:
            with session.begin_nested():  # a double submit of the same request races here
                session.add(member)
                session.flush()
        except IntegrityError:
            member = session.exec(select(HouseholdMember).where(
                HouseholdMember.household_id == hh.id, HouseholdMember.account_id == account_id
            )).one()
            return LinkOutcome(member, hh,
                               "already_linked" if member.status == APPROVED else PENDING)
    else:  # an earlier pending or rejected request is asked again
        member.status, member.decided_by, member.decided_at = PENDING, None, None
        member.created_at = clock.now()
        session.add(member)
    session.flush()

    if result == "linked":
        _approve(session, member, area, decided_by=None)
        audit.record(session, actor_id=account_id, action="household.linked", area=area,
                     target_type="household", target_id=hh.id, ip=ip, member=member.id,
                     card=card.id, via="code")
    else:
        audit.record(session, actor_id=account_id, action="household.link_requested", area=area,
                     target_type="household", target_id=hh.id, ip=ip, member=member.id,
                     reason=result)
    return LinkOutcome(member, hh, result)


def decide_link(
    session: Session, *, actor: policy.Actor, member_id: int, approve: bool, ip: str | None = None
) -> HouseholdMember:
    """A manager approves or rejects a pending link request in their scope."""
    member = session.get(HouseholdMember, member_id)
    if member is None:
        raise NotFound()
    hh = households_services.get_household(session, member.household_id)
    area = households_services.household_area(session, hh)
    policy.require(actor, "member:approve", area)
    wanted = APPROVED if approve else REJECTED
    if member.status == wanted:
        return member  # a double click or a second manager: same decision, nothing to do
    if member.status != PENDING:
        raise Conflict(field="status")
    if approve:
        _approve(session, member, area, decided_by=actor.account_id)
    else:
        member.status = REJECTED
        member.decided_by = actor.account_id
        member.decided_at = clock.now()
        session.add(member)
        session.flush()
    audit.record(session, actor_id=actor.account_id,
                 action="household.link_approved" if approve else "household.link_rejected",
                 area=area, target_type="household", target_id=hh.id, ip=ip, member=member.id,
                 account=member.account_id)
    return member


def pending_links(session: Session, *, actor: policy.Actor, community_id: int) -> list[PendingLink]:
    """Pending link requests of one community, oldest first (needs member:approve there)."""
    area = areas_services.get_area(session, community_id)
    policy.require(actor, "member:approve", area)
    rows = session.exec(
        select(HouseholdMember, Household, Account)
        .join(Household, col(Household.id) == HouseholdMember.household_id)
        .join(Account, col(Account.id) == HouseholdMember.account_id)
        .where(Household.community_id == area.id, HouseholdMember.status == PENDING)
        .order_by(col(HouseholdMember.created_at), col(HouseholdMember.id))
    ).all()
    return [
        PendingLink(member_id=pk(m), household_id=pk(h),
                    address=households_services.address_label(h), account_name=a.display_name,
                    account_login=a.phone or a.username or "", requested_at=m.created_at)
        for m, h, a in rows
    ]


def _memberships(session: Session, account_id: int, status: str) -> list[MyHousehold]:
    rows = session.exec(
        select(HouseholdMember, Household, Area)
        .join(Household, col(Household.id) == HouseholdMember.household_id)
        .join(Area, col(Area.id) == Household.community_id)
        .where(HouseholdMember.account_id == account_id, HouseholdMember.status == status)
        .order_by(col(HouseholdMember.created_at), col(HouseholdMember.id))
    ).all()
    return [
        MyHousehold(member=m, household=h, community=a,
                    card=households_services.active_card(session, pk(h))
                    if status == APPROVED else None,
                    address=households_services.address_label(h))
        for m, h, a in rows
    ]


def my_households(session: Session, account_id: int) -> list[MyHousehold]:
    """The account's approved households with their active card, oldest link first."""
    return _memberships(session, account_id, APPROVED)


def my_pending(session: Session, account_id: int) -> list[MyHousehold]:
    """The account's link requests still waiting for a manager."""
    return _memberships(session, account_id, PENDING)


def my_card(session: Session, account_id: int, household_id: int | None = None) -> Card:
    """The active card of one of the account's approved households (the first by default).

    Raises NotFound for anything else, so a resident can never fetch another household's card.
    """
    stmt = (
        select(Card)
        .join(HouseholdMember, col(HouseholdMember.household_id) == Card.household_id)
        .where(HouseholdMember.account_id == account_id, HouseholdMember.status == APPROVED,
               Card.status == "active")
        .order_by(col(HouseholdMember.created_at), col(HouseholdMember.id))
    )
    if household_id is not None:
        stmt = stmt.where(Card.household_id == household_id)
    card = session.exec(stmt).first()
    if card is None:
        raise NotFound()
    return card


@dataclass(frozen=True)
class ResidentHome:
    """Everything the resident home page shows."""

    households: list[MyHousehold]
    pending: list[MyHousehold]
    balances: dict[int, int]
    # household id → (last day, points) expiring within EXPIRY_NOTICE_DAYS, soonest first
    expiring: dict[int, list[tuple[date, int]]] = field(default_factory=dict)
    # community id → its latest rating and rank in its street (absent: never rated)
    standings: dict[int, ratings_standing.Standing] = field(default_factory=dict)


EXPIRY_NOTICE_DAYS = 90  # the home page warns this far ahead; the points page lists them all


def resident_home(session: Session, account_id: int) -> ResidentHome:
    """The resident's linked households (with cards and points) and waiting requests."""
    households = my_households(session, account_id)
    expiring: dict[int, list[tuple[date, int]]] = {}
    for h in households:
        today = clock.local_today(h.community.timezone)
        soon = today + timedelta(days=EXPIRY_NOTICE_DAYS)
        expiring[pk(h.household)] = [
            (day, n) for day, n in points_services.expiring_points(
                session, pk(h.household), today) if day <= soon]
    return ResidentHome(
        households=households,
        pending=my_pending(session, account_id),
        balances={pk(h.household): points_balance(session, pk(h.household))
                  for h in households},
        expiring=expiring,
        standings={c: s for c in sorted({pk(h.community) for h in households})
                   if (s := ratings_standing.standing(session, c)) is not None},
    )


def points_balance(session: Session, household_id: int) -> int:
    """The household's points balance from the ledger (its members share it)."""
    return points_services.balance(session, household_id)


@dataclass(frozen=True)
class MyPoints:
    """The resident's points page: one of their households, its balance and one history page."""

    households: list[MyHousehold]
    current: MyHousehold
    balance: int
    entries: list[points_services.HistoryRow]
    next_before: int | None  # keyset cursor of the next (older) page
    expiring: list[tuple[date, int]] = field(default_factory=list)  # every upcoming expiry


def my_points(session: Session, account_id: int, household_id: int | None = None,
              before_id: int | None = None, limit: int = 30) -> MyPoints | None:
    """Balance and history of one of the resident's own households (None: no household yet).

    Only the account's approved households are reachable: another household's id is 404.
    """
    households = my_households(session, account_id)
    if not households:
        return None
    if household_id is None:
        current = households[0]
    else:
        found = [h for h in households if h.household.id == household_id]
        if not found:
            raise NotFound()
        current = found[0]
    hid = pk(current.household)
    rows = points_services.history(session, household_id=hid,
                                   limit=limit + 1, before_id=before_id)
    more = len(rows) > limit
    rows = rows[:limit]
    return MyPoints(households, current, points_services.balance(session, hid),
                    rows, rows[-1].id if more and rows else None,
                    expiring=points_services.expiring_points(
                        session, hid, clock.local_today(current.community.timezone)))
