"""Notifications: idempotent notify, the channel registry, shift reminders, the inbox and badge."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import url_for
from sqlmodel import Session, select

from community.errors import InvalidInput
from community.volunteers import notifications
from community.volunteers.models import Notification
from tests import builders
from tests.builders import World
from tests.volunteers import builders_stewards as sb

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

    def deliver(self, session: Session, message: notifications.Message) -> bool:
        self.sent.append(message)
        return True


def test_a_new_channel_is_one_class(session: Session, world: World,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    sms = _FakeSms()
    monkeypatch.setattr(notifications, "CHANNELS", [*notifications.CHANNELS, sms])
    for _ in range(2):
        notifications.notify(session, account_id=world.steward_a.id, kind="chief_appointed",
                             params={"station": "东门"}, dedupe_key="chief:1")
    assert [(m.kind, m.params["station"]) for m in sms.sent] == [("chief_appointed", "东门")]
    assert len(_notes(session)) == 1


# --- Reminders ------------------------------------------------------------------------------

def test_reminders_once_per_assignment(app, session: Session, world: World) -> None:
    station = builders.station(session, world.a, "玉龙东门")
    steward = sb.steward(session, world.a)
    other = sb.steward(session, world.a)
    soon = sb.shift(session, station, NOW + timedelta(minutes=90))
    mine = sb.assignment(session, soon, steward)
    sb.assignment(session, soon, other, status="cancelled")
    session.commit()

    assert notifications.remind_upcoming_shifts(session, now=NOW) == {"due": 1, "sent": 1}
    session.commit()
    assert notifications.remind_upcoming_shifts(session, now=NOW) == {"due": 1, "sent": 0}
    later = NOW + timedelta(minutes=30)
    assert notifications.remind_upcoming_shifts(session, now=later) == {"due": 1, "sent": 0}
    session.commit()
    notes = _notes(session)
    assert len(notes) == 1
    note = notes[0]
    assert note.account_id == steward.account_id
    assert note.kind == "shift_reminder"
    assert note.dedupe_key == f"shift_reminder:{mine.id}"
    # Local time of the community (Shanghai): 09:00 UTC + 90 min = 18:30 +08:00.
    assert note.params == {"station": "玉龙东门", "starts_at": "2026-05-04T18:30+08:00",
                           "shift_id": soon.id}
    with app.test_request_context("/"):
        assert note.link == url_for("shifts.mine")  # the steward's "my shifts" page


def test_no_reminders_for_cancelled_past_or_far_shifts(session: Session, world: World) -> None:
    station = builders.station(session, world.a)
    steward = sb.steward(session, world.a)
    retired = sb.steward(session, world.a, status="retired")
    cancelled = sb.shift(session, station, NOW + timedelta(hours=1), status="cancelled")
    started = sb.shift(session, station, NOW - timedelta(minutes=10))
    at_now = sb.shift(session, station, NOW)
    far = sb.shift(session, station, NOW + timedelta(hours=2, minutes=1))
    edge = sb.shift(session, station, NOW + timedelta(hours=2))
    for s in (cancelled, started, at_now, far):
        sb.assignment(session, s, steward)
    sb.assignment(session, edge, steward, status="no_show")
    sb.assignment(session, edge, retired)
    session.commit()
    assert notifications.remind_upcoming_shifts(session, now=NOW) == {"due": 0, "sent": 0}
    assert _notes(session) == []
    # The window's far edge is included: a signed-up steward on it is reminded.
    sb.assignment(session, edge, sb.steward(session, world.a))
    session.commit()
    assert notifications.remind_upcoming_shifts(session, now=NOW) == {"due": 1, "sent": 1}


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
    for i in range(notifications.UNREAD_CAP + 5):
        notifications.notify(session, account_id=world.resident_a.id, kind="steward_approved",
                             params={"community": f"c{i}"})
    session.commit()
    assert notifications.unread_count(session, world.resident_a.id) == notifications.UNREAD_CAP
    builders.login(client, world.resident_a)
    assert 'data-testid="inbox-unread">99+<' in client.get("/me/inbox").get_data(as_text=True)


def test_unknown_kind_and_missing_params_still_render(app, session: Session,
                                                      world: World) -> None:
    with app.test_request_context("/"):
        assert notifications.render("from_the_future", {}) == "您有一条新通知。"
        assert "?" in notifications.render("chief_appointed", {})
