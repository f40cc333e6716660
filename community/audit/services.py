"""Append to and read the audit log."""
from __future__ import annotations

from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from community.areas.models import Area
from community.audit.models import AuditEntry
from community.auth import policy


def record(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    area: Area | None = None,
    target_type: str | None = None,
    target_id: int | None = None,
    ip: str | None = None,
    **detail: Any,
) -> AuditEntry:
    """Append one audit entry (flushed with the caller's transaction, never committed here)."""
    entry = AuditEntry(
        actor_id=actor_id,
        action=action,
        area_id=area.id if area else None,
        area_path=area.path if area else "/",
        target_type=target_type,
        target_id=target_id,
        ip=ip,
        detail=detail,
    )
    session.add(entry)
    session.flush()
    return entry


def list_entries(
    session: Session,
    *,
    actor: policy.Actor,
    action: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[AuditEntry]:
    """Newest entries inside the actor's scope; entries with no area only for city admins."""
    paths = policy.scopes(actor, "audit:read")
    if not paths:
        return []
    conds = [col(AuditEntry.area_path).startswith(p) for p in paths]
    if any(g.role == "city_admin" for g in actor.grants):
        conds.append(col(AuditEntry.area_path) == "/")
    stmt = select(AuditEntry).where(or_(*conds))
    if action:
        stmt = stmt.where(col(AuditEntry.action).startswith(action))
    if before_id:
        stmt = stmt.where(col(AuditEntry.id) < before_id)
    return list(session.exec(stmt.order_by(col(AuditEntry.id).desc()).limit(limit)))
