"""Append to and read the audit log."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from community.areas.models import Area
from community.audit.models import AuditEntry
from community.auth import policy
from community.auth.models import Account
from community.errors import Forbidden


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


@dataclass
class EntryRow:
    """An audit entry with the names the log page shows (actor, area)."""

    entry: AuditEntry
    actor_name: str | None
    area_name: str | None


def list_page(
    session: Session,
    *,
    actor: policy.Actor,
    action: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[EntryRow]:
    """The log page: `list_entries` with actor and area names; Forbidden without audit scope."""
    if not policy.scopes(actor, "audit:read"):
        raise Forbidden(action="audit:read")
    entries = list_entries(session, actor=actor, action=action, before_id=before_id, limit=limit)
    actor_ids = {e.actor_id for e in entries if e.actor_id is not None}
    area_ids = {e.area_id for e in entries if e.area_id is not None}
    names = dict(session.exec(select(Account.id, Account.display_name)
                              .where(col(Account.id).in_(actor_ids))).all()) if actor_ids else {}
    areas = dict(session.exec(select(Area.id, Area.name)
                              .where(col(Area.id).in_(area_ids))).all()) if area_ids else {}
    return [EntryRow(e, names.get(e.actor_id), areas.get(e.area_id)) for e in entries]
