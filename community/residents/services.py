"""Resident use cases: joining a household, its members, manager decisions, home data.

The card (QR and short code) only identifies a household at the station: anyone near it sees
it, so it grants nothing. A resident joins a household by
- an invitation from its head (one-time, expiring, revocable; `create_invitation`),
- a one-time join code on a slip the manager prints for the household and hands over apart
  from the card (expiring, single use, stored hashed; `issue_join_slips`, `redeem_join_code`),
- or a manager's approval of a request naming the household by its card (`request_join`,
  `decide_link`), when the community takes such requests (`Area.join_requests`).
The first member becomes the household's head. The head and the manager remove members, the
manager disables accounts; both end access at once, since every resident page reads only the
approved memberships of an active account.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypeVar

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
from community.auth.models import Account, RoleGrant
from community.errors import Conflict, DomainError, Forbidden, NotFound
from community.households import codes
from community.households import services as households_services
from community.households.models import (
    Card,
    Household,
    HouseholdInvitation,
    HouseholdJoinCode,
    HouseholdMember,
)
from community.points import history as points_history
from community.points import services as points_services
from community.ratings import standing as ratings_standing
from community.residents.schemas import CloseAccountIn, JoinCodeIn, LinkIn
from community.rows import pk
from community.stations import notices

PENDING, APPROVED, REJECTED, REMOVED = "pending", "approved", "rejected", "removed"
HEAD, MEMBER = "head", "member"
E = TypeVar("E", bound=DomainError)
INVITATION_TTL = timedelta(hours=24)
JOIN_CODE_TTL = timedelta(days=30)


class HouseholdInactive(DomainError):
    """A moved-out household takes no new members."""

    code, status, message = "household_inactive", 409, _l(
        "This household has moved out and cannot be joined."
    )


class JoinRefused(DomainError):
    """A join code or invitation that does not let anyone in; nothing is changed."""

    code, status = "join_refused", 422


class JoinCodeUnknown(JoinRefused):
    code, message = "join_code_unknown", _l(
        "This join code is not valid. Check the code on your household's join slip.")


class JoinCodeExpired(JoinRefused):
    code, message = "join_code_expired", _l(
        "This join code has expired. Ask your community manager for a new join slip.")


class JoinCodeUsed(JoinRefused):
    code, message = "join_code_used", _l(
        "This join code has already been used. Ask a member of your household for an "
        "invitation, or your community manager for a new join slip.")


class JoinCodeReplaced(JoinRefused):
    code, message = "join_code_replaced", _l(
        "This join slip was replaced by a newer one. Use the code on the newest slip.")


class JoinCodeOtherCommunity(JoinRefused):
    code, message = "join_code_other_community", _l(
        "This join code belongs to a household of another community. Check the slip.")


class InvitationUnknown(JoinRefused):
    code, status, message = "invitation_unknown", 404, _l(
        "This invitation link is not valid. Ask your family member for a new one.")


class InvitationExpired(JoinRefused):
    code, message = "invitation_expired", _l(
        "This invitation has expired. Ask your family member for a new one.")


class InvitationUsed(JoinRefused):
    code, message = "invitation_used", _l(
        "This invitation has already been used. Each invitation lets one person in; ask for "
        "a new one.")


class InvitationRevoked(JoinRefused):
    code, message = "invitation_revoked", _l(
        "This invitation was withdrawn. Ask your family member for a new one.")


class InviterGone(JoinRefused):
    code, message = "inviter_gone", _l(
        "The person who sent this invitation is no longer allowed to invite to this household.")


class RequestsClosed(DomainError):
    """The community takes no requests without an invitation or join slip."""

    code, status, message = "join_requests_closed", 403, _l(
        "This community does not take requests. Join with an invitation from a family member "
        "or with the join slip from your community manager.")


class NotHead(Forbidden):
    """Only the household's head (or a manager) removes other members and invites."""

    code, message = "not_head", _l(
        "Only the head of the household can do this.")


class CannotDisable(Forbidden):
    """Staff accounts, one's own and those outside one's community are not disabled here."""

    code, message = "cannot_disable", _l(
        "This account cannot be disabled here. Staff accounts are managed on the accounts page.")


@dataclass(frozen=True)
class LinkOutcome:
    """What a join did: `result` is joined | already_linked | pending."""

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


def _has_head(session: Session, household_id: int) -> bool:
    return session.exec(select(HouseholdMember.id).where(
        HouseholdMember.household_id == household_id, HouseholdMember.status == APPROVED,
        HouseholdMember.role == HEAD)).first() is not None


def _approve(session: Session, member: HouseholdMember, area: Area,
             decided_by: int | None, via: str) -> None:
    """Make `member` an approved member; the household's first becomes its head."""
    member.status = APPROVED
    member.decided_by = decided_by
    member.decided_at = clock.now()
    member.joined_via = via
    member.removed_by = member.removed_at = None
    member.role = MEMBER if _has_head(session, member.household_id) else HEAD
    try:
        with session.begin_nested():  # two first members at once: one head (unique index)
            session.add(member)
            session.flush()
    except IntegrityError:
        session.refresh(member)
        member.status, member.role = APPROVED, MEMBER
        member.decided_by, member.decided_at, member.joined_via = decided_by, clock.now(), via
        member.removed_by = member.removed_at = None
        session.add(member)
        session.flush()
    _grant_resident(session, member.account_id, area)
    session.flush()


def _member_row(session: Session, household_id: int, account_id: int) -> HouseholdMember | None:
    return session.exec(select(HouseholdMember).where(
        HouseholdMember.household_id == household_id, HouseholdMember.account_id == account_id
    )).first()


def _new_member(session: Session, household_id: int, account_id: int) -> HouseholdMember:
    """The account's row for the household (created pending, or the existing one)."""
    member = _member_row(session, household_id, account_id)
    if member is not None:
        return member
    hh = session.get(Household, household_id)  # loaded by the caller: no statement
    if hh is None:
        raise NotFound()
    member = HouseholdMember(community_id=hh.community_id, household_id=household_id,
                             account_id=account_id, status=PENDING)
    try:
        with session.begin_nested():  # a double submit of the same request races here
            session.add(member)
            session.flush()
    except IntegrityError:
        member = _member_row(session, household_id, account_id)
        if member is None:
            raise
    return member


def _join(session: Session, *, hh: Household, area: Area, account_id: int, via: str,
          ip: str | None, **details: object) -> LinkOutcome:
    """Let the account into the household (an invitation or a join code proved it)."""
    member = _new_member(session, pk(hh), account_id)
    if member.status == APPROVED:
        return LinkOutcome(member, hh, "already_linked")
    _approve(session, member, area, decided_by=None, via=via)
    audit.record(session, actor_id=account_id, action="household.joined", area=area,
                 target_type="household", target_id=hh.id, ip=ip, member=member.id, via=via,
                 role=member.role, **details)
    return LinkOutcome(member, hh, "joined")


def _is_approved(session: Session, household_id: int, account_id: int) -> bool:
    member = _member_row(session, household_id, account_id)
    return member is not None and member.status == APPROVED


def _refuse(session: Session, exc: E, *, account_id: int, area: Area | None,
            household_id: int | None, ip: str | None, kind: str) -> E:
    """Record a refused join attempt (the view keeps it) and hand the error back to raise."""
    audit.record(session, actor_id=account_id, action="household.join_failed", area=area,
                 target_type="household" if household_id else None, target_id=household_id,
                 ip=ip, kind=kind, reason=exc.code)
    return exc


# ---- (b) join codes on slips -------------------------------------------------------------

def redeem_join_code(session: Session, *, account_id: int, data: JoinCodeIn,
                     ip: str | None = None, now: datetime | None = None) -> LinkOutcome:
    """Join the household of a slip's one-time join code; the code is spent.

    A wrong, expired, used or replaced code, one of another community than `data.community_id`,
    or one of a moved-out household is refused and nothing changes but the audit entry.
    """
    now = now or clock.now()
    row = session.exec(select(HouseholdJoinCode).where(
        HouseholdJoinCode.code_hash == codes.digest(data.code))).first()
    if row is None:
        raise _refuse(session, JoinCodeUnknown(field="code"), account_id=account_id, area=None,
                      household_id=None, ip=ip, kind="join_code")
    hh = households_services.get_household(session, row.household_id)
    area = households_services.household_area(session, hh)

    def refuse(exc: DomainError) -> DomainError:
        return _refuse(session, exc, account_id=account_id, area=area, household_id=pk(hh),
                       ip=ip, kind="join_code")

    if data.community_id is not None and data.community_id != hh.community_id:
        raise refuse(JoinCodeOtherCommunity(field="code"))
    if row.used_at is not None:
        if row.used_by == account_id and _is_approved(session, pk(hh), account_id):
            return LinkOutcome(_member_row(session, pk(hh), account_id),  # type: ignore[arg-type]
                               hh, "already_linked")  # a double submit of one's own code
        raise refuse(JoinCodeUsed(field="code"))
    if row.voided_at is not None:
        raise refuse(JoinCodeReplaced(field="code"))
    if row.expires_at <= now:
        raise refuse(JoinCodeExpired(field="code"))
    if hh.status != "active":
        raise refuse(HouseholdInactive(field="code"))
    if _is_approved(session, pk(hh), account_id):  # keep the code for someone else
        return LinkOutcome(_member_row(session, pk(hh), account_id),  # type: ignore[arg-type]
                           hh, "already_linked")
    # Spend the code first, conditionally: of two people typing it at once, one gets in.
    spent = session.exec(
        update(HouseholdJoinCode)
        .where(col(HouseholdJoinCode.id) == row.id, col(HouseholdJoinCode.used_at).is_(None),
               col(HouseholdJoinCode.voided_at).is_(None))
        .values(used_at=now, used_by=account_id)
        .execution_options(synchronize_session=False))
    if spent.rowcount != 1:
        raise refuse(JoinCodeUsed(field="code"))
    session.expire(row)
    return _join(session, hh=hh, area=area, account_id=account_id, via="join_code", ip=ip,
                 join_code=row.id)


@dataclass(frozen=True)
class Slip:
    """One printed join slip: the plain code exists only here, on its way to the printer."""

    household_id: int
    code: str
    address: str
    community: str
    expires_on: date


def issue_join_slips(session: Session, *, actor: policy.Actor, community_id: int,
                     household_ids: list[int] | None = None, building: str | None = None,
                     ip: str | None = None, now: datetime | None = None) -> list[Slip]:
    """New one-time join codes for some active households of a community (the listed ones, or
    a building's, or all), voiding their older unused codes. Audited with the count."""
    area = areas_services.community_for(session, actor=actor, community_id=community_id,
                                        action="member:approve")
    now = now or clock.now()
    stmt = select(Household).where(Household.community_id == area.id,
                                   Household.status == "active")
    if household_ids is not None:
        stmt = stmt.where(col(Household.id).in_(household_ids or [-1]))
    if building:
        stmt = stmt.where(Household.building == building)
    households = sorted(session.exec(stmt).all(),
                        key=lambda h: (len(h.building), h.building, len(h.unit), h.unit,
                                       len(h.room), h.room))
    if household_ids is not None and len(households) != len(set(household_ids)):
        raise NotFound()  # another community's or a moved-out household was asked for
    ids = [pk(h) for h in households]
    for i in range(0, len(ids), 500):
        session.exec(update(HouseholdJoinCode)
                     .where(col(HouseholdJoinCode.household_id).in_(ids[i:i + 500]),
                            col(HouseholdJoinCode.used_at).is_(None),
                            col(HouseholdJoinCode.voided_at).is_(None))
                     .values(voided_at=now).execution_options(synchronize_session=False))
    expires = now + JOIN_CODE_TTL
    slips: list[Slip] = []
    for hh in households:
        code = codes.new_join_code()
        session.add(HouseholdJoinCode(household_id=pk(hh), code_hash=codes.digest(code),
                                      created_by=actor.account_id, created_at=now,
                                      expires_at=expires))
        slips.append(Slip(household_id=pk(hh), code=code,
                          address=households_services.address_label(hh), community=area.name,
                          expires_on=clock.local(expires, area.timezone).date()))
    session.flush()
    audit.record(session, actor_id=actor.account_id, action="household.join_slips_printed",
                 area=area, target_type="area", target_id=area.id, ip=ip, count=len(slips),
                 building=building, households=ids[:50])
    return slips


# ---- (a) invitations from the head ---------------------------------------------------------

def _head_of(session: Session, household_id: int, account_id: int) -> HouseholdMember:
    member = _member_row(session, household_id, account_id)
    if member is None or member.status != APPROVED:
        raise NotFound()  # not one's own household: as if it did not exist
    if member.role != HEAD:
        raise NotHead()
    return member


def create_invitation(session: Session, *, account_id: int, household_id: int,
                      ip: str | None = None,
                      now: datetime | None = None) -> tuple[HouseholdInvitation, str]:
    """The head invites a family member: a one-time link valid for `INVITATION_TTL`.

    Returns the stored invitation and its token (shown once as a QR and a link; only its
    hash is kept).
    """
    _head_of(session, household_id, account_id)
    hh = households_services.get_household(session, household_id)
    if hh.status != "active":
        raise HouseholdInactive()
    now = now or clock.now()
    token = codes.new_token()
    inv = HouseholdInvitation(household_id=household_id, token_hash=codes.digest(token),
                              created_by=account_id, created_at=now,
                              expires_at=now + INVITATION_TTL)
    session.add(inv)
    session.flush()
    audit.record(session, actor_id=account_id, action="household.invitation_created",
                 area=households_services.household_area(session, hh), target_type="household",
                 target_id=household_id, ip=ip, invitation=inv.id)
    return inv, token


@dataclass(frozen=True)
class InvitationView:
    """What the invited person sees before accepting."""

    invitation: HouseholdInvitation
    household: Household
    community: Area
    address: str
    inviter: str  # the inviter's display name


def _check_invitation(session: Session, token: str, now: datetime) -> InvitationView:
    inv = session.exec(select(HouseholdInvitation).where(
        HouseholdInvitation.token_hash == codes.digest(token or ""))).first()
    if inv is None:
        raise InvitationUnknown()
    hh = households_services.get_household(session, inv.household_id)
    area = households_services.household_area(session, hh)
    view = InvitationView(inv, hh, area, households_services.address_label(hh),
                          (session.get(Account, inv.created_by) or Account(
                              display_name="", password_hash="")).display_name)
    if inv.used_at is not None:
        raise InvitationUsed(invitation=view)
    if inv.revoked_at is not None:
        raise InvitationRevoked(invitation=view)
    if inv.expires_at <= now:
        raise InvitationExpired(invitation=view)
    if not _is_approved(session, pk(hh), inv.created_by):
        raise InviterGone(invitation=view)
    inviter = session.get(Account, inv.created_by)
    if inviter is None or not inviter.active:
        raise InviterGone(invitation=view)
    if hh.status != "active":
        raise HouseholdInactive()
    return view


def invitation_view(session: Session, *, token: str, now: datetime | None = None
                    ) -> InvitationView:
    """The invitation behind a link, if it still lets someone in (else a JoinRefused)."""
    return _check_invitation(session, token, now or clock.now())


def accept_invitation(session: Session, *, account_id: int, token: str, ip: str | None = None,
                      now: datetime | None = None) -> LinkOutcome:
    """Join the household an invitation is for; the invitation is spent."""
    now = now or clock.now()
    seen_inv = session.exec(select(HouseholdInvitation).where(
        HouseholdInvitation.token_hash == codes.digest(token or ""))).first()
    if seen_inv is not None and _is_approved(session, seen_inv.household_id, account_id):
        # The invited person tapping twice, or the inviter trying their own link: in already.
        return LinkOutcome(_member_row(session, seen_inv.household_id, account_id),  # type: ignore[arg-type]
                           households_services.get_household(session, seen_inv.household_id),
                           "already_linked")
    try:
        view = _check_invitation(session, token, now)
    except JoinRefused as exc:
        seen = exc.details.get("invitation")
        raise _refuse(session, exc, account_id=account_id,
                      area=seen.community if seen else None,
                      household_id=pk(seen.household) if seen else None,
                      ip=ip, kind="invitation") from None
    hh, inv = view.household, view.invitation
    spent = session.exec(
        update(HouseholdInvitation)
        .where(col(HouseholdInvitation.id) == inv.id, col(HouseholdInvitation.used_at).is_(None),
               col(HouseholdInvitation.revoked_at).is_(None))
        .values(used_at=now, used_by=account_id)
        .execution_options(synchronize_session=False))
    if spent.rowcount != 1:
        raise _refuse(session, InvitationUsed(), account_id=account_id, area=view.community,
                      household_id=pk(hh), ip=ip, kind="invitation")
    session.expire(inv)
    return _join(session, hh=hh, area=view.community, account_id=account_id,
                 via="invitation", ip=ip, invitation=inv.id, invited_by=inv.created_by)


def revoke_invitation(session: Session, *, account_id: int, invitation_id: int,
                      ip: str | None = None) -> HouseholdInvitation:
    """The head withdraws an unused invitation of their household."""
    inv = session.get(HouseholdInvitation, invitation_id)
    if inv is None:
        raise NotFound()
    _head_of(session, inv.household_id, account_id)
    if inv.used_at is not None:
        raise Conflict(field="invitation")
    if inv.revoked_at is None:
        inv.revoked_at, inv.revoked_by = clock.now(), account_id
        session.add(inv)
        session.flush()
        hh = households_services.get_household(session, inv.household_id)
        audit.record(session, actor_id=account_id, action="household.invitation_revoked",
                     area=households_services.household_area(session, hh),
                     target_type="household", target_id=hh.id, ip=ip, invitation=inv.id)
    return inv


def head_invitation(session: Session, *, account_id: int,
                    invitation_id: int) -> tuple[HouseholdInvitation, str]:
    """One of the head's invitations and its household's address (else NotFound/NotHead)."""
    inv = session.get(HouseholdInvitation, invitation_id)
    if inv is None:
        raise NotFound()
    _head_of(session, inv.household_id, account_id)
    hh = households_services.get_household(session, inv.household_id)
    return inv, households_services.address_label(hh)


# ---- (c) a request for the manager's approval ----------------------------------------------

def request_join(session: Session, *, account_id: int, data: LinkIn,
                 ip: str | None = None) -> LinkOutcome:
    """Ask the community manager to approve the account into the household of a card.

    The card's short code only names the household; the request waits for a manager who knows
    the family. Refused when the community takes no requests.
    """
    _card, hh = households_services.resolve_card(session, data.short_code, community_id=None)
    if hh.status != "active":
        raise HouseholdInactive()
    area = households_services.household_area(session, hh)
    member = _member_row(session, pk(hh), account_id)
    if member is not None and member.status == APPROVED:
        return LinkOutcome(member, hh, "already_linked")
    if not area.join_requests:
        raise RequestsClosed()
    if member is None:
        member = _new_member(session, pk(hh), account_id)
        if member.status == APPROVED:  # a concurrent join won the race
            return LinkOutcome(member, hh, "already_linked")
    else:  # an earlier pending, rejected or removed membership is asked again
        member.status, member.decided_by, member.decided_at = PENDING, None, None
        member.role = MEMBER
        member.created_at = clock.now()
        session.add(member)
    session.flush()
    audit.record(session, actor_id=account_id, action="household.link_requested", area=area,
                 target_type="household", target_id=hh.id, ip=ip, member=member.id)
    return LinkOutcome(member, hh, PENDING)


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
        if hh.status != "active":
            raise HouseholdInactive()
        _approve(session, member, area, decided_by=actor.account_id, via="approval")
    else:
        member.status = REJECTED
        member.decided_by = actor.account_id
        member.decided_at = clock.now()
        session.add(member)
        session.flush()
    audit.record(session, actor_id=actor.account_id,
                 action="household.link_approved" if approve else "household.link_rejected",
                 area=area, target_type="household", target_id=hh.id, ip=ip, member=member.id,
                 account=member.account_id, role=member.role)
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
                    address=households_services.address_label(h),
                    # The login column shows the phone: the name does not mask it.
                    account_name=auth_services.name_for(a.display_name, a.phone, reveal=True),
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
    entries: list[points_services.HistoryRow]  # in device-time order, newest first
    next_before: str | None  # keyset cursor of the next (older) page
    expiring: list[tuple[date, int]] = field(default_factory=list)  # every upcoming expiry
    # The drops of the page's strikes and penalties: category, station, time, reason, how-to,
    # photo and appeal (the mis-drop loop).
    verdicts: dict[int, notices.VerdictCard] = field(default_factory=dict)
    history: points_history.HistoryPage | None = None  # the page grouped by month, the chart
    # The earn entries that carry their drop's card: a drop regraded away from incorrect
    # has no strike any more (`points.facts.entries`); its earlier verdict shows as history
    # on the newest earn its regrade wrote.
    regraded: frozenset[int] = frozenset()


def my_points(session: Session, account_id: int, household_id: int | None = None,
              before: str | None = None, limit: int = 30,
              lang: str | None = None) -> MyPoints | None:
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
    today = clock.local_today(current.community.timezone)
    page = points_history.household_history(session, household_id=hid, limit=limit,
                                            before=before, today=today)
    rows = [item.row for group in page.months for item in group.items]
    # An earn the ledger wrote about a drop (a positive id: not the drop's own) came later:
    # a recalculation, or a regrade that made the drop correct again.
    later = [r for r in rows if r.drop_id and r.kind == "earn" and r.id > 0]
    verdicts = notices.verdict_cards(
        session, {r.drop_id for r in rows if r.drop_id and r.kind in ("strike", "penalty")}
        | {r.drop_id for r in later if r.drop_id}, lang=lang)
    regraded: dict[int, int] = {}
    for r in later:  # newest first: the newest such earn of a drop carries its card
        card = verdicts.get(r.drop_id or 0)
        if card is not None and card.regrade is not None and card.quality != "incorrect":
            regraded.setdefault(card.drop_id, r.id)
    return MyPoints(households, current, points_services.balance(session, hid),
                    rows, page.next_before,
                    expiring=points_services.expiring_points(session, hid, today),
                    verdicts=verdicts, history=page, regraded=frozenset(regraded.values()))


# ---- members: who is in, removal, disabling ------------------------------------------------

@dataclass(frozen=True)
class MemberRow:
    """One member of a household as a page lists them (the phone masked unless it is yours)."""

    member_id: int
    account_id: int
    name: str
    phone: str
    role: str
    status: str
    joined_at: datetime
    joined_via: str | None
    active: bool  # the account is not disabled
    is_you: bool


@dataclass(frozen=True)
class OpenInvitation:
    """An invitation of the household that can still be used."""

    id: int
    created_by: str
    expires_at: datetime


@dataclass(frozen=True)
class HouseholdMembers:
    """A household's members page (the resident's own or the manager's)."""

    household: Household
    community: Area
    address: str
    members: list[MemberRow]  # approved, the head first, then by joining
    pending: list[MemberRow]
    invitations: list[OpenInvitation]
    you: HouseholdMember | None  # the reader's own membership (residents)
    open_slips: int  # unused, unexpired join codes (managers)


def _member_rows(session: Session, household_id: int, statuses: tuple[str, ...],
                 reader_id: int | None, mask: bool) -> list[MemberRow]:
    rows = session.exec(
        select(HouseholdMember, Account)
        .join(Account, col(Account.id) == HouseholdMember.account_id)
        .where(HouseholdMember.household_id == household_id,
               col(HouseholdMember.status).in_(statuses))
        .order_by(col(HouseholdMember.role) != HEAD, col(HouseholdMember.decided_at),
                  col(HouseholdMember.created_at), col(HouseholdMember.id))
    ).all()
    out = []
    for m, a in rows:
        mine = a.id == reader_id
        phone = a.phone or ""
        reveal = mine or not mask
        out.append(MemberRow(
            member_id=pk(m), account_id=pk(a),
            name=auth_services.name_for(a.display_name, a.phone, reveal=reveal),
            phone=phone if reveal else auth_services.mask_phone(phone),
            role=m.role, status=m.status, joined_at=m.decided_at or m.created_at,
            joined_via=m.joined_via, active=a.active, is_you=mine))
    return out


def _open_invitations(session: Session, household_id: int, now: datetime
                      ) -> list[OpenInvitation]:
    rows = session.exec(
        select(HouseholdInvitation, Account)
        .join(Account, col(Account.id) == HouseholdInvitation.created_by)
        .where(HouseholdInvitation.household_id == household_id,
               col(HouseholdInvitation.used_at).is_(None),
               col(HouseholdInvitation.revoked_at).is_(None),
               col(HouseholdInvitation.expires_at) > now)
        .order_by(col(HouseholdInvitation.created_at))).all()
    return [OpenInvitation(pk(i), a.display_name, i.expires_at) for i, a in rows]


def my_household_members(session: Session, *, account_id: int, household_id: int,
                         now: datetime | None = None) -> HouseholdMembers:
    """The members of one of the account's own households (else NotFound)."""
    you = _member_row(session, household_id, account_id)
    if you is None or you.status != APPROVED:
        raise NotFound()
    hh = households_services.get_household(session, household_id)
    now = now or clock.now()
    return HouseholdMembers(
        household=hh, community=households_services.household_area(session, hh),
        address=households_services.address_label(hh),
        members=_member_rows(session, household_id, (APPROVED,), account_id, mask=True),
        pending=[], invitations=_open_invitations(session, household_id, now)
        if you.role == HEAD else [], you=you, open_slips=0)


def manager_household_members(session: Session, *, actor: policy.Actor, household_id: int,
                              now: datetime | None = None) -> HouseholdMembers:
    """A household's members, requests and open slips for a manager in scope."""
    hh = households_services.get_household(session, household_id)
    area = households_services.household_area(session, hh)
    policy.require(actor, "member:approve", area)
    now = now or clock.now()
    slips = session.exec(select(HouseholdJoinCode.id).where(
        HouseholdJoinCode.household_id == household_id,
        col(HouseholdJoinCode.used_at).is_(None), col(HouseholdJoinCode.voided_at).is_(None),
        col(HouseholdJoinCode.expires_at) > now)).all()
    return HouseholdMembers(
        household=hh, community=area, address=households_services.address_label(hh),
        members=_member_rows(session, household_id, (APPROVED,), actor.account_id, mask=False),
        pending=_member_rows(session, household_id, (PENDING,), actor.account_id, mask=False),
        invitations=_open_invitations(session, household_id, now), you=None,
        open_slips=len(slips))


def _promote_next_head(session: Session, household_id: int) -> HouseholdMember | None:
    """After the head left: the longest-standing approved member heads the household."""
    nxt = session.exec(select(HouseholdMember).where(
        HouseholdMember.household_id == household_id, HouseholdMember.status == APPROVED)
        .order_by(col(HouseholdMember.decided_at), col(HouseholdMember.created_at),
                  col(HouseholdMember.id))).first()
    if nxt is not None:
        nxt.role = HEAD
        session.add(nxt)
        session.flush()
    return nxt


def _end_membership(session: Session, member: HouseholdMember, *, by: int | None,
                    area: Area, ip: str | None, reason: str) -> None:
    """Remove a member at once; a removed head hands over to the next member."""
    was_head = member.role == HEAD
    member.status, member.role = REMOVED, MEMBER
    member.removed_by, member.removed_at = by, clock.now()
    session.add(member)
    session.flush()
    audit.record(session, actor_id=by, action="household.member_removed", area=area,
                 target_type="household", target_id=member.household_id, ip=ip,
                 member=member.id, account=member.account_id, reason=reason,
                 was_head=was_head)
    if was_head:
        nxt = _promote_next_head(session, member.household_id)
        if nxt is not None:
            audit.record(session, actor_id=by, action="household.head_changed", area=area,
                         target_type="household", target_id=member.household_id, ip=ip,
                         member=nxt.id, account=nxt.account_id)
    # No approved membership left in this community: the resident role there goes too.
    still_here = session.exec(
        select(HouseholdMember.id)
        .join(Household, col(Household.id) == HouseholdMember.household_id)
        .where(HouseholdMember.account_id == member.account_id,
               HouseholdMember.status == APPROVED, Household.community_id == area.id)).first()
    if still_here is None:
        auth_services.drop_grant(session, account_id=member.account_id, role="resident",
                                 area_id=pk(area))
    if reason != "left":
        # Their open sessions end (the login page next); resident pages would refuse the
        # removed membership on every request in any case. Leaving oneself keeps one's session.
        auth_services.end_sessions(session, member.account_id)


def remove_member(session: Session, *, actor: policy.Actor, member_id: int,
                  ip: str | None = None) -> HouseholdMember:
    """Remove an approved member: by the household's head, by the member (leaving), or by a
    manager of the community. Access ends at once."""
    member = session.get(HouseholdMember, member_id)
    if member is None:
        raise NotFound()
    hh = households_services.get_household(session, member.household_id)
    area = households_services.household_area(session, hh)
    me = _member_row(session, pk(hh), actor.account_id) if actor.account_id else None
    if member.account_id == actor.account_id:
        reason = "left"
    elif me is not None and me.status == APPROVED and me.role == HEAD:
        reason = "head"
    elif policy.allowed(actor, "member:approve", area):
        reason = "manager"
    elif me is not None and me.status == APPROVED:
        raise NotHead()
    else:
        raise NotFound()  # not one's household: as if it did not exist
    if member.status == REMOVED:
        return member  # a double click: already done
    if member.status != APPROVED:
        raise Conflict(field="status")
    _end_membership(session, member, by=actor.account_id, area=area, ip=ip, reason=reason)
    return member


def disable_account(session: Session, *, actor: policy.Actor, account_id: int,
                    ip: str | None = None) -> Account:
    """A manager disables a resident account of their community: it cannot log in, and its
    sessions stop at once. Staff accounts (any role above resident) are refused here."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound()
    if account.id == actor.account_id:
        raise CannotDisable()
    communities = session.exec(
        select(Area).join(Household, col(Household.community_id) == Area.id)
        .join(HouseholdMember, col(HouseholdMember.household_id) == Household.id)
        .where(HouseholdMember.account_id == account_id)).all()
    in_scope = [a for a in communities if policy.allowed(actor, "member:approve", a)]
    if not in_scope:
        raise NotFound()  # not a resident of the manager's community
    staff = session.exec(select(RoleGrant.id).where(
        RoleGrant.account_id == account_id, RoleGrant.role != "resident")).first()
    if staff is not None:
        raise CannotDisable()
    if account.active:
        account.active = False
        session.add(account)
        session.flush()
        audit.record(session, actor_id=actor.account_id, action="account.disabled",
                     area=in_scope[0], target_type="account", target_id=account.id, ip=ip)
        auth_services.end_sessions(session, pk(account))
    return account


class StaffAccount(DomainError):
    """Staff accounts are closed by an administrator (their records name who did what)."""

    code, status, message = "staff_account", 409, _l(
        "This account also has staff roles: an administrator closes it, not this page.")


def close_own_account(session: Session, *, account_id: int, data: CloseAccountIn,
                      ip: str | None = None) -> None:
    """A resident closes their own account (注销): they leave every household (a head hands
    over to the next member) and their pending requests are withdrawn; the account keeps no
    personal data and can never log in again (`auth.services.close_account`).

    The households' drops and points stay with the households: they are the households'
    records, shared by the members who remain. Accounts with a staff role are refused.
    """
    del data  # the confirmation itself is the whole input
    staff = session.exec(select(RoleGrant.id).where(
        RoleGrant.account_id == account_id, RoleGrant.role != "resident")).first()
    if staff is not None:
        raise StaffAccount()
    rows = session.exec(select(HouseholdMember).where(
        HouseholdMember.account_id == account_id,
        col(HouseholdMember.status).in_((APPROVED, PENDING)))).all()
    areas: dict[int, Area] = {}  # one audit entry per community the account was part of
    for member in rows:
        hh = households_services.get_household(session, member.household_id)
        area = areas.setdefault(hh.community_id, households_services.household_area(session, hh))
        if member.status == APPROVED:
            _end_membership(session, member, by=account_id, area=area, ip=ip, reason="closed")
        else:
            member.status, member.removed_by, member.removed_at = REMOVED, account_id, clock.now()
            session.add(member)
    where: list[Area | None] = [*areas.values()] or [None]
    for place in where:
        audit.record(session, actor_id=account_id, action="account.closed", area=place,
                     target_type="account", target_id=account_id, ip=ip)
    session.flush()
    auth_services.close_account(session, account_id)
