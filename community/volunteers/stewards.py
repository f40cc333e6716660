"""Steward use cases: invitations, sign-up, approval, the roster, profiles and station chiefs.

A person becomes a steward of one community in two ways: by an invitation link a manager
made (the token is in the URL, stored hashed, with an expiry and a use limit) or by applying
in a community they live or work in. Either way the application waits as "pending" until a
manager (steward:manage) approves it, which grants the "steward" role there (so the scan page
opens) — or rejects it with a reason. Retiring removes the role again.

A station chief (亭长) is an approved steward the manager puts in charge of a station: the
station's `chief_id` and the "station_chief" role of the community, both audited.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.audit import services as audit
from community.auth import policy
from community.auth import services as auth_services
from community.auth.models import Account, RoleGrant
from community.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from community.households.models import Household, HouseholdMember
from community.rows import pk
from community.stations import management as stations_management
from community.stations.models import Station
from community.volunteers import notifications
from community.volunteers.models import STEWARD_STATUSES, TRAINING, Steward, StewardInvite
from community.web.pagination import Page, paginate

INVITE_DAYS = (1, 90)       # allowed validity of an invitation, in days
INVITE_USES = (1, 500)      # allowed number of sign-ups per invitation
MAX_SLOTS = 28              # availability ranges per steward (four a day is plenty)
MAX_REASON = 200
PROFILE_LINK = "/me/steward"  # where a steward's notifications point (steward_views.profile)
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


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

def hash_token(token: str) -> str:
    """SHA-256 of an invitation token (256 random bits: a fast hash is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _community(session: Session, community_id: int) -> Area:
    area = session.get(Area, community_id)
    if area is None or area.level != "community":
        raise NotFound()
    return area


def local_today(area: Area, now: datetime | None = None) -> date:
    """Today's date in the community's time zone."""
    return (now or clock.now()).astimezone(ZoneInfo(area.timezone)).date()


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

def invite_state(invite: StewardInvite, now: datetime) -> str:
    """"active", "revoked", "expired" or "used_up" (in that order of precedence)."""
    if invite.revoked_at is not None:
        return "revoked"
    if invite.expires_at <= now:
        return "expired"
    if invite.uses >= invite.max_uses:
        return "used_up"
    return "active"


_INVITE_ERRORS: dict[str, type[DomainError]] = {
    "revoked": InviteRevoked, "expired": InviteExpired, "used_up": InviteUsedUp}


def create_invite(session: Session, *, actor: policy.Actor, community_id: int, days: int,
                  max_uses: int, ip: str | None = None,
                  now: datetime | None = None) -> tuple[StewardInvite, str]:
    """Make an invitation link; returns it with its token (shown once, stored hashed)."""
    area = _community(session, community_id)
    policy.require(actor, "steward:manage", area)
    if not isinstance(days, int) or not INVITE_DAYS[0] <= days <= INVITE_DAYS[1]:
        raise InvalidInput(field="days")
    if not isinstance(max_uses, int) or not INVITE_USES[0] <= max_uses <= INVITE_USES[1]:
        raise InvalidInput(field="max_uses")
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
    area = _community(session, invite.community_id)
    policy.require(actor, "steward:manage", area)
    if invite.revoked_at is None:
        invite.revoked_at = now or clock.now()
        session.add(invite)
        session.flush()
        audit.record(session, actor_id=actor.account_id, action="steward_invite.revoked",
                     area=area, target_type="steward_invite", target_id=invite.id, ip=ip)
    return invite


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
    return invite, _community(session, invite.community_id)


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


def apply_as_steward(session: Session, *, account_id: int, community_id: int,
                     ip: str | None = None, now: datetime | None = None) -> Steward:
    """Apply to be a steward of one of the account's own communities (pending approval)."""
    if community_id not in {a.id for a in my_communities(session, account_id)}:
        raise NotMember(field="community_id")
    area = _community(session, community_id)
    _refuse_duplicate(session, pk(area), account_id)
    steward = _insert_steward(session, Steward(community_id=pk(area), account_id=account_id,
                                               created_at=now or clock.now()))
    audit.record(session, actor_id=account_id, action="steward.applied", area=area,
                 target_type="steward", target_id=steward.id, ip=ip)
    return steward


# --- Approval, rejection, retirement, training ----------------------------------------------

def steward_for(session: Session, *, actor: policy.Actor, steward_id: int,
                action: str = "steward:manage", lock: bool = False) -> tuple[Steward, Area]:
    """A steward and their community, if the actor may do `action` there (else 404/403)."""
    stmt = select(Steward).where(Steward.id == steward_id)
    steward = session.exec(stmt.with_for_update() if lock else stmt).first()
    if steward is None:
        raise NotFound()
    area = _community(session, steward.community_id)
    policy.require(actor, action, area)
    return steward, area


def _decide(steward: Steward, actor: policy.Actor, status: str, now: datetime) -> None:
    steward.status = status
    steward.decided_by = actor.account_id
    steward.decided_at = now


def approve_steward(session: Session, *, actor: policy.Actor, steward_id: int,
                    ip: str | None = None, now: datetime | None = None) -> Steward:
    """Approve a pending application: status approved and the "steward" role granted."""
    steward, area = steward_for(session, actor=actor, steward_id=steward_id, lock=True)
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


def reject_steward(session: Session, *, actor: policy.Actor, steward_id: int, reason: str,
                   ip: str | None = None, now: datetime | None = None) -> Steward:
    """Reject a pending application with a reason (kept on the steward, sent to them)."""
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInput(_l("Give a reason of at most 200 characters."), field="reason")
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


def _chief_stations(session: Session, community_id: int, account_id: int) -> list[Station]:
    return list(session.exec(select(Station).where(
        Station.community_id == community_id, Station.chief_id == account_id)
        .order_by(col(Station.name))))


def retire_steward(session: Session, *, actor: policy.Actor, steward_id: int,
                   ip: str | None = None, now: datetime | None = None) -> Steward:
    """Retire an approved steward: the roles go, and so do their station chief posts."""
    steward, area = steward_for(session, actor=actor, steward_id=steward_id, lock=True)
    if steward.status != "approved":
        raise StewardStatusWrong(_l("Only an approved steward can be retired."))
    for station in _chief_stations(session, pk(area), steward.account_id):
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


def set_training(session: Session, *, actor: policy.Actor, steward_id: int, training: str,
                 trained_on: date | None = None, ip: str | None = None,
                 now: datetime | None = None) -> Steward:
    """Set a steward's training status; "trained" needs the date (not in the future)."""
    steward, area = steward_for(session, actor=actor, steward_id=steward_id)
    if training not in TRAINING:
        raise InvalidInput(field="training")
    if training == "trained":
        if trained_on is None:
            raise InvalidInput(_l("Enter the date the training was completed."),
                               field="trained_on")
        if trained_on > local_today(area, now):
            raise InvalidInput(_l("The training date cannot be in the future."),
                               field="trained_on")
    else:
        trained_on = None  # only a finished training has a date
    if (steward.training, steward.trained_on) != (training, trained_on):
        steward.training, steward.trained_on = training, trained_on
        session.add(steward)
        session.flush()
        audit.record(session, actor_id=actor.account_id, action="steward.training", area=area,
                     target_type="steward", target_id=steward.id, ip=ip, training=training,
                     trained_on=trained_on.isoformat() if trained_on else None)
    return steward


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
    q = (filters.q or "").strip()
    if q:
        terms = [col(Account.display_name).contains(q, autoescape=True)]
        digits = auth_services.normalize_phone(q)
        if digits.isdigit():
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
    result.items = [RosterRow(s, name, phone, chiefs.get(s.account_id, []))
                    for s, name, phone in result.items]
    counts = dict(session.exec(select(Steward.status, func.count())
                               .where(Steward.community_id == area.id)
                               .group_by(Steward.status)).all())
    return Roster(
        communities=areas_services.communities_for(session, actor, "steward:read"),
        community=area,
        filters=RosterFilter(area.id, status, training, q, filters.chiefs),
        counts={s: counts.get(s, 0) for s in STEWARD_STATUSES}, page=result,
        can_manage=policy.allowed(actor, "steward:manage", area))


@dataclass
class StewardDetail:
    """A steward's page for the manager: person, application, training, availability, posts."""

    steward: Steward
    community: Area
    account: Account
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
    return StewardDetail(
        steward=steward, community=area, account=account,
        chief_of=[s.name for s in _chief_stations(session, pk(area),
                                                  steward.account_id)],
        decided_by=decider.display_name if decider else None,
        can_manage=policy.allowed(actor, "steward:manage", area), today=local_today(area, now))


# --- The steward's own profile (phone) ------------------------------------------------------

def parse_hhmm(text: str) -> time:
    """'07:30' → time(7, 30); anything but two-digit HH:MM (00:00–23:59) is refused."""
    match = _HHMM.match((text or "").strip())
    if not match:
        raise ValueError(text)
    return time(int(match.group(1)), int(match.group(2)))


def slots_of(steward: Steward) -> list[tuple[int, time, time]]:
    """The steward's availability as (weekday, start, end), sorted; bad stored items skipped."""
    out = []
    for item in steward.availability or []:
        try:
            out.append((int(item["weekday"]), parse_hhmm(item["start"]), parse_hhmm(item["end"])))
        except (KeyError, TypeError, ValueError):
            continue
    return sorted(out)


def _store(slots: list[tuple[int, time, time]]) -> list[dict[str, Any]]:
    return [{"weekday": d, "start": f"{a:%H:%M}", "end": f"{b:%H:%M}"} for d, a, b in sorted(slots)]


def _own_steward(session: Session, account_id: int, steward_id: int) -> Steward:
    steward = session.exec(select(Steward).where(Steward.id == steward_id)
                           .with_for_update()).first()
    if steward is None or steward.account_id != account_id:
        raise NotFound()
    return steward


def add_availability(session: Session, *, account_id: int, steward_id: int, weekday: int,
                     start: str, end: str) -> Steward:
    """Add a weekly range to the account's own steward profile (HH:MM; may pass midnight)."""
    steward = _own_steward(session, account_id, steward_id)
    if not isinstance(weekday, int) or not 0 <= weekday <= 6:
        raise InvalidInput(field="weekday")
    times = []
    for name, text in (("start", start), ("end", end)):
        try:
            times.append(parse_hhmm(text))
        except ValueError:
            raise InvalidInput(_l("Write the time as HH:MM, for example 07:30."),
                               field=name) from None
    begin, finish = times
    if begin == finish:
        raise InvalidInput(_l("The end must differ from the start (an earlier end means the "
                              "range runs past midnight)."), field="end")
    slots = slots_of(steward)
    if len(slots) >= MAX_SLOTS:
        raise InvalidInput(_l("You can keep at most %(count)s time ranges.", count=MAX_SLOTS),
                           field="weekday")
    weekly: dict[int, list[tuple[time, time]]] = {}
    for d, a, b in [*slots, (weekday, begin, finish)]:
        weekly.setdefault(d, []).append((a, b))
    if stations_management.find_overlap(weekly) is not None:
        raise AvailabilityOverlap(field="start")
    steward.availability = _store([*slots, (weekday, begin, finish)])
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
    steward.availability = _store(slots)
    session.add(steward)
    session.flush()
    return steward


@dataclass
class MyStewardship:
    """One community the account volunteers in (any status), with its station chief posts."""

    steward: Steward
    community: Area
    slots: list[tuple[int, time, time]]
    chief_of: list[str]


@dataclass
class StewardHome:
    """The /me/steward page: the account's stewardships and where else it could apply."""

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
                          [st.name for st in _chief_stations(session, pk(a),
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


def _station_in_scope(session: Session, actor: policy.Actor,
                      station_id: int) -> tuple[Station, Area]:
    station = session.exec(select(Station).where(Station.id == station_id)
                           .with_for_update()).first()
    if station is None:
        raise NotFound()
    area = _community(session, station.community_id)
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
    if not _chief_stations(session, pk(area), previous):
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
