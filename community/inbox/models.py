"""Inbox tables: the notifications (the record of every message), each person's channel
settings, and the SMS outbox (a message waiting for the scheduler to text it)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, Integer
from sqlmodel import Field, SQLModel

from community import clock
from community.types import UTCDateTime

BigId = BigInteger().with_variant(Integer, "sqlite")
SMS_STATUSES = ("pending", "sent", "failed", "skipped")


class Notification(SQLModel, table=True):
    """One message in an account's in-app inbox; `dedupe_key` stops a reminder being sent twice."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_account", "account_id", "id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId,
                           sa_column_kwargs={"autoincrement": True})
    account_id: int = Field(foreign_key="account.id")
    kind: str = Field(max_length=30)
    # Message code and parameters: rendered in the reader's language, never stored translated.
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    link: str = Field(default="", max_length=200)
    dedupe_key: str | None = Field(default=None, max_length=80, unique=True)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    # Held back until this moment (None: at once): an incorrect verdict waits out the
    # steward's undo window, and is withdrawn if the scan is undone meanwhile.
    visible_after: datetime | None = Field(default=None, sa_type=UTCDateTime())


class NoticeSetting(SQLModel, table=True):
    """How a person wants to be told besides the inbox (no row: the inbox only)."""

    __tablename__ = "notice_setting"

    account_id: int = Field(primary_key=True, foreign_key="account.id",
                            sa_column_kwargs={"autoincrement": False})
    sms: bool = Field(default=False)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())


class SmsOutbox(SQLModel, table=True):
    """A notification to be texted by the `inbox.sms` job, never inside the request that made
    it (a slow or failing provider cannot fail a scan); `send_after` skips quiet hours."""

    __tablename__ = "sms_outbox"
    __table_args__ = (
        Index("ix_sms_outbox_pending", "status", "send_after"),
        CheckConstraint("status IN ('pending', 'sent', 'failed', 'skipped')",
                        name="ck_sms_outbox_status"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId,
                           sa_column_kwargs={"autoincrement": True})
    notification_id: int = Field(foreign_key="notification.id", unique=True, sa_type=BigId)
    account_id: int = Field(foreign_key="account.id")
    status: str = Field(default="pending", max_length=8)
    send_after: datetime = Field(sa_type=UTCDateTime())
    attempts: int = Field(default=0)
    error: str = Field(default="", max_length=40)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
