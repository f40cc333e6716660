"""Phone sign-up and login by SMS code, through the pages: the flow, the limits, the refusals.

Codes are caught by a recording SMS sender put in place of the app's provider. Times are
frozen where they matter (expiry, cool-down, per-day caps are on the local day).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlmodel import Session, col, select

from community import clock
from community.audit.models import AuditEntry
from community.auth.models import Account
from community.auth.phone.models import SmsCode, SmsSendCount
from community.sms import SmsThrottled
from tests import builders

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
NEW_PHONE = "13900000099"


class Recorder:
    """An SMS sender that remembers what it sent (or refuses, when told to)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.refuse: Exception | None = None

    def send_code(self, phone: str, code: str, *, minutes: int) -> None:
        if self.refuse is not None:
            raise self.refuse
        self.sent.append((phone, code))

    def last(self, phone: str) -> str:
        return next(code for p, code in reversed(self.sent) if p == phone)


@pytest.fixture
def sms(app: Flask) -> Iterator[Recorder]:
    recorder, saved = Recorder(), app.extensions["community.sms"]
    app.extensions["community.sms"] = recorder
    yield recorder
    app.extensions["community.sms"] = saved


def text(resp) -> str:
    return resp.get_data(as_text=True)


def ask(client, phone: str):
    return client.post("/login/phone", data={"phone": phone})


def answer(client, code: str, **extra: str):
    return client.post("/login/phone/code", data={"code": code, **extra})


def logged_in(client) -> bool:
    return client.get("/me/").status_code == 200


def test_login_page_offers_the_phone_way_in(client, world: builders.World) -> None:
    page = text(client.get("/login"))
    assert 'href="/login/phone"' in page
    assert "用手机号登录/注册" in page
    assert 'autocomplete="username"' in page  # the login box takes a username or a phone


def test_phone_page_fields_suit_phones(client, world: builders.World, sms: Recorder) -> None:
    page = text(client.get("/login/phone"))
    assert 'type="tel"' in page
    assert 'inputmode="numeric"' in page
    ask(client, NEW_PHONE)
    page = text(client.get("/login/phone/code"))
    assert 'autocomplete="one-time-code"' in page
    assert "139****0099" in page


def test_new_phone_signs_up_and_lands_on_the_resident_home(
        client, session: Session, world: builders.World, sms: Recorder) -> None:
    resp = ask(client, "+86 139-0000-0099")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login/phone/code")
    assert sms.sent[0][0] == NEW_PHONE
    resp = answer(client, sms.last(NEW_PHONE), display_name="王阿姨")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/me/"
    home = client.get("/me/", follow_redirects=True)
    assert home.status_code == 200
    account = session.exec(select(Account).where(Account.phone == NEW_PHONE)).one()
    assert account.display_name == "王阿姨"
    assert account.username is None
    # Only the code's HMAC is stored, and it is spent.
    row = session.exec(select(SmsCode).where(SmsCode.phone == NEW_PHONE)).one()
    assert sms.last(NEW_PHONE) not in row.code_hash
    assert len(row.code_hash) == 64
    assert row.used_at is not None
    actions = session.exec(select(AuditEntry.action, AuditEntry.detail)
                           .where(AuditEntry.actor_id == account.id)).all()
    assert ("account.signup", {"method": "sms"}) in actions
    assert ("login.ok", {"method": "sms"}) in actions
    # No password: the password login refuses whatever is typed.
    client.post("/logout")
    assert client.post("/login", data={"login": NEW_PHONE, "password": "!sms-only"}
                       ).status_code == 401


def test_a_name_is_optional(client, session: Session, world: builders.World,
                            sms: Recorder) -> None:
    ask(client, NEW_PHONE)
    assert answer(client, sms.last(NEW_PHONE)).status_code == 302
    account = session.exec(select(Account).where(Account.phone == NEW_PHONE)).one()
    assert account.display_name == "139****0099"


def test_existing_account_logs_in(client, session: Session, world: builders.World,
                                  sms: Recorder) -> None:
    ask(client, "138 0000 0001")
    resp = answer(client, sms.last("13800000001"), display_name="ignored")
    assert resp.status_code == 302
    assert logged_in(client)
    accounts = session.exec(select(Account).where(Account.phone == "13800000001")).all()
    assert len(accounts) == 1
    assert accounts[0].display_name != "ignored"
    assert not session.exec(select(AuditEntry).where(AuditEntry.action == "account.signup")
                            ).all()


def test_answers_do_not_tell_whether_an_account_exists(app: Flask, world: builders.World,
                                                       sms: Recorder) -> None:
    pages = []
    for phone in ("13800000001", NEW_PHONE):  # an account, and none
        client = app.test_client()
        with clock.freeze(T0):
            first = ask(client, phone)
            second = client.get(first.headers["Location"])
        masked = f"{phone[:3]}****{phone[-4:]}"
        pages.append((first.status_code, first.headers["Location"],
                      second.status_code, text(second).replace(masked, "PHONE")
                      .split('name="csrf_token"')[0]))
    assert pages[0] == pages[1]


def test_code_expires_at_exactly_five_minutes(client, session: Session,
                                              world: builders.World, sms: Recorder) -> None:
    with clock.freeze(T0):
        ask(client, NEW_PHONE)
    code = sms.last(NEW_PHONE)
    with clock.freeze(T0 + timedelta(minutes=5)):
        resp = answer(client, code)
    assert resp.status_code == 400
    assert "验证码已过期" in text(resp)
    assert not logged_in(client)
    # A moment earlier it works.
    with clock.freeze(T0 + timedelta(minutes=6)):
        ask(client, NEW_PHONE)
    code = sms.last(NEW_PHONE)
    with clock.freeze(T0 + timedelta(minutes=10, seconds=59)):
        assert answer(client, code).status_code == 302
    assert logged_in(client)


def test_five_tries_then_the_code_is_dead(client, session: Session, world: builders.World,
                                          sms: Recorder) -> None:
    ask(client, NEW_PHONE)
    code = sms.last(NEW_PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        resp = answer(client, wrong)
        assert resp.status_code == 400
        assert f"还可以再试 {left} 次" in text(resp)
    resp = answer(client, wrong)
    assert resp.status_code == 429
    assert "错误次数过多" in text(resp)
    # The right code no longer works either; the tries were stored despite the errors.
    assert answer(client, code).status_code == 429
    assert not logged_in(client)
    row = session.exec(select(SmsCode).where(SmsCode.phone == NEW_PHONE)).one()
    assert row.attempts == 5
    fails = session.exec(select(AuditEntry).where(AuditEntry.action == "login.failed")).all()
    assert len(fails) == 5
    assert {f.detail["method"] for f in fails} == {"sms"}


def test_resend_cool_down(client, world: builders.World, sms: Recorder) -> None:
    with clock.freeze(T0):
        ask(client, NEW_PHONE)
    with clock.freeze(T0 + timedelta(seconds=45)):
        resp = ask(client, NEW_PHONE)
        resend = client.post("/login/phone/resend")
    assert resp.status_code == resend.status_code == 429
    assert "15 秒后" in text(resp)
    assert "15 秒后" in text(resend)
    assert len(sms.sent) == 1
    with clock.freeze(T0 + timedelta(seconds=60)):
        assert client.post("/login/phone/resend").status_code == 302
    assert len(sms.sent) == 2
    # Only the newest code works.
    first, second = sms.sent[0][1], sms.sent[1][1]
    if first != second:
        with clock.freeze(T0 + timedelta(seconds=61)):
            assert answer(client, first).status_code == 400
    with clock.freeze(T0 + timedelta(seconds=62)):
        assert answer(client, second).status_code == 302


def test_per_phone_daily_cap(client, session: Session, world: builders.World, sms: Recorder,
                             set_config) -> None:
    set_config(SMS_CODES_PER_PHONE_PER_DAY=3)
    for i in range(3):
        with clock.freeze(T0 + timedelta(minutes=2 * i)):
            assert ask(client, NEW_PHONE).status_code == 302
    with clock.freeze(T0 + timedelta(minutes=10)):
        resp = ask(client, NEW_PHONE)
    assert resp.status_code == 429
    assert "今天发送到这个号码的验证码太多" in text(resp)
    assert len(sms.sent) == 3
    # Another phone is not affected; the next local day (00:00 Beijing time) starts afresh.
    with clock.freeze(T0 + timedelta(minutes=10)):
        assert ask(client, "13900000098").status_code == 302
    with clock.freeze(datetime(2026, 11, 22, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai"))):
        assert ask(client, NEW_PHONE).status_code == 302
    counts = session.exec(select(SmsSendCount).where(SmsSendCount.subject == NEW_PHONE)
                          .order_by(col(SmsSendCount.day))).all()
    assert [c.count for c in counts] == [3, 1]


def test_per_address_daily_cap(app: Flask, world: builders.World, sms: Recorder,
                               set_config) -> None:
    set_config(SMS_CODES_PER_ADDRESS_PER_DAY=2)
    client = app.test_client()
    with clock.freeze(T0):
        for phone in ("13900000001", "13900000002"):
            assert ask(client, phone).status_code == 302
        resp = ask(client, "13900000003")
        assert resp.status_code == 429
        assert "您的网络今天请求的验证码太多" in text(resp)
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = "10.1.2.3"
        assert ask(other, "13900000003").status_code == 302
    assert [p for p, _ in sms.sent] == ["13900000001", "13900000002", "13900000003"]


def test_disabled_account_is_refused(client, session: Session, world: builders.World,
                                     sms: Recorder) -> None:
    world.resident_a.active = False
    session.add(world.resident_a)
    session.commit()
    ask(client, "13800000001")
    resp = answer(client, sms.last("13800000001"))
    assert resp.status_code == 403
    assert "该账户已停用" in text(resp)
    assert not logged_in(client)


@pytest.mark.parametrize("phone", ["12345", "23800000001", "1380000000a", "138000000012", ""])
def test_malformed_phone(client, session: Session, world: builders.World, sms: Recorder,
                         phone: str) -> None:
    resp = ask(client, phone)
    assert resp.status_code == 422
    assert "请输入 11 位中国大陆手机号" in text(resp)
    assert sms.sent == []
    assert session.exec(select(SmsSendCount)).all() == []


def test_malformed_phone_in_english(client, world: builders.World, sms: Recorder) -> None:
    client.post("/lang", data={"lang": "en", "next": "/"})
    resp = ask(client, "12345")
    assert resp.status_code == 422
    assert "Enter an 11-digit mainland mobile number" in text(resp)


def test_malformed_code_is_not_a_try(client, session: Session, world: builders.World,
                                     sms: Recorder) -> None:
    ask(client, NEW_PHONE)
    resp = answer(client, "12ab")
    assert resp.status_code == 422
    assert "请输入短信中的 6 位验证码" in text(resp)
    assert session.exec(select(SmsCode)).one().attempts == 0
    assert answer(client, " ".join([sms.last(NEW_PHONE)[:3], sms.last(NEW_PHONE)[3:]])
                  ).status_code == 302  # "123 456" as pasted


def test_provider_refusal_stores_nothing(client, session: Session, world: builders.World,
                                         sms: Recorder) -> None:
    sms.refuse = SmsThrottled(provider_code="LimitExceeded.PhoneNumberDailyLimit")
    resp = ask(client, NEW_PHONE)
    assert resp.status_code == 429
    assert "这个号码收到的短信太多" in text(resp)
    assert session.exec(select(SmsCode)).all() == []
    assert session.exec(select(SmsSendCount)).all() == []


def test_code_step_needs_a_phone_first(client, world: builders.World) -> None:
    assert client.get("/login/phone/code").headers["Location"] == "/login/phone"
    assert answer(client, "123456").headers["Location"] == "/login/phone"
    assert client.post("/login/phone/resend").headers["Location"] == "/login/phone"


def test_dev_page_answers_only_in_demo_mode(client, world: builders.World) -> None:
    assert client.get("/auth/dev-sms").status_code == 404


@pytest.mark.parametrize("app_config", [{"SMS_DEV_PAGE": True}])
def test_dev_page_shows_the_latest_codes(client, session: Session,
                                         world: builders.World) -> None:
    assert "还没有发送过验证码" in text(client.get("/auth/dev-sms"))
    ask(client, NEW_PHONE)
    page = client.get("/auth/dev-sms")
    assert page.headers["Cache-Control"] == "no-store"
    code = page.get_data(as_text=True).split("<strong>")[1].split("</strong>")[0]
    assert NEW_PHONE in text(page)
    assert answer(client, code).status_code == 302


def test_account_form_phone_box_is_a_phone_field(client, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    page = text(client.get("/admin/accounts/new"))
    box = re.search(r'<input[^>]*name="phone"[^>]*>', page)
    assert box is not None
    assert 'type="tel"' in box.group(0)
    assert 'inputmode="numeric"' in box.group(0)


@pytest.mark.real_db
def test_caps_hold_across_workers(app: Flask, db_url: str, world: builders.World,
                                  set_config) -> None:
    """Two apps on one database (two gunicorn workers): the per-phone cap counts both."""
    from community import create_app
    from community.db import get_engine

    set_config(SMS_CODES_PER_PHONE_PER_DAY=3)
    other = create_app({**{k: app.config[k] for k in ("TESTING", "WTF_CSRF_ENABLED",
                                                      "RATELIMIT_ENABLED", "SECRET_KEY")},
                        "DATABASE_URL": db_url, "SMS_CODES_PER_PHONE_PER_DAY": 3})
    sent: list[Recorder] = []
    try:
        for a in (app, other):
            recorder = Recorder()
            a.extensions["community.sms"] = recorder
            sent.append(recorder)
        clients = [app.test_client(), other.test_client()]
        answers = []
        for i in range(4):
            with clock.freeze(T0 + timedelta(minutes=2 * i)):
                answers.append(ask(clients[i % 2], NEW_PHONE).status_code)
        assert answers == [302, 302, 302, 429]
        assert sum(len(r.sent) for r in sent) == 3
    finally:
        get_engine(other).dispose()


def test_sms_login_starts_a_fresh_session(client, world: builders.World,
                                          sms: Recorder) -> None:
    """The cookie is rewritten at login (no planted session survives); "remember me" keeps a
    resident logged in beyond the browser session, and not without it."""
    with client.session_transaction() as planted:
        planted["planted"] = "by an attacker"
    ask(client, "13800000001")
    resp = answer(client, sms.last("13800000001"), remember="y")
    assert resp.status_code == 302
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Expires=" in cookie
    with client.session_transaction() as current:
        assert "planted" not in current
        assert "sms_phone" not in current
    client.post("/logout")
    with clock.freeze(T0 + timedelta(minutes=5)):
        ask(client, "13800000001")
        resp = answer(client, sms.last("13800000001"))
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Expires=" not in cookie


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_the_owner_logs_in_by_sms_during_a_password_storm(client, world: builders.World,
                                                          sms: Recorder) -> None:
    """Someone guesses the resident's password until the account waits; the owner still gets
    in with an SMS code, and afterwards the password login no longer makes them wait."""
    phone = world.resident_a.phone
    for _n in range(8):
        client.post("/login", data={"login": phone, "password": "not-the-password-1"})
    storm = client.post("/login", data={"login": phone, "password": builders.PASSWORD})
    assert storm.status_code == 429
    assert "/login/phone" in text(storm)  # the way round is offered
    ask(client, phone)
    assert answer(client, sms.last(phone)).status_code == 302
    assert logged_in(client)
    client.post("/logout")
    resp = client.post("/login", data={"login": phone, "password": builders.PASSWORD})
    assert resp.status_code == 302


def test_an_sms_account_sets_its_first_password_without_a_current_one(
        client, session: Session, world: builders.World, sms: Recorder) -> None:
    ask(client, NEW_PHONE)
    answer(client, sms.last(NEW_PHONE))
    page = text(client.get("/account/password"))
    assert 'name="current_password"' not in page
    assert 'data-testid="password-first"' in page
    weak = client.post("/account/password", data={"new_password": "12345678",
                                                   "confirm_password": "12345678"})
    assert weak.status_code == 422
    good = "lantern-river-maple-42"
    resp = client.post("/account/password", data={"new_password": good,
                                                   "confirm_password": good})
    assert resp.status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"login": NEW_PHONE, "password": good}).status_code == 302
    # From now on the account has a password: changing it asks for the current one.
    page = text(client.get("/account/password"))
    assert 'name="current_password"' in page
    resp = client.post("/account/password", data={"new_password": "other-" + good,
                                                   "confirm_password": "other-" + good})
    assert resp.status_code == 422
