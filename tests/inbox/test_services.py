"""Notifications: idempotent notify, the channel registry, the inbox and badge (shift
reminders: tests/volunteers/test_jobs.py)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from community.errors import InvalidInput
from community.inbox import queries as inbox_queries
from community.inbox import services as notifications
from community.inbox import texts as inbox_texts
from community.inbox.models import Notification
from tests import builders
from tests.builders import World
from tests.volunteers.stewards import builders as sb

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai


def _notes(session: Session, account_id: int | None = None) -> list[Notification]:
    sb.fresh(session)
    stmt = select(Notification).order_by(Notification.id)
    if account_id is not None:
        stmt = stmt.where(Notification.account_id == account_id)
    return list(session.exec(stmt).all())


# --- notify ---------------------------------------------------------------------------------

def test_notify_is_idempotent_by_dedupe_key(session: Session, world: World) -> None:
    who = world.steward_a.id
    assert notifications.notify(session, account_id=who, kind="hours_approved",
                                params={"minutes": 120, "points": 20}, link="/me/steward",
                                dedupe_key="hours:1")
    assert not notifications.notify(session, account_id=who, kind="hours_approved",
                                    params={"minutes": 999, "points": 99}, dedupe_key="hours:1")
    session.commit()
    notes = _notes(session)
    assert len(notes) == 1
    assert (notes[0].kind, notes[0].params, notes[0].link, notes[0].read_at) == (
        "hours_approved", {"minutes": 120, "points": 20}, "/me/steward", None)
    # Without a dedupe key every call is a new message.
    for _ in range(2):
        assert notifications.notify(session, account_id=who, kind="steward_approved",
                                    params={"community": "玉龙社区"})
    session.commit()
    assert len(_notes(session)) == 3


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"kind": "nonsense"}, "kind"),
    ({"link": "https://evil.example/"}, "link"),
    ({"link": "//evil.example/"}, "link"),
    ({"params": {"x": [1, 2]}}, "params"),
    ({"dedupe_key": "k" * 81}, "dedupe_key"),
])
def test_notify_refuses_bad_input(session: Session, world: World, kwargs: dict,
                                  field: str) -> None:
    args = {"account_id": world.steward_a.id, "kind": "steward_approved",
            "params": {"community": "x"}} | kwargs
    with pytest.raises(InvalidInput) as err:
        notifications.notify(session, **args)
    assert err.value.details["field"] == field
    assert _notes(session) == []


class _FakeSms:
    """A second channel, as SMS would plug in: it sees each new message exactly once."""

    name = "sms"

    def __init__(self) -> None:
        self.sent: list[notifications.Message] = []

    def deliver(self, session: Session, message: notifications.Message) -> int | None:
        self.sent.append(message)
        return len(self.sent)


def test_a_new_channel_is_one_class(session: Session, world: World,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    sms = _FakeSms()
    monkeypatch.setattr(notifications, "CHANNELS", [*notifications.CHANNELS, sms])
    for _ in range(2):
        notifications.notify(session, account_id=world.steward_a.id, kind="chief_appointed",
                             params={"station": "东门"}, dedupe_key="chief:1")
    assert [(m.kind, m.params["station"]) for m in sms.sent] == [("chief_appointed", "东门")]
    assert len(_notes(session)) == 1


# --- Inbox and badge ------------------------------------------------------------------------

def _seed(session: Session, account_id: int) -> None:
    notifications.notify(session, account_id=account_id, kind="shift_reminder",
                         params={"station": "玉龙东门", "starts_at": "2026-05-04T18:30+08:00",
                                 "shift_id": 1}, link="/me/steward", dedupe_key="r:1")
    notifications.notify(session, account_id=account_id, kind="hours_approved",
                         params={"minutes": 90, "points": 15})
    session.commit()


def test_inbox_in_chinese_and_english(client, session: Session, world: World) -> None:
    _seed(session, world.steward_a.id)
    builders.login(client, world.steward_a)
    zh = client.get("/me/inbox").get_data(as_text=True)
    assert zh.count('data-testid="inbox-item"') == 2
    assert zh.index("hours_approved") < zh.index("shift_reminder")  # newest first
    assert "玉龙东门" in zh
    assert "05-04 18:30" in zh
    assert "提醒" in zh
    assert "90 分钟" in zh
    assert zh.count('data-unread="1"') == 2
    sb.english(client, "/me/inbox")
    en = client.get("/me/inbox").get_data(as_text=True)
    assert "Reminder: your shift at 玉龙东门 starts at 05-04 18:30." in en
    assert "90 minutes, 15 points" in en


def test_mark_read_and_badge(client, session: Session, world: World) -> None:
    _seed(session, world.steward_a.id)
    notifications.notify(session, account_id=world.resident_a.id, kind="steward_approved",
                         params={"community": "玉龙社区"})
    session.commit()
    theirs = _notes(session, world.resident_a.id)[0]
    builders.login(client, world.steward_a)
    home = client.get("/me/inbox").get_data(as_text=True)
    assert 'data-testid="inbox-unread">2<' in home

    reminder = _notes(session, world.steward_a.id)[0]
    go = client.post(f"/me/inbox/{reminder.id}/open", data={"go": "1"})
    assert go.status_code == 302
    assert go.headers["Location"].endswith("/me/steward")
    assert _notes(session, world.steward_a.id)[0].read_at is not None
    page = client.get("/me/inbox").get_data(as_text=True)
    assert 'data-testid="inbox-unread">1<' in page
    assert page.count('data-unread="1"') == 1

    # Someone else's message: not found, and it stays unread.
    assert client.post(f"/me/inbox/{theirs.id}/open").status_code == 404
    assert client.post("/me/inbox/read-all").status_code == 302
    assert 'data-testid="inbox-unread"' not in client.get("/me/inbox").get_data(as_text=True)
    assert all(n.read_at is not None for n in _notes(session, world.steward_a.id))
    assert _notes(session, world.resident_a.id)[0].read_at is None


def test_badge_caps_at_99(client, session: Session, world: World) -> None:
    for i in range(inbox_queries.UNREAD_CAP + 5):
        notifications.notify(session, account_id=world.resident_a.id, kind="steward_approved",
                             params={"community": f"c{i}"})
    session.commit()
    assert inbox_queries.unread_count(session, world.resident_a.id) == inbox_queries.UNREAD_CAP
    builders.login(client, world.resident_a)
    assert 'data-testid="inbox-unread">99+<' in client.get("/me/inbox").get_data(as_text=True)


def test_unknown_kind_and_missing_params_still_render(app, session: Session,
                                                      world: World) -> None:
    with app.test_request_context("/"):
        assert inbox_texts.render("from_the_future", {}) == "您有一条新通知。"
        assert "?" in inbox_texts.render("chief_appointed", {})
