"""Steward use cases: invitations, sign-up, approval, retirement, training, availability
and station chiefs (the writes of the steward pages).

A person becomes a steward of one community in two ways: by an invitation link a manager
made (the token is in the URL, stored hashed, with an expiry and a use limit) or by applying
in a community they live or work in. Either way the application waits as "pending" until a
manager (steward:manage) approves it, which grants the "steward" role there (so the scan page
opens) — or rejects it with a reason. Retiring removes the role again.

A station chief (亭长) is an approved steward the manager puts in charge of a station: the
station's `chief_id` and the "station_chief" role of the community, both audited.
"""
from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from community import clock
from community.areas.models import Area
from community.audit import services as audit
from community.auth import policy
from community.auth import services as auth_services
from community.auth.models import Account, RoleGrant
from community.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    OwnDecision,
)
from community.inbox import services as notifications
from community.rows import pk
from community.stations import windows as stations_windows
from community.stations.models import Station
from community.volunteers.models import Steward, StewardInvite
from community.volunteers.stewards.queries import (
    chief_stations,
    community_area,
    my_communities,
    steward_for,
)
from community.volunteers.stewards.rules import (
    MAX_SLOTS,
    hash_token,
    invite_state,
    slots_of,
    store_slots,
)
from community.volunteers.stewards.schemas import AvailabilityIn, InviteIn, RejectIn, TrainingIn

PROFILE_LINK = "/steward/profile"  # where a steward's notifications point (views.profile)


# --- Refusals -------------------------------------------------------------------------------

class InviteUnknown(DomainError):
    code, status, message = "invite_unknown", 404, _l(
        "This invitation link is not valid. Ask the community manager for a new one.")


class InviteExpired(DomainError):
    code, status, message = "invite_expired", 410, _l(
        "This invitation link has expired. Ask the community manager for a new one.")


class InviteRevoked(DomainError):
    code, status, message = "invite_revoked", 410, _l(
        "This invitation link was withdrawn by the community manager.")


class InviteUsedUp(DomainError):
    code, status, message = "invite_used_up", 410, _l(
        "This invitation link has already been used as many times as allowed. Ask the "
        "community manager for a new one.")


class AlreadySteward(Conflict):
    code, message = "already_steward", _l(
        "You have already signed up as a steward of this community.")


class NotMember(DomainError):
    code, status, message = "not_member", 403, _l(
        "You can only apply in a community where you live or work.")


class StewardStatusWrong(Conflict):
    """An action that the steward's current status does not allow (e.g. approving twice)."""

    code, message = "steward_status", _l("This steward's status does not allow this action.")


class AvailabilityOverlap(InvalidInput):
    code, message = "availability_overlap", _l(
        "This time range overlaps one you already have.")


# --- Small helpers --------------------------------------------------------------------------

def _grant(session: Session, actor: policy.Actor, account_id: int, role: str, area: Area,
           ip: str | None) -> None:
    """Give a role through the auth services (rank-checked, audited like any grant).

    `auth_services.grant_role` would also demand the account already hold a grant in the
    manager's scope; a steward may come from anywhere (an invitation link), and approving
    their application in this community is what brings them into it.
    """
    if not policy.can_grant(actor, role, area):
        raise Forbidden(action="role:grant")
    held = session.exec(select(RoleGrant.id).where(
        RoleGrant.account_id == account_id, RoleGrant.role == role,
        RoleGrant.area_id == area.id)).first()
    if held is not None:
        return
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound()
    auth_services.add_grant(session, account=account, role=role, area=area,
                            granted_by=actor.account_id)
    audit.record(session, actor_id=actor.account_id, action="role.granted", area=area,
                 target_type="account", target_id=account_id, ip=ip, role=role)


def _revoke(session: Session, actor: policy.Actor, account_id: int, role: str, area: Area,
            ip: str | None) -> None:
    """Remove a role in this community if held (auth services: rank-checked, audited)."""
    grant_id = session.exec(select(RoleGrant.id).where(
        RoleGrant.account_id == account_id, RoleGrant.role == role,
        RoleGrant.area_id == area.id)).first()
    if grant_id is not None:
        auth_services.revoke_role(session, actor=actor, grant_id=grant_id, ip=ip)


# --- Invitations ----------------------------------------------------------------------------

_INVITE_ERRORS: dict[str, type[DomainError]] = {
    "revoked": InviteRevoked, "expired": InviteExpired, "used_up": InviteUsedUp}


def create_invite(session: Session, *, actor: policy.Actor, community_id: int, data: InviteIn,
                  ip: str | None = None,
                  now: datetime | None = None) -> tuple[StewardInvite, str]:
    """Make an invitation link; returns it with its token (shown once, stored hashed)."""
    area = community_area(session, community_id)
    policy.require(actor, "steward:manage", area)
    days, max_uses = data.days, data.max_uses
    now = now or clock.now()
    token = secrets.token_urlsafe(32)
    invite = StewardInvite(community_id=pk(area), token_hash=hash_token(token),
                           created_by=actor.account_id, created_at=now,
                           expires_at=now + timedelta(days=days), max_uses=max_uses)
    session.add(invite)
    session.flush()
    audit.record(session, actor_id=actor.account_id, action="steward_invite.created", area=area,
                 target_type="steward_invite", target_id=invite.id, ip=ip, days=days,
                 max_uses=max_uses)
    return invite, token


def revoke_invite(session: Session, *, actor: policy.Actor, invite_id: int,
                  ip: str | None = None, now: datetime | None = None) -> StewardInvite:
    """Withdraw an invitation link at once (later sign-ups with it are refused)."""
    invite = session.get(StewardInvite, invite_id)
    if invite is None:
        raise NotFound()
    area = community_area(session, invite.community_id)
    policy.require(actor, "steward:manage", area)
    if invite.revoked_at is None:
        invite.revoked_at = now or clock.now()
        session.add(invite)
        session.flush()
        audit.record(session, actor_id=actor.account_id, action="steward_invite.revoked",
                     area=area, target_type="steward_invite", target_id=invite.id, ip=ip)
    return invite


def check_invite(session: Session, *, token: str,
                 now: datetime | None = None) -> tuple[StewardInvite, Area]:
    """The invitation of a token and its community; a clear refusal when it cannot be used."""
    invite = session.exec(select(StewardInvite).where(
        StewardInvite.token_hash == hash_token(token or ""))).first()
    if invite is None:
        raise InviteUnknown()
    state = invite_state(invite, now or clock.now())
    if state != "active":
        raise _INVITE_ERRORS[state]()
    return invite, community_area(session, invite.community_id)


def _refuse_duplicate(session: Session, community_id: int, account_id: int) -> None:
    existing = session.exec(select(Steward.status).where(
        Steward.community_id == community_id, Steward.account_id == account_id)).first()
    if existing is not None:
        raise AlreadySteward(status=existing)


def _insert_steward(session: Session, steward: Steward) -> Steward:
    try:
        with session.begin_nested():  # two tabs submitting at once: the second is a duplicate
            session.add(steward)
            session.flush()
    except IntegrityError:
        raise AlreadySteward() from None
    return steward


def join_by_invite(session: Session, *, account_id: int, token: str, ip: str | None = None,
                   now: datetime | None = None) -> Steward:
    """Sign up as a pending steward with an invitation link (spends one of its uses)."""
    now = now or clock.now()
    invite, area = check_invite(session, token=token, now=now)
    _refuse_duplicate(session, pk(area), account_id)
    # Conditional UPDATE: of two people racing for the last use, exactly one gets it.
    spent = session.exec(
        update(StewardInvite)
        .where(col(StewardInvite.id) == invite.id, col(StewardInvite.revoked_at).is_(None),
               col(StewardInvite.expires_at) > now,
               col(StewardInvite.uses) < col(StewardInvite.max_uses))
        .values(uses=col(StewardInvite.uses) + 1)
        .execution_options(synchronize_session=False))
    session.expire(invite, ["uses", "revoked_at"])
    if spent.rowcount != 1:
        raise _INVITE_ERRORS.get(invite_state(invite, now), InviteUsedUp)()
    steward = _insert_steward(session, Steward(community_id=pk(area), account_id=account_id,
                                               invite_id=invite.id, created_at=now))
    audit.record(session, actor_id=account_id, action="steward.joined", area=area,
                 target_type="steward", target_id=steward.id, ip=ip, invite=invite.id)
    return steward


# --- Self-registration ----------------------------------------------------------------------

def apply_as_steward(session: Session, *, account_id: int, community_id: int,
                     ip: str | None = None, now: datetime | None = None) -> Steward:
    """Apply to be a steward of one of the account's own communities (pending approval)."""
    if community_id not in {a.id for a in my_communities(session, account_id)}:
        raise NotMember(field="community_id")
    area = community_area(session, community_id)
    _refuse_duplicate(session, pk(area), account_id)
    steward = _insert_steward(session, Steward(community_id=pk(area), account_id=account_id,
                                               created_at=now or clock.now()))
    audit.record(session, actor_id=account_id, action="steward.applied", area=area,
                 target_type="steward", target_id=steward.id, ip=ip)
    return steward


# --- Approval, rejection, retirement, training ----------------------------------------------

def _decide(steward: Steward, actor: policy.Actor, status: str, now: datetime) -> None:
    steward.status = status
    steward.decided_by = actor.account_id
    steward.decided_at = now


def approve_steward(session: Session, *, actor: policy.Actor, steward_id: int,
                    ip: str | None = None, now: datetime | None = None) -> Steward:
    """Approve a pending application: status approved and the "steward" role granted."""
    steward, area = steward_for(session, actor=actor, steward_id=steward_id, lock=True)
    if steward.account_id == actor.account_id:
        raise OwnDecision()
    if steward.status != "pending":
        raise StewardStatusWrong(_l("Only a pending application can be approved."))
    _decide(steward, actor, "approved", now or clock.now())
    session.add(steward)
    session.flush()
    _grant(session, actor, steward.account_id, "steward", area, ip)
    audit.record(session, actor_id=actor.account_id, action="steward.approved", area=area,
                 target_type="steward", target_id=steward.id, ip=ip)
    notifications.notify(session, account_id=steward.account_id, kind="steward_approved",
                         params={"community": area.name}, link=PROFILE_LINK,
                         dedupe_key=f"steward_approved:{steward.id}")
    return steward


def reject_steward(session: Session, *, actor: policy.Actor, steward_id: int, data: RejectIn,
                   ip: str | None = None, now: datetime | None = None) -> Steward:
    """Reject a pending application with a reason (kept on the steward, sent to them)."""
    reason = data.reason
    steward, area = steward_for(session, actor=actor, steward_id=steward_id, lock=True)
    if steward.status != "pending":
        raise StewardStatusWrong(_l("Only a pending application can be rejected."))
    _decide(steward, actor, "rejected", now or clock.now())
    steward.note = reason
    session.add(steward)
    session.flush()
    audit.record(session, actor_id=actor.account_id, action="steward.rejected", area=area,
                 target_type="steward", target_id=steward.id, ip=ip, reason=reason)
    notifications.notify(session, account_id=steward.account_id, kind="steward_rejected",
                         params={"community": area.name, "reason": reason}, link=PROFILE_LINK,
                         dedupe_key=f"steward_rejected:{steward.id}")
    return steward


def retire_steward(session: Session, *, actor: policy.Actor, steward_id: int,
                   ip: str | None = None, now: datetime | None = None) -> Steward:
    """Retire an approved steward: the roles go, and so do their station chief posts."""
    steward, area = steward_for(session, actor=actor, steward_id=steward_id, lock=True)
    if steward.status != "approved":
        raise StewardStatusWrong(_l("Only an approved steward can be retired."))
    for station in chief_stations(session, pk(area), steward.account_id):
        _unset_chief(session, actor, station, area, ip)
    _decide(steward, actor, "retired", now or clock.now())
    session.add(steward)
    session.flush()
    _revoke(session, actor, steward.account_id, "steward", area, ip)
    _revoke(session, actor, steward.account_id, "station_chief", area, ip)
    audit.record(session, actor_id=actor.account_id, action="steward.retired", area=area,
                 target_type="steward", target_id=steward.id, ip=ip)
    notifications.notify(session, account_id=steward.account_id, kind="steward_retired",
                         params={"community": area.name}, link=PROFILE_LINK,
                         dedupe_key=f"steward_retired:{steward.id}")
    return steward


def set_training(session: Session, *, actor: policy.Actor, steward_id: int, data: TrainingIn,
                 ip: str | None = None, now: datetime | None = None) -> Steward:
    """Set a steward's training status; "trained" needs the date (not in the future)."""
    steward, area = steward_for(session, actor=actor, steward_id=steward_id)
    training = data.training
    # Only a finished training has a date (TrainingIn has made sure it has one).
    trained_on = data.trained_on if training == "trained" else None
    if trained_on is not None and trained_on > clock.local_today(area.timezone, now):
        raise InvalidInput(_l("The training date cannot be in the future."), field="trained_on")
    if (steward.training, steward.trained_on) != (training, trained_on):
        steward.training, steward.trained_on = training, trained_on
        session.add(steward)
        session.flush()
        audit.record(session, actor_id=actor.account_id, action="steward.training", area=area,
                     target_type="steward", target_id=steward.id, ip=ip, training=training,
                     trained_on=trained_on.isoformat() if trained_on else None)
    return steward


# --- The steward's own profile (phone) ------------------------------------------------------

def _own_steward(session: Session, account_id: int, steward_id: int) -> Steward:
    steward = session.exec(select(Steward).where(Steward.id == steward_id)
                           .with_for_update()).first()
    if steward is None or steward.account_id != account_id:
        raise NotFound()
    return steward


def add_availability(session: Session, *, account_id: int, steward_id: int,
                     data: AvailabilityIn) -> Steward:
    """Add a weekly range to the account's own steward profile (may pass midnight)."""
    steward = _own_steward(session, account_id, steward_id)
    weekday, begin, finish = data.weekday, data.start, data.end
    slots = slots_of(steward)
    if len(slots) >= MAX_SLOTS:
        raise InvalidInput(_l("You can keep at most %(count)s time ranges.", count=MAX_SLOTS),
                           field="weekday")
    weekly: dict[int, list[tuple[time, time]]] = {}
    for d, a, b in [*slots, (weekday, begin, finish)]:
        weekly.setdefault(d, []).append((a, b))
    if stations_windows.find_overlap(weekly) is not None:
        raise AvailabilityOverlap(field="start")
    steward.availability = store_slots([*slots, (weekday, begin, finish)])
    session.add(steward)
    session.flush()
    return steward


def remove_availability(session: Session, *, account_id: int, steward_id: int,
                        index: int) -> Steward:
    """Remove one range (by its position in the sorted list) from the account's own profile."""
    steward = _own_steward(session, account_id, steward_id)
    slots = slots_of(steward)
    if not 0 <= index < len(slots):
        raise NotFound()
    del slots[index]
    steward.availability = store_slots(slots)
    session.add(steward)
    session.flush()
    return steward


# --- Station chiefs -------------------------------------------------------------------------

def _station_in_scope(session: Session, actor: policy.Actor,
                      station_id: int) -> tuple[Station, Area]:
    station = session.exec(select(Station).where(Station.id == station_id)
                           .with_for_update()).first()
    if station is None:
        raise NotFound()
    area = community_area(session, station.community_id)
    policy.require(actor, "steward:manage", area)
    return station, area


def _unset_chief(session: Session, actor: policy.Actor, station: Station, area: Area,
                 ip: str | None) -> None:
    """Clear a station's chief; the person keeps the role only while chief elsewhere here."""
    previous = station.chief_id
    if previous is None:
        return
    station.chief_id = None
    session.add(station)
    session.flush()
    audit.record(session, actor_id=actor.account_id, action="station.chief_removed", area=area,
                 target_type="station", target_id=station.id, ip=ip, account=previous)
    if not chief_stations(session, pk(area), previous):
        _revoke(session, actor, previous, "station_chief", area, ip)
    notifications.notify(session, account_id=previous, kind="chief_removed",
                         params={"station": station.name}, link=PROFILE_LINK)


def appoint_chief(session: Session, *, actor: policy.Actor, station_id: int, steward_id: int,
                  ip: str | None = None) -> Station:
    """Make an approved steward of the station's community its chief (role granted, audited)."""
    station, area = _station_in_scope(session, actor, station_id)
    steward = session.get(Steward, steward_id)
    if steward is None or steward.community_id != station.community_id:
        raise InvalidInput(field="steward_id")
    if steward.status != "approved":
        raise StewardStatusWrong(_l("Only an approved steward can be a station chief."),
                                 field="steward_id")
    if station.chief_id == steward.account_id:
        return station
    _unset_chief(session, actor, station, area, ip)
    station.chief_id = steward.account_id
    session.add(station)
    session.flush()
    _grant(session, actor, steward.account_id, "station_chief", area, ip)
    audit.record(session, actor_id=actor.account_id, action="station.chief_appointed",
                 area=area, target_type="station", target_id=station.id, ip=ip,
                 account=steward.account_id)
    notifications.notify(session, account_id=steward.account_id, kind="chief_appointed",
                         params={"station": station.name}, link=PROFILE_LINK)
    return station


def remove_chief(session: Session, *, actor: policy.Actor, station_id: int,
                 ip: str | None = None) -> Station:
    """Leave a station without a chief (the role goes if they chief no other station here)."""
    station, area = _station_in_scope(session, actor, station_id)
    _unset_chief(session, actor, station, area, ip)
    return station
