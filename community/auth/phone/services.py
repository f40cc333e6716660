"""Request an SMS code for a phone, and verify it: log in, or sign up a new resident.

`request_code` never says whether the phone has an account: every well-formed request that
passes the limits sends a code and gets the same answer. `verify_code` checks the newest
code of the phone (5 minutes, 5 tries, once), then logs in the phone's account or creates a
resident account for it (no role yet: the resident home guides them to join a household).

Limits that must hold across web workers live in the database: the tries on the code row
(one conditional UPDATE), and the per-day sends per phone and per client address (one
atomic upsert per counter). The view keeps the request's work on a refused code
(`keep_on_error`), so a wrong try is counted even though the answer is an error.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from community import clock
from community.audit import services as audit
from community.auth.models import Account
from community.auth.phone import codes
from community.auth.phone.codes import DEFAULT_LIMITS, Limits
from community.auth.phone.models import SmsCode, SmsSendCount
from community.auth.phone.schemas import CodeIn, PhoneIn
from community.auth.services import NO_PASSWORD, mask_phone
from community.errors import DomainError
from community.sms.base import SmsSender


class WaitBeforeResend(DomainError):
    """A code was sent to this phone less than a minute ago."""

    code, status = "sms_cooldown", 429

    def __init__(self, seconds: int) -> None:
        super().__init__(_l("A code was just sent. You can ask for a new one in %(seconds)s "
                            "seconds.", seconds=seconds), seconds=seconds, field="phone")


class PhoneCapReached(DomainError):
    """This phone received its codes for today."""

    code, status, message = "sms_phone_cap", 429, _l(
        "Too many codes were sent to this number today. Please try again tomorrow, or log in "
        "with a password.")


class AddressCapReached(DomainError):
    """This client address asked for too many codes today (whatever the phones)."""

    code, status, message = "sms_address_cap", 429, _l(
        "Too many codes were requested from your network today. Please try again tomorrow.")


class CodeWrong(DomainError):
    """The code does not match (tries are left)."""

    code, status = "sms_code_wrong", 400

    def __init__(self, tries_left: int) -> None:
        super().__init__(_l("Wrong code. %(n)s tries left.", n=tries_left),
                         tries_left=tries_left, field="code")


class CodeMissing(DomainError):
    """No code was sent to this phone (or it is older than a day and gone)."""

    code, status, message = "sms_code_missing", 400, _l(
        "No code was sent to this number, or it is too old. Please ask for a new code.")


class CodeExpired(DomainError):
    """The newest code is older than its 5 minutes."""

    code, status, message = "sms_code_expired", 400, _l(
        "This code has expired (codes are valid for 5 minutes). Please ask for a new code.")


class CodeUsed(DomainError):
    """The newest code has already logged someone in."""

    code, status, message = "sms_code_used", 400, _l(
        "This code has already been used. Please ask for a new code.")


class TooManyTries(DomainError):
    """The newest code was tried too often: it no longer works."""

    code, status, message = "sms_code_locked", 429, _l(
        "Too many wrong tries. This code no longer works; please ask for a new code.")


class AccountDisabled(DomainError):
    """The phone's account is disabled: the code was right, but nobody logs in."""

    code, status, message = "account_disabled", 403, _l(
        "This account has been disabled. Please contact your community manager.")


@dataclass(frozen=True)
class Verified:
    """The outcome of a right code: the account and whether it was created just now."""

    account: Account
    created: bool


def _bump(session: Session, scope: str, subject: str, day: date) -> int:
    """Add one to a per-day counter and return its new value (one atomic statement)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = SmsSendCount.__table__  # type: ignore[attr-defined]
    stmt = insert(table).values(scope=scope, subject=subject, day=day, count=1)
    stmt = stmt.on_conflict_do_update(index_elements=["scope", "subject", "day"],
                                      set_={"count": table.c.count + 1})
    return int(session.execute(stmt.returning(table.c.count)).scalar_one())


def _latest(session: Session, phone: str) -> SmsCode | None:
    return session.exec(select(SmsCode).where(SmsCode.phone == phone)
                        .order_by(col(SmsCode.id).desc()).limit(1)).first()


def request_code(session: Session, *, data: PhoneIn, sender: SmsSender, secret: str,
                 ip: str | None, limits: Limits = DEFAULT_LIMITS, tz: str = clock.DEFAULT_TZ,
                 now: datetime | None = None) -> SmsCode:
    """Send a new code to `data.phone` after the cool-down and the per-day caps; store its hash.

    Raises WaitBeforeResend, PhoneCapReached, AddressCapReached, or an `SmsError` of the
    provider; the caller's rollback then leaves nothing stored. Whether the phone has an
    account plays no part.
    """
    now = now or clock.now()
    phone = data.phone
    day = clock.local(now, tz).date()
    # The phone's counter first: on PostgreSQL its row lock queues a second request for the
    # same phone until this one ends, so the cool-down check below sees the first one's code.
    sent_today = _bump(session, "phone", phone, day)
    last = _latest(session, phone)
    wait = codes.wait_seconds(last.created_at if last else None, now, limits.cooldown)
    if wait:
        raise WaitBeforeResend(wait)
    if sent_today > limits.per_phone_per_day:
        raise PhoneCapReached()
    if ip and _bump(session, "address", ip, day) > limits.per_address_per_day:
        raise AddressCapReached()
    # Codes older than a day are of no use (nor counters older than yesterday): drop them
    # as we go, so the tables stay small without a job.
    session.execute(delete(SmsCode).where(col(SmsCode.phone) == phone,
                                          col(SmsCode.created_at) < now - timedelta(days=1)))
    session.execute(delete(SmsSendCount).where(col(SmsSendCount.day) < day - timedelta(days=1)))
    code = codes.new_code()
    row = SmsCode(phone=phone, code_hash=codes.hash_code(secret, phone, code), created_at=now,
                  expires_at=now + limits.valid, ip=ip)
    session.add(row)
    session.flush()
    # Last, so a refused send (raised here) rolls back the row and the counters with it.
    sender.send_code(phone, code, minutes=limits.minutes)
    return row


def _try(session: Session, row: SmsCode, limits: Limits) -> int | None:
    """Count one try on the code; the number of tries so far, or None when none were left."""
    tries = session.execute(
        update(SmsCode).where(col(SmsCode.id) == row.id, col(SmsCode.attempts) < limits.max_tries)
        .values(attempts=col(SmsCode.attempts) + 1).returning(col(SmsCode.attempts))
    ).scalar_one_or_none()
    return None if tries is None else int(tries)


def verify_code(session: Session, *, phone: str, data: CodeIn, secret: str, ip: str | None,
                limits: Limits = DEFAULT_LIMITS, now: datetime | None = None) -> Verified:
    """Check the phone's newest code; log in its account, or create a resident account.

    Every refusal names its cause (CodeMissing, CodeExpired, CodeUsed, TooManyTries,
    CodeWrong, AccountDisabled); a wrong code is counted (the caller keeps that on error).
    Audited (with `method="sms"`): `login.ok`, plus `account.signup` for a new account;
    `login.failed` for a wrong code or a disabled account.
    """
    now = now or clock.now()
    phone = PhoneIn.parse(phone=phone).phone
    row = _latest(session, phone)
    if row is None:
        raise CodeMissing()
    if row.used_at is not None:
        raise CodeUsed()
    if codes.is_expired(row.expires_at, now):
        raise CodeExpired()
    tries = _try(session, row, limits)
    if tries is None:
        raise TooManyTries()
    if not codes.matches(secret, phone, data.code, row.code_hash):
        audit.record(session, actor_id=None, action="login.failed", ip=ip,
                     method="sms", login=mask_phone(phone))
        if tries >= limits.max_tries:
            raise TooManyTries()
        raise CodeWrong(limits.max_tries - tries)
    # Spend the code only if nobody spent it meanwhile (two tabs, two workers).
    spent = session.execute(update(SmsCode).where(col(SmsCode.id) == row.id,
                                                  col(SmsCode.used_at).is_(None))
                            .values(used_at=now).returning(col(SmsCode.id))).first()
    if not spent:
        raise CodeUsed()
    account = session.exec(select(Account).where(Account.phone == phone)).first()
    created = account is None
    if account is None:
        account = Account(phone=phone, display_name=data.display_name or mask_phone(phone),
                          password_hash=NO_PASSWORD, created_at=now)
        session.add(account)
        session.flush()
        audit.record(session, actor_id=account.id, action="account.signup", ip=ip,
                     target_type="account", target_id=account.id, method="sms")
    elif not account.active:
        audit.record(session, actor_id=account.id, action="login.failed", ip=ip,
                     method="sms", reason="disabled")
        raise AccountDisabled()
    audit.record(session, actor_id=account.id, action="login.ok", ip=ip, method="sms")
    return Verified(account, created)


