"""The SMS code table and the per-day send counters."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from community import clock
from community.types import UTCDateTime


class SmsCode(SQLModel, table=True):
    """One code sent to a phone: only its HMAC is stored; the newest per phone is the live one."""

    __tablename__ = "sms_code"
    __table_args__ = (Index("ix_sms_code_phone_id", "phone", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(max_length=20)
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    expires_at: datetime = Field(sa_type=UTCDateTime())
    attempts: int = Field(default=0)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    ip: str | None = Field(default=None, max_length=45)


class SmsSendCount(SQLModel, table=True):
    """How many codes went to one phone or one client address on one local day.

    Incremented with one atomic upsert, so the caps hold across web workers and processes.
    """

    __tablename__ = "sms_send_count"
    __table_args__ = (UniqueConstraint("scope", "subject", "day", name="uq_sms_send_count"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=10)  # "phone" or "address"
    subject: str = Field(max_length=64)
    day: date
    count: int = Field(default=0)
