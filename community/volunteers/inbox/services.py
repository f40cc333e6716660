"""Notifications: the one interface every message to a person goes through.

`notify(session, account_id=..., kind=..., params=..., link=..., dedupe_key=...)` hands a
message to each registered `Channel`. The in-app inbox is the first channel and the record of
every notification: its row carries the `dedupe_key` (UNIQUE; INSERT … ON CONFLICT DO
NOTHING), so a message already sent is sent by no channel again. SMS or WeChat plug in by
adding a class with a `deliver` method to `CHANNELS`; nothing else changes.

Messages are stored as a kind plus parameters, never as translated text (`texts.render`
words them when the inbox is shown). The reader marks them read here.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import update
from sqlmodel import Session, col

from community import clock
from community.errors import InvalidInput, NotFound
from community.rows import insert_ignoring, table_of
from community.volunteers.inbox.texts import MESSAGES
from community.volunteers.models import Notification

MAX_LINK, MAX_DEDUPE = 200, 80


@dataclass(frozen=True)
class Message:
    """What a channel delivers: to whom, which kind, its parameters, where it points."""

    account_id: int
    kind: str
    params: Mapping[str, Any]
    link: str = ""
    dedupe_key: str | None = None


class Channel(Protocol):
    """A way to reach a person (in-app inbox, later SMS or WeChat)."""

    name: str

    def deliver(self, session: Session, message: Message) -> bool:
        """Deliver `message`; False when it was delivered before (same dedupe key)."""
        ...


class InboxChannel:
    """The in-app inbox: one `notification` row per message, idempotent by dedupe key."""

    name = "inbox"

    def deliver(self, session: Session, message: Message) -> bool:
        """Insert the inbox row unless one with the same dedupe key exists."""
        table = table_of(Notification)
        stmt = insert_ignoring(session, table, on=["dedupe_key"]).values(
            account_id=message.account_id, kind=message.kind, params=dict(message.params),
            link=message.link, dedupe_key=message.dedupe_key, created_at=clock.now(),
        ).returning(table.c.id)
        return session.execute(stmt).first() is not None


# The inbox comes first: its row is the record that stops every channel from sending twice.
CHANNELS: list[Channel] = [InboxChannel()]


def _check(kind: str, params: Mapping[str, Any], link: str, dedupe_key: str | None) -> None:
    if kind not in MESSAGES:
        raise InvalidInput(field="kind")
    if not all(isinstance(v, str | int | float | bool | None) for v in params.values()):
        raise InvalidInput(field="params")
    # A plain path on this site: the inbox redirects to it after marking the message read.
    if len(link) > MAX_LINK or (link and (not link.startswith("/") or link.startswith("//"))):
        raise InvalidInput(field="link")
    if dedupe_key is not None and not 0 < len(dedupe_key) <= MAX_DEDUPE:
        raise InvalidInput(field="dedupe_key")


def notify(session: Session, *, account_id: int, kind: str, params: Mapping[str, Any],
           link: str = "", dedupe_key: str | None = None) -> bool:
    """Send one message through every channel; False (nothing sent) for a seen dedupe key."""
    _check(kind, params, link, dedupe_key)
    message = Message(account_id=account_id, kind=kind, params=dict(params), link=link,
                      dedupe_key=dedupe_key)
    first, *others = CHANNELS
    if not first.deliver(session, message):
        return False
    for channel in others:
        channel.deliver(session, message)
    return True


# --- The reader ------------------------------------------------------------------------------

def mark_read(session: Session, *, account_id: int, notification_id: int,
              now: datetime | None = None) -> Notification:
    """Mark one of the account's own notifications read; NotFound for anyone else's."""
    note = session.get(Notification, notification_id)
    if note is None or note.account_id != account_id:
        raise NotFound()
    if note.read_at is None:
        note.read_at = now or clock.now()
        session.add(note)
        session.flush()
    return note


def mark_all_read(session: Session, *, account_id: int, now: datetime | None = None) -> int:
    """Mark every unread notification of the account read; returns how many changed."""
    result = session.exec(
        update(Notification)
        .where(col(Notification.account_id) == account_id, col(Notification.read_at).is_(None))
        .values(read_at=now or clock.now())
        .execution_options(synchronize_session=False))
    return result.rowcount
