"""The pure rules of SMS codes and the service-level refusals (a reused code)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from community.auth.phone import codes
from community.auth.phone import services as phone_services
from community.auth.phone.schemas import CodeIn, PhoneIn
from community.errors import InvalidInput
from tests import builders

SECRET = "test-only-secret"
T0 = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)


def test_codes_are_six_digits_and_hashed_per_phone() -> None:
    made = {codes.new_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in made)
    assert len(made) > 150
    a, b = codes.hash_code(SECRET, "13800000001", "123456"), codes.hash_code(
        SECRET, "13800000002", "123456")
    assert a != b
    assert codes.matches(SECRET, "13800000001", "123456", a)
    assert not codes.matches(SECRET, "13800000001", "123457", a)
    assert not codes.matches("another-secret", "13800000001", "123456", a)


def test_expiry_and_wait() -> None:
    assert not codes.is_expired(T0 + timedelta(minutes=5), T0 + timedelta(minutes=5) -
                                timedelta(microseconds=1))
    assert codes.is_expired(T0 + timedelta(minutes=5), T0 + timedelta(minutes=5))
    assert codes.wait_seconds(None, T0, timedelta(seconds=60)) == 0
    assert codes.wait_seconds(T0, T0 + timedelta(seconds=59.5), timedelta(seconds=60)) == 1
    assert codes.wait_seconds(T0, T0 + timedelta(seconds=60), timedelta(seconds=60)) == 0


@pytest.mark.parametrize(("typed", "stored"), [("+86 138 0013 8000", "13800138000"),
                                              ("138-0013-8000", "13800138000")])
def test_phone_normalised(typed: str, stored: str) -> None:
    assert PhoneIn.parse(phone=typed).phone == stored


def test_phone_rule_worded() -> None:
    with pytest.raises(InvalidInput) as exc:
        PhoneIn.parse(phone="10012345678")
    assert "11-digit" in str(exc.value.details["fields"]["phone"])


class Sent:
    def __init__(self) -> None:
        self.code = ""

    def send_code(self, phone: str, code: str, *, minutes: int) -> None:
        self.code = code


def test_a_code_is_used_once(session: Session, world: builders.World) -> None:
    sent = Sent()
    phone_services.request_code(session, data=PhoneIn(phone="13900000099"), sender=sent,
                                secret=SECRET, ip="127.0.0.1", now=T0)
    data = CodeIn.parse(code=sent.code)
    first = phone_services.verify_code(session, phone="13900000099", data=data, secret=SECRET,
                                       ip=None, now=T0 + timedelta(seconds=5))
    assert first.created
    with pytest.raises(phone_services.CodeUsed):
        phone_services.verify_code(session, phone="13900000099", data=data, secret=SECRET,
                                   ip=None, now=T0 + timedelta(seconds=6))
    with pytest.raises(phone_services.CodeMissing):
        phone_services.verify_code(session, phone="13900000098", data=data, secret=SECRET,
                                   ip=None, now=T0 + timedelta(seconds=6))
