"""The SMS channel: only for people who opted in, queued in the request (never sent there),
texted by the `inbox.sms` job with the development provider in the reader's language, after
quiet hours, once; a temporary provider failure is retried, a refusal is not."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlmodel import Session, select

from community import clock
from community.inbox import jobs as inbox_jobs
from community.inbox import services as notifications
from community.inbox.models import NoticeSetting, SmsOutbox
from community.sms import SmsRejected, SmsUnavailable
from community.sms.dev import DevSender
from tests import builders
from tests.builders import World

NOON = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)    # 12:00 in Shanghai
NIGHT = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai


@pytest.fixture
def dev_sms(app: Flask):
    saved, sender = app.extensions["community.sms"], DevSender()
    app.extensions["community.sms"] = sender
    yield sender
    app.extensions["community.sms"] = saved


def _outbox(session: Session) -> list[SmsOutbox]:
    session.expire_all()
    return list(session.exec(select(SmsOutbox).order_by(SmsOutbox.id)).all())


def _tell(session: Session, account_id: int, key: str) -> None:
    notifications.notify(session, account_id=account_id, kind="reward_ready",
                         params={"item": "鸡蛋 10个", "code": "AB12CDEF34"}, dedupe_key=key)


def test_only_opted_in_people_get_texts_after_quiet_hours(
        app: Flask, session: Session, world: World, dev_sms: DevSender) -> None:
    who, other = world.resident_a, world.resident_b
    notifications.set_sms(session, account_id=who.id, on=True, now=NOON)
    assert notifications.sms_opted_in(session, who.id)
    assert not notifications.sms_opted_in(session, other.id)
    with clock.freeze(NIGHT):
        _tell(session, who.id, "k1")
        _tell(session, who.id, "k1")  # the same message again: queued once
        _tell(session, other.id, "k2")  # not opted in: inbox only
    session.commit()
    queued = _outbox(session)
    assert [(q.account_id, q.status) for q in queued] == [(who.id, "pending")]
    assert queued[0].send_after == datetime(2026, 11, 21, 0, 0, tzinfo=UTC)  # 08:00 local
    assert list(dev_sms.texts) == []  # nothing is sent inside the request

    with app.app_context():
        assert list(inbox_jobs.send_sms(session, now=NIGHT + timedelta(hours=1))) == []
        assert list(inbox_jobs.send_sms(session, now=queued[0].send_after)) == ["sent"]
        session.commit()
        assert list(inbox_jobs.send_sms(session, now=queued[0].send_after)) == []  # once
    assert [(p, t) for p, t in dev_sms.texts] == [
        ("13800000001", "您兑换的“鸡蛋 10个”可以领取了，请在投放点出示领取码 AB12C-DEF34。")]

    # In English for an English reader; turned off before the job ran: skipped, not sent.
    who.locale = "en"
    session.add(who)
    with clock.freeze(NOON):
        _tell(session, who.id, "k3")
        _tell(session, who.id, "k4")
    session.commit()
    with app.app_context():
        assert list(inbox_jobs.send_sms(session, now=NOON, limit=1)) == ["sent"]
        session.commit()
        notifications.set_sms(session, account_id=who.id, on=False)
        assert list(inbox_jobs.send_sms(session, now=NOON)) == ["skipped"]
        session.commit()
    assert dev_sms.texts[-1] == (
        "13800000001", "Your reward 鸡蛋 10个 is ready for pickup. Show the pickup code "
        "AB12C-DEF34 at the station.")
    assert session.get(NoticeSetting, who.id).sms is False


class _Failing:
    def __init__(self, err: Exception) -> None:
        self.err = err

    def send_text(self, phone: str, text: str) -> None:
        raise self.err


@pytest.mark.parametrize(("err", "statuses"), [
    (SmsUnavailable(), ["pending", "pending", "failed"]),  # retried, then given up
    (SmsRejected(), ["failed"]),                           # a refused number: at once
])
def test_provider_failures(app: Flask, session: Session, world: World, err: Exception,
                           statuses: list[str]) -> None:
    notifications.set_sms(session, account_id=world.resident_a.id, on=True)
    with clock.freeze(NOON):
        _tell(session, world.resident_a.id, "f1")
    session.commit()
    saved = app.extensions["community.sms"]
    app.extensions["community.sms"] = _Failing(err)
    try:
        with app.app_context():
            seen = []
            for _ in statuses:
                seen += list(inbox_jobs.send_sms(session, now=NOON))
                session.commit()
    finally:
        app.extensions["community.sms"] = saved
    assert seen == statuses
    row = _outbox(session)[0]
    assert (row.status, row.error, row.attempts) == (statuses[-1], err.code, len(statuses))


def test_account_page_opt_in(client, session: Session, world: World) -> None:
    builders.login(client, world.resident_a)
    page = client.get("/me/account").get_data(as_text=True)
    assert "每条新消息同时发短信给我" in page
    assert client.post("/me/notices", data={"sms": "y"}).status_code == 302
    assert notifications.sms_opted_in(session, world.resident_a.id)
    assert client.post("/me/notices", data={}).status_code == 302
    assert not notifications.sms_opted_in(session, world.resident_a.id)
    # An account without a phone number cannot turn texts on.
    client.post("/logout")
    builders.login(client, world.manager_a)
    resp = client.post("/me/notices", data={"sms": "y"})
    assert resp.status_code == 422
    assert "短信通知需要您的账号绑定手机号" in resp.get_data(as_text=True)
    assert not notifications.sms_opted_in(session, world.manager_a.id)
