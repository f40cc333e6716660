"""Accounts, passwords, role grants and the actor used by every policy check."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, delete, func, or_, update
from sqlmodel import Session, col, select
from werkzeug.security import check_password_hash, generate_password_hash

from community.areas.models import Area
from community.audit import services as audit
from community.auth import policy
from community.auth.models import ROLES, Account, RoleGrant
from community.auth.schemas import (
    PHONE_RE,
    AccountGrantIn,
    AccountIn,
    GrantIn,
    LoginIn,
    PasswordChangeIn,
    PasswordIn,
)

# Re-exported: the login rate limit and the steward search normalise a typed phone number too.
from community.auth.schemas import normalize_phone as normalize_phone
from community.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from community.rows import pk

# Which area level each role is bound to (三定一督: people work in one community).
ROLE_LEVELS: dict[str, frozenset[str]] = {
    "resident": frozenset({"community"}),
    "steward": frozenset({"community"}),
    "station_chief": frozenset({"community"}),
    # Collectors serve every station of their street or district (收运: community/collection).
    "collector": frozenset({"district", "street"}),
    "manager": frozenset({"community"}),
    "area_admin": frozenset({"district", "street"}),
    "city_admin": frozenset({"city"}),
}
# werkzeug method string; tests lower the scrypt cost (see tests/conftest.py), production keeps it.
HASH_METHOD = "scrypt"


@cache
def _dummy_hash() -> str:
    """A hash checked when the login is unknown, so a miss costs as long as a wrong password.

    Made on the first miss, not at import: scrypt at import slowed every worker's start.
    """
    return generate_password_hash("not-a-real-password", method=HASH_METHOD)


class LoginFailed(DomainError):
    """One generic message whatever went wrong, so logins cannot be enumerated."""

    code, status, message = "login_failed", 401, _l("Wrong login or password.")


class WrongCurrentPassword(DomainError):
    """The password change's current password is not the account's."""

    code, status, message = "wrong_password", 422, _l("The current password is wrong.")


# A password hash nobody can match (werkzeug refuses a hash without "$"): an account made by
# SMS sign-up has no password until its owner sets one; the password login fails for it like
# a wrong password.
NO_PASSWORD = "!sms-only"  # noqa: S105 (a marker, not a password)


def has_password(account: Account) -> bool:
    """Whether the account can log in with a password (SMS sign-ups have none at first)."""
    return account.password_hash != NO_PASSWORD


def hash_password(password: str) -> str:
    """scrypt hash of a password."""
    return generate_password_hash(password, method=HASH_METHOD)


def find_by_login(session: Session, login: str) -> Account | None:
    """Look an account up by phone number or (case-insensitive) username."""
    login = (login or "").strip()
    phone = normalize_phone(login)
    if PHONE_RE.match(phone):
        return session.exec(select(Account).where(Account.phone == phone)).first()
    return session.exec(select(Account).where(Account.username == login.lower())).first()


def authenticate(session: Session, *, data: LoginIn, ip: str | None) -> Account:
    """Return the account for valid credentials; else audit the failure and raise LoginFailed."""
    account = find_by_login(session, data.login)
    ok = check_password_hash(account.password_hash if account else _dummy_hash(), data.password)
    if account is None or not ok or not account.active:
        audit.record(session, actor_id=account.id if account else None, action="login.failed",
                     ip=ip, login=data.login)
        raise LoginFailed()
    audit.record(session, actor_id=account.id, action="login.ok", ip=ip)
    return account


def create_account(session: Session, *, data: AccountIn,
                   password_hash: str | None = None) -> Account:
    """Create an account whose login names are not taken yet (the rules are `AccountIn`'s).

    `password_hash`: `hash_password(data.password)` computed once by a caller creating many
    accounts with one password (the demo's logins: one scrypt instead of dozens).
    """
    username, phone = data.username, data.phone
    # Name the clashing field, so the form can put the message next to it.
    if username and session.exec(select(Account).where(Account.username == username)).first():
        raise Conflict(field="username")
    if phone and session.exec(select(Account).where(Account.phone == phone)).first():
        raise Conflict(field="phone")
    account = Account(username=username, phone=phone, display_name=data.display_name,
                      password_hash=password_hash or hash_password(data.password))
    session.add(account)
    session.flush()
    return account


def end_sessions(session: Session, account_id: int) -> int:
    """End every session of an account (each carries the generation it logged in with).

    Called on logout, a password change or reset, disabling the account and removal from a
    household. One UPDATE, so two workers ending sessions at once both count. Returns the
    new generation (0 when there is no such account).
    """
    session.execute(update(Account).where(col(Account.id) == account_id)
                    .values(session_generation=col(Account.session_generation) + 1))
    session.flush()
    generation = session.exec(select(Account.session_generation)
                              .where(Account.id == account_id)).first()
    account = session.get(Account, account_id)
    if account is not None and generation is not None:
        account.session_generation = generation  # the loaded object sees the new value
    return generation or 0


def change_password(session: Session, *, account_id: int, data: PasswordChangeIn,
                    ip: str | None = None) -> Account:
    """The owner sets a new password, knowing the current one (an account made by SMS sign-up
    sets its first one: its owner proved the phone to sign in); every other session ends.

    The caller keeps its own session going with the returned account's new generation.
    """
    account = session.get(Account, account_id)
    if account is None or not account.active:
        raise NotFound()
    if has_password(account) and not check_password_hash(account.password_hash,
                                                          data.current_password or ""):
        raise WrongCurrentPassword(field="current_password")
    account.password_hash = hash_password(data.new_password)
    account.password_must_change = False
    session.add(account)
    session.flush()
    end_sessions(session, account_id)
    audit.record(session, actor_id=account_id, action="account.password_changed",
                 target_type="account", target_id=account_id, ip=ip)
    return account


def load_actor(session: Session, account_id: int) -> policy.Actor:
    """Build the policy Actor (grants with their area paths) for an account."""
    rows = session.exec(
        select(RoleGrant.role, RoleGrant.area_id, Area.path)
        .join(Area, col(Area.id) == RoleGrant.area_id)
        .where(RoleGrant.account_id == account_id)
    ).all()
    return policy.Actor(account_id, [policy.Grant(r, a, p) for r, a, p in rows])


def add_grant(session: Session, *, account: Account, role: str, area: Area,
              granted_by: int | None = None) -> RoleGrant:
    """Insert a grant without authorization (CLI and demo); idempotent."""
    if role not in ROLES:
        raise InvalidInput(field="role")
    if not role_fits_level(role, area.level):
        raise InvalidInput(field="area_id")
    existing = session.exec(select(RoleGrant).where(
        RoleGrant.account_id == account.id, RoleGrant.role == role, RoleGrant.area_id == area.id
    )).first()
    if existing:
        return existing
    grant = RoleGrant(account_id=pk(account), role=role, area_id=pk(area), granted_by=granted_by)
    session.add(grant)
    session.flush()
    return grant


def drop_grant(session: Session, *, account_id: int, role: str, area_id: int) -> None:
    """Remove a grant without authorization (the caller decided; e.g. a resident who left
    their last household of a community); nothing when there is none."""
    session.execute(delete(RoleGrant).where(col(RoleGrant.account_id) == account_id,
                                            col(RoleGrant.role) == role,
                                            col(RoleGrant.area_id) == area_id))
    session.flush()


def grant_role(session: Session, *, actor: policy.Actor, account_id: int, role: str,
               area: Area, ip: str | None = None) -> RoleGrant:
    """Give `role` in `area` to an account; only roles below the actor's own, inside its scope.

    `role` comes from a validated input (`GrantIn`); `add_grant` still refuses an unknown code.
    """
    account = session.get(Account, account_id)
    if account is None or not _may_receive_grant(session, actor, account_id):
        raise NotFound()
    if not policy.can_grant(actor, role, area):
        raise Forbidden(action="role:grant")
    grant = add_grant(session, account=account, role=role, area=area, granted_by=actor.account_id)
    audit.record(session, actor_id=actor.account_id, action="role.granted", area=area,
                 target_type="account", target_id=account.id, ip=ip, role=role)
    return grant


def revoke_role(session: Session, *, actor: policy.Actor, grant_id: int,
                ip: str | None = None) -> None:
    """Remove a grant; the same rank rule as granting applies."""
    grant = session.get(RoleGrant, grant_id)
    if grant is None:
        raise NotFound()
    area = session.get(Area, grant.area_id)
    if area is None or not policy.can_grant(actor, grant.role, area):
        raise Forbidden(action="role:grant")
    session.delete(grant)
    audit.record(session, actor_id=actor.account_id, action="role.revoked", area=area,
                 target_type="account", target_id=grant.account_id, ip=ip, role=grant.role)
    session.flush()


def close_account(session: Session, account_id: int) -> None:
    """Close an account for good (注销): its sessions end, it keeps no phone, username,
    password or resident grant, and it can never log in again. The row stays (the audit
    log and the ledger name who did what by id), holding no personal data; the phone can
    sign up afresh. Callers check who may close it."""
    session.execute(delete(RoleGrant).where(col(RoleGrant.account_id) == account_id,
                                            col(RoleGrant.role) == "resident"))
    session.execute(update(Account).where(col(Account.id) == account_id).values(
        display_name="—", phone=None, username=None, locale=None, active=False,
        password_hash=hash_password(secrets.token_urlsafe(32))))  # known to nobody
    session.flush()
    end_sessions(session, account_id)


def set_locale(session: Session, *, account_id: int, locale: str) -> None:
    """Remember an account's language choice."""
    account = session.get(Account, account_id)
    if account is not None and locale in ("zh", "en"):
        account.locale = locale
        session.add(account)
        session.flush()


# --- Account and role management (admin pages) -------------------------------------------


@dataclass
class GrantRow:
    """A grant with its area, and whether the reader may revoke it."""

    grant: RoleGrant
    area: Area
    revocable: bool


@dataclass
class AccountRow:
    """An account with the grants the reader is allowed to see (those inside the reader's scope)."""

    account: Account
    grants: list[GrantRow] = field(default_factory=list)


@dataclass
class GrantOptions:
    """What the reader may hand out: roles, areas, and which roles fit each area."""

    roles: list[str]
    areas: list[Area]
    roles_by_area: dict[int, list[str]]


def role_fits_level(role: str, level: str) -> bool:
    """Whether `role` may be bound to an area of `level` (e.g. a manager to a community)."""
    return level in ROLE_LEVELS.get(role, frozenset())


def mask_phone(phone: str | None) -> str:
    """Hide the middle of a phone number for lists: '13800000001' → '138****0001'."""
    if not phone:
        return ""
    if len(phone) < 8:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def name_for(display_name: str, phone: str | None, *, reveal: bool) -> str:
    """An account's name for one reader. An SMS sign-up that typed no name is named by its
    masked phone ('139****0002', so other members of a household never see the number);
    a reader who may see the phone (`reveal`: the account itself, its community's manager)
    sees that placeholder as the whole number, so a name column never "masks" what the
    phone or login column beside it shows."""
    if reveal and phone and display_name == mask_phone(phone):
        return phone
    return display_name


def _path_filter(paths: list[str]) -> ColumnElement[bool]:
    return or_(*[col(Area.path).startswith(p) for p in paths])


def _visible_clause(actor: policy.Actor) -> ColumnElement[bool]:
    """SQL condition on Account: holds a grant inside the actor's account scope.

    City admins also see accounts without any grant (e.g. after their last role was revoked),
    which belong to no area, like audit entries without an area.
    """
    paths = policy.scopes(actor, "account:manage")
    if not paths:
        raise Forbidden(action="account:manage")
    in_scope = (
        select(RoleGrant.id)
        .join(Area, col(Area.id) == RoleGrant.area_id)
        .where(RoleGrant.account_id == Account.id, _path_filter(paths))
        .exists()
    )
    if actor.has_any("city_admin"):
        no_grant = ~select(RoleGrant.id).where(RoleGrant.account_id == Account.id).exists()
        return or_(in_scope, no_grant)
    return in_scope


def _may_receive_grant(session: Session, actor: policy.Actor, account_id: int) -> bool:
    """An account with grants must hold one inside the actor's scope; a new one has none yet."""
    paths = policy.scopes(actor, "account:manage")
    grants = session.exec(
        select(Area.path).join(RoleGrant, col(RoleGrant.area_id) == Area.id)
        .where(RoleGrant.account_id == account_id)
    ).all()
    return not grants or any(policy.covers(p, g) for p in paths for g in grants)


def _grant_rows(session: Session, actor: policy.Actor,
                account_ids: list[int]) -> dict[int, list[GrantRow]]:
    """The in-scope grants of some accounts, keyed by account id."""
    paths = policy.scopes(actor, "account:manage")
    out: dict[int, list[GrantRow]] = {i: [] for i in account_ids}
    if not account_ids or not paths:
        return out
    rows = session.exec(
        select(RoleGrant, Area).join(Area, col(Area.id) == RoleGrant.area_id)
        .where(col(RoleGrant.account_id).in_(account_ids), _path_filter(paths))
        .order_by(col(RoleGrant.id))
    ).all()
    for grant, area in rows:
        out[grant.account_id].append(
            GrantRow(grant, area, policy.can_grant(actor, grant.role, area)))
    return out


def list_accounts(session: Session, *, actor: policy.Actor, query: str | None = None,
                  page: int = 1, per_page: int = 50) -> tuple[list[AccountRow], int]:
    """One page of the accounts inside the actor's scope, searched by name, username or phone."""
    stmt = select(Account).where(_visible_clause(actor))
    query = (query or "").strip()
    if query:
        conds = [col(Account.display_name).contains(query, autoescape=True),
                 col(Account.username).contains(query.lower(), autoescape=True)]
        digits = normalize_phone(query)
        if digits.isdigit():
            conds.append(col(Account.phone).contains(digits, autoescape=True))
        stmt = stmt.where(or_(*conds))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    page = max(1, page)
    accounts = list(session.exec(
        stmt.order_by(col(Account.id).desc()).limit(per_page).offset((page - 1) * per_page)))
    grants = _grant_rows(session, actor, [a.id for a in accounts if a.id is not None])
    return [AccountRow(a, grants[a.id]) for a in accounts if a.id is not None], total


def get_account(session: Session, *, actor: policy.Actor, account_id: int) -> AccountRow:
    """An account inside the actor's scope with its in-scope grants; NotFound otherwise."""
    account = session.exec(
        select(Account).where(Account.id == account_id, _visible_clause(actor))).first()
    if account is None or account.id is None:
        raise NotFound()
    return AccountRow(account, _grant_rows(session, actor, [account.id])[account.id])


def grant_options(session: Session, *, actor: policy.Actor) -> GrantOptions:
    """Roles the actor may grant and the areas (in scope, of a fitting level) to grant them in."""
    paths = policy.scopes(actor, "role:grant")
    if not paths:
        raise Forbidden(action="role:grant")
    candidates = session.exec(select(Area).where(_path_filter(paths)).order_by(col(Area.path)))
    areas: list[Area] = []
    by_area: dict[int, list[str]] = {}
    for area in candidates:
        fitting = [r for r in ROLES
                   if role_fits_level(r, area.level) and policy.can_grant(actor, r, area)]
        if fitting and area.id is not None:
            areas.append(area)
            by_area[area.id] = fitting
    roles = [r for r in ROLES if any(r in rs for rs in by_area.values())]
    return GrantOptions(roles, areas, by_area)


def _grantable_area(session: Session, actor: policy.Actor, grant: GrantIn) -> Area:
    """Check a (role, area) pair before anything is written: in scope, ranked below, right level."""
    role = grant.role
    area = session.get(Area, grant.area_id)
    if area is None:
        raise InvalidInput(field="area_id")
    if not policy.can_grant(actor, role, area):
        raise Forbidden(action="role:grant")
    if not role_fits_level(role, area.level):
        raise InvalidInput(field="area_id")
    return area


def create_account_with_role(session: Session, *, actor: policy.Actor, data: AccountGrantIn,
                             ip: str | None = None) -> Account:
    """An admin creates an account holding one role in one area of their scope (both audited)."""
    area = _grantable_area(session, actor, data.grant())
    account = create_account(session, data=data)
    account.password_must_change = True  # the admin knows it: the owner replaces it first
    session.add(account)
    audit.record(session, actor_id=actor.account_id, action="account.created", area=area,
                 target_type="account", target_id=account.id, ip=ip)
    grant_role(session, actor=actor, account_id=pk(account),
               role=data.role, area=area, ip=ip)
    return account


def add_role(session: Session, *, actor: policy.Actor, account_id: int, data: GrantIn,
             ip: str | None = None) -> RoleGrant:
    """Give an account in the actor's scope another role, by area id (the form's view of it)."""
    get_account(session, actor=actor, account_id=account_id)
    area = _grantable_area(session, actor, data)
    return grant_role(session, actor=actor, account_id=account_id, role=data.role, area=area,
                      ip=ip)


def _managed_account(session: Session, actor: policy.Actor, account_id: int) -> AccountRow:
    """An account the actor outranks in every one of its roles (else Forbidden/NotFound)."""
    row = get_account(session, actor=actor, account_id=account_id)
    # Every grant, not only those in scope: managing the account takes over all of its roles.
    held = session.exec(
        select(RoleGrant.role, Area).join(Area, col(Area.id) == RoleGrant.area_id)
        .where(RoleGrant.account_id == account_id)
    ).all()
    if not all(policy.can_grant(actor, role, area) for role, area in held):
        raise Forbidden(action="account:manage")
    return row


def reset_password(session: Session, *, actor: policy.Actor, account_id: int, data: PasswordIn,
                   ip: str | None = None) -> Account:
    """Set a new password for an account the actor outranks in every one of its roles.

    Its sessions end, and the owner must choose a new password at the next login.
    """
    row = _managed_account(session, actor, account_id)
    account = row.account
    account.password_hash = hash_password(data.password)
    account.password_must_change = True
    session.add(account)
    end_sessions(session, account_id)
    audit.record(session, actor_id=actor.account_id, action="account.password_reset",
                 area=row.grants[0].area if row.grants else None, target_type="account",
                 target_id=account.id, ip=ip)
    return account


def set_account_active(session: Session, *, actor: policy.Actor, account_id: int, active: bool,
                       ip: str | None = None) -> Account:
    """Disable (its sessions end at once) or re-enable an account the actor outranks."""
    if account_id == actor.account_id:
        raise Forbidden(action="account:manage")  # an admin does not lock themselves out
    row = _managed_account(session, actor, account_id)
    account = row.account
    if account.active == active:
        return account
    account.active = active
    session.add(account)
    if not active:
        end_sessions(session, account_id)
    audit.record(session, actor_id=actor.account_id,
                 action="account.enabled" if active else "account.disabled",
                 area=row.grants[0].area if row.grants else None, target_type="account",
                 target_id=account.id, ip=ip)
    return account
