"""Stations jobs: forget the token hashes of devices revoked long ago.

A revoked device already fails authentication (its `revoked_at` is set); after the grace
period its hash is replaced by a marker that can never equal a SHA-256 hex digest, so no
credential material of retired devices stays in the database. Idempotent.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, cast, literal, update
from sqlmodel import Session, col

from community.rows import table_of
from community.stations.models import Device

REVOKED_TOKEN_KEEP = timedelta(days=30)
FORGOTTEN_PREFIX = "forgotten:"


def forget_revoked_device_tokens(session: Session, *, now: datetime) -> dict[str, int]:
    """Blank the token hash of devices revoked more than 30 days before `now` (flushes)."""
    table = table_of(Device)
    done = session.exec(
        update(table)
        .where(col(Device.revoked_at).is_not(None),
               col(Device.revoked_at) < now - REVOKED_TOKEN_KEEP,
               ~col(Device.token_hash).startswith(FORGOTTEN_PREFIX))
        # The id keeps the marker unique (token_hash is UNIQUE).
        .values(token_hash=literal(FORGOTTEN_PREFIX, String) + cast(table.c.id, String)))
    return {"devices": int(done.rowcount or 0)}
