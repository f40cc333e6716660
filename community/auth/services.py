"""Accounts, passwords, role grants and the actor used by every policy check."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, col, select
from werkzeug.security import check_password_hash, generate_password_hash

from community.areas.models import Area
from community.audit import services as audit
from community.auth import policy
from community.auth.models import ROLES, Account, RoleGrant
from community.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{2,63}$")
MIN_PASSWORD = 8
# werkzeug method string; tests lower the scrypt cost (see tests/conftest.py), production keeps it.
HASH_METHOD = "scrypt"
# Checked when the login is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


class LoginFailed(DomainError):
    """One generic message whatever went wrong, so logins cannot be enumerated."""

    code, status, message = "login_failed", 401, _l("Wrong login or password.")


def hash_password(password: str) -> str:
    """scrypt hash of a password."""
    return generate_password_hash(password, method=HASH_METHOD)


def normalize_phone(value: str) -> str:
    """Strip spaces, dashes and a +86 prefix from a mainland mobile number."""
    digits = re.sub(r"[\s-]", "", value or "")
    return digits[3:] if digits.startswith("+86") else digits


def find_by_login(session: Session, login: str) -> Account | None:
    """Look an account up by phone number or (case-insensitive) username."""
    login = (login or "").strip()
    phone = normalize_phone(login)
    if PHONE_RE.match(phone):
        return session.exec(select(Account).where(Account.phone == phone)).first()
    return session.exec(select(Account).where(Account.username == login.lower())).first()


def authenticate(session: Session, *, login: str, password: str, ip: str | None) -> Account:
    """Return the account for valid credentials; else audit the failure and raise LoginFailed."""
    account = find_by_login(session, login)
    ok = check_password_hash(account.password_hash if account else _DUMMY_HASH, password or "")
    if account is None or not ok or not account.active:
        audit.record(session, actor_id=account.id if account else None, action="login.failed",
                     ip=ip, login=(login or "")[:64])
        raise LoginFailed()
    audit.record(session, actor_id=account.id, action="login.ok", ip=ip)
    return account


def create_account(
    session: Session,
    *,
    display_name: str,
    password: str,
    username: str | None = None,
    phone: str | None = None,
) -> Account:
    """Create an account after validating its login names and password."""
    username = (username or "").strip().lower() or None
    phone = normalize_phone(phone or "") or None
    if not username and not phone:
        raise InvalidInput(field="username")
    if username and not USERNAME_RE.match(username):
        raise InvalidInput(field="username")
    if phone and not PHONE_RE.match(phone):
        raise InvalidInput(field="phone")
    if len(password or "") < MIN_PASSWORD:
        raise InvalidInput(field="password")
    if not (display_name or "").strip():
        raise InvalidInput(field="display_name")
    clash = select(Account).where(
        (col(Account.username) == username) if username else (col(Account.phone) == phone)
    )
    if session.exec(clash).first() or (
        phone and username and session.exec(select(Account).where(Account.phone == phone)).first()
    ):
        raise Conflict(field="username")
    account = Account(username=username, phone=phone, display_name=display_name.strip(),
                      password_hash=hash_password(password))
    session.add(account)
    session.flush()
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
    if role in {"resident", "steward", "station_chief", "manager"} and area.level != "community":
        raise InvalidInput(field="area_id")
    existing = session.exec(select(RoleGrant).where(
        RoleGrant.account_id == account.id, RoleGrant.role == role, RoleGrant.area_id == area.id
    )).first()
    if existing:
        return existing
    grant = RoleGrant(account_id=account.id, role=role, area_id=area.id, granted_by=granted_by)
    session.add(grant)
    session.flush()
    return grant


def grant_role(session: Session, *, actor: policy.Actor, account_id: int, role: str,
               area: Area, ip: str | None = None) -> RoleGrant:
    """Give `role` in `area` to an account; only roles below the actor's own, inside its scope."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound()
    if role not in ROLES:
        raise InvalidInput(field="role")
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


def set_locale(session: Session, *, account_id: int, locale: str) -> None:
    """Remember an account's language choice."""
    account = session.get(Account, account_id)
    if account is not None and locale in ("zh", "en"):
        account.locale = locale
        session.add(account)
        session.flush()
