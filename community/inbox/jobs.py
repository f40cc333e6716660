"""The SMS channel's sender: texts the queued notifications (`sms_outbox`) that are due.

Runs in the scheduler (`inbox.sms`), never in a request. Each row is worded in its reader's
language (`Account.locale`, Chinese by default) and handed to the configured provider
(`community.sms`); the caller commits after each row, so a crash never texts twice what was
recorded as sent. A temporary failure (throttled, provider down) is retried on the next runs
up to `rules.RETRIES` attempts; a refused number or a configuration problem fails at once.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from flask_babel import force_locale
from sqlmodel import Session, col, select

from community.auth.models import Account
from community.inbox import rules, texts
from community.inbox.models import NoticeSetting, Notification, SmsOutbox
from community.sms import SmsError, SmsThrottled, SmsUnavailable, provider

BATCH = 200


def _status_after(err: SmsError, attempts: int) -> str:
    temporary = isinstance(err, SmsThrottled | SmsUnavailable)
    return "pending" if temporary and attempts < rules.RETRIES else "failed"


def send_sms(session: Session, *, now: datetime, limit: int = BATCH) -> Iterator[str]:
    """Text the due outbox rows, oldest first; yields each row's new status (commit then)."""
    rows = session.exec(
        select(SmsOutbox, Notification, Account)
        .join(Notification, col(Notification.id) == SmsOutbox.notification_id)
        .join(Account, col(Account.id) == SmsOutbox.account_id)
        .where(col(SmsOutbox.status) == "pending", col(SmsOutbox.send_after) <= now)
        .order_by(col(SmsOutbox.id)).limit(limit)).all()
    sender = provider.sender() if rows else None  # the app's provider (an app context)
    for row, note, account in rows:
        setting = session.get(NoticeSetting, account.id)
        if not (account.phone and account.active and setting and setting.sms):
            row.status, row.error = "skipped", "opted_out"  # changed their mind meanwhile
        else:
            with force_locale(account.locale or "zh"):  # words looked up in that language
                extra = texts.resolve(session, [note]).get(note.id or 0)
                text = texts.render(note.kind, note.params, extra)
            row.attempts += 1
            try:
                assert sender is not None  # noqa: S101 - rows exist, so the sender was looked up
                sender.send_text(account.phone, text)
            except SmsError as err:
                row.status, row.error = _status_after(err, row.attempts), err.code[:40]
            else:
                row.status, row.sent_at, row.error = "sent", now, ""
        session.add(row)
        session.flush()
        yield row.status
