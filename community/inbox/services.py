"""Notifications: the one interface every message to a person goes through.

`notify(session, account_id=..., kind=..., params=..., link=..., dedupe_key=...)` hands a
message to each registered `Channel`. The in-app inbox is the first channel and the record of
every notification: its row carries the `dedupe_key` (UNIQUE; INSERT … ON CONFLICT DO
NOTHING), so a message already sent is sent by no channel again. The SMS channel only queues
(an `sms_outbox` row, for people who opted in, after quiet hours): the `inbox.sms` job texts
it later, so a slow or failing provider never fails the request that notified (a scan).
WeChat would plug in the same way, by adding a class with a `deliver` method to `CHANNELS`.

Messages are stored as a kind plus parameters, never as translated text (`texts.render`
words them when the inbox is shown). The reader marks them read here.

A message may be held back (`visible_after`): the inbox shows it, and the outbox texts it,
only from that moment on; until then its sender may `withdraw` it (an incorrect verdict
waits out the steward's undo window and is withdrawn when the scan is undone), and the
person never learns of it.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import delete, select, update
from sqlmodel import Session, col

from community import clock
from community.auth.models import Account
from community.errors import InvalidInput, NotFound
from community.inbox import queries, rules
from community.inbox.models import NoticeSetting, Notification, SmsOutbox
from community.inbox.texts import MESSAGES
from community.rows import insert_ignoring, table_of

MAX_LINK, MAX_DEDUPE = 200, 80


@dataclass(frozen=True)
class Message:
    """What a channel delivers: to whom, which kind, its parameters, where it points."""

    account_id: int
    kind: str
    params: Mapping[str, Any]
    link: str = ""
    dedupe_key: str | None = None
    notification_id: int | None = None  # the inbox row, once the first channel stored it
    visible_after: datetime | None = None  # held back until then (None: at once)


class Channel(Protocol):
    """A way to reach a person (in-app inbox, SMS, later WeChat)."""

    name: str

    def deliver(self, session: Session, message: Message) -> int | None:
        """Deliver `message`; None when it was not delivered (seen before, or not wanted)."""
        ...


class InboxChannel:
    """The in-app inbox: one `notification` row per message, idempotent by dedupe key."""

    name = "inbox"

    def deliver(self, session: Session, message: Message) -> int | None:
        """Insert the inbox row unless one with the same dedupe key exists; its id."""
        table = table_of(Notification)
        stmt = insert_ignoring(session, table, on=["dedupe_key"]).values(
            account_id=message.account_id, kind=message.kind, params=dict(message.params),
            link=message.link, dedupe_key=message.dedupe_key, created_at=clock.now(),
            visible_after=message.visible_after,
        ).returning(table.c.id)
        row = session.execute(stmt).first()
        return None if row is None else int(row[0])


class SmsChannel:
    """Text messages, for people who opted in (`NoticeSetting.sms`) and have a phone: queued
    in `sms_outbox` for the `inbox.sms` job, to go out after quiet hours."""

    name = "sms"

    def deliver(self, session: Session, message: Message) -> int | None:
        """Queue the message for texting; None when the person did not opt in."""
        wanted = session.execute(
            select(col(Account.phone)).join(NoticeSetting,
                                           col(NoticeSetting.account_id) == Account.id)
            .where(col(Account.id) == message.account_id, col(NoticeSetting.sms).is_(True),
                   col(Account.active).is_(True))).scalar_one_or_none()
        if not wanted or message.notification_id is None:
            return None
        now = clock.now()
        due = max(now, message.visible_after or now)  # a held-back message: not before then
        row = SmsOutbox(notification_id=message.notification_id, account_id=message.account_id,
                        send_after=rules.send_after(due), created_at=now)
        session.add(row)
        session.flush()
        return row.id


# The inbox comes first: its row is the record that stops every channel from sending twice.
CHANNELS: list[Channel] = [InboxChannel(), SmsChannel()]


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
           link: str = "", dedupe_key: str | None = None,
           visible_after: datetime | None = None) -> bool:
    """Send one message through every channel; False (nothing sent) for a seen dedupe key.
    With `visible_after`, the message is held back until then (see `withdraw`)."""
    _check(kind, params, link, dedupe_key)
    message = Message(account_id=account_id, kind=kind, params=dict(params), link=link,
                      dedupe_key=dedupe_key, visible_after=visible_after)
    first, *others = CHANNELS
    stored = first.deliver(session, message)
    if stored is None:
        return False
    message = replace(message, notification_id=stored)
    for channel in others:
        channel.deliver(session, message)
    return True


def notify_many(session: Session, *, account_ids: Iterable[int], kind: str,
                params: Mapping[str, Any], link: str = "", dedupe_key: str | None = None,
                visible_after: datetime | None = None) -> int:
    """`notify` each account (a household's members); the dedupe key gets ":<account>"."""
    sent = 0
    for account_id in sorted(set(account_ids)):
        key = None if dedupe_key is None else f"{dedupe_key}:{account_id}"
        sent += notify(session, account_id=account_id, kind=kind, params=params, link=link,
                       dedupe_key=key, visible_after=visible_after)
    return sent


def withdraw(session: Session, *, dedupe_key: str, account_ids: Iterable[int],
             now: datetime | None = None) -> int:
    """Take back the still held-back messages sent with `dedupe_key` to `account_ids` (as
    `notify_many` keys them, ":<account>" appended), with their queued texts; returns how
    many. Exact keys: the unique index finds them. A message already visible stays: what a
    person may have read is never taken away."""
    now = now or clock.now()
    keys = [f"{dedupe_key}:{a}" for a in sorted(set(account_ids))]
    if not keys:
        return 0
    ids = list(session.execute(select(col(Notification.id)).where(
        col(Notification.dedupe_key).in_(keys),
        col(Notification.visible_after) > now)).scalars())
    if not ids:
        return 0
    session.execute(delete(SmsOutbox).where(col(SmsOutbox.notification_id).in_(ids)))
    session.execute(delete(Notification).where(col(Notification.id).in_(ids)))
    return len(ids)


# --- Channel settings --------------------------------------------------------------------------

def sms_opted_in(session: Session, account_id: int) -> bool:
    """Whether the account asked for text messages besides the inbox."""
    setting = session.get(NoticeSetting, account_id)
    return bool(setting and setting.sms)


def set_sms(session: Session, *, account_id: int, on: bool, now: datetime | None = None) -> None:
    """Turn the account's text messages on or off (off: what is queued is not sent)."""
    setting = session.get(NoticeSetting, account_id) or NoticeSetting(account_id=account_id)
    setting.sms, setting.updated_at = on, now or clock.now()
    session.add(setting)
    session.flush()


# --- The reader ------------------------------------------------------------------------------

def mark_read(session: Session, *, account_id: int, notification_id: int,
              now: datetime | None = None) -> Notification:
    """Mark one of the account's own notifications read; NotFound for anyone else's (and
    for one still held back)."""
    now = now or clock.now()
    note = session.get(Notification, notification_id)
    if note is None or note.account_id != account_id or (
            note.visible_after is not None and note.visible_after > now):
        raise NotFound()
    if note.read_at is None:
        note.read_at = now
        session.add(note)
        session.flush()
    return note


def mark_all_read(session: Session, *, account_id: int, now: datetime | None = None) -> int:
    """Mark every unread notification of the account read; returns how many changed."""
    result = session.exec(
        update(Notification)
        .where(col(Notification.account_id) == account_id, col(Notification.read_at).is_(None),
               queries.visible(now or clock.now()))
        .values(read_at=now or clock.now())
        .execution_options(synchronize_session=False))
    return result.rowcount
