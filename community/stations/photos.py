"""Drop photos: checked and cleaned by `community.images`, stored per community and drop.

A photo is stored under a folder the caller passes in (the app's instance folder), named
by community, drop id and content hash, and `Drop.photo` records its relative path.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlmodel import Session, col

from community.areas import services as areas_services
from community.areas.models import Area
from community.audit import services as audit
from community.auth import policy
from community.errors import DomainError, Forbidden
from community.images import MAX_PHOTO_BYTES, PhotoInvalid, PhotoTooLarge, clean_photo, write_atomic
from community.rows import any_of, pk
from community.stations.models import Drop, client_id_matches

__all__ = ["MAX_PHOTO_BYTES", "DropUnknown", "PhotoInvalid", "PhotoTooLarge", "attach_photo",
           "clean_photo"]


class PhotoNotYours(Forbidden):
    """Another recorder's drop already has a photo: only they or a manager may replace it."""

    code, message = "photo_not_yours", _l(
        "This drop already has a photo taken by someone else; only its recorder or a manager "
        "can replace it.")


class DropUnknown(DomainError):
    code, status, message = "drop_unknown", 404, _l(
        "No drop with this client id has been recorded yet.")


def attach_photo(session: Session, *, actor: policy.Actor, client_id: str, data: bytes,
                 photo_dir: Path, device_id: int | None = None, ip: str | None = None) -> str:
    """Store a photo for the drop with `client_id` and record its path; return that path.

    A drop's photo is evidence of its verdict: once it has one, only its recorder (the same
    account, or the same device) or a manager may replace it, and a replacement is audited
    with the old and the new file. Client ids are unique per community: the drop is looked
    up in the communities where the actor records (another community's is unknown).
    """
    if not policy.offers(actor, "drop:record"):
        raise Forbidden(action="drop:record")
    communities = [pk(a) for a in areas_services.communities_for(session, actor, "drop:record")]
    drop = session.execute(
        select(col(Drop.id), col(Drop.community_id), col(Drop.photo), col(Drop.recorded_by),
               col(Drop.device_id)).where(any_of(session, col(Drop.community_id), communities),
                                          client_id_matches([client_id]))
        .order_by(col(Drop.id).desc()).limit(1)
    ).first()
    if drop is None:
        raise DropUnknown()
    area = session.get(Area, drop.community_id)
    if area is None:
        raise DropUnknown()
    policy.require(actor, "drop:record", area)
    own = (device_id is not None and drop.device_id == device_id) or (
        actor.account_id is not None and drop.recorded_by == actor.account_id)
    if drop.photo and not own and not policy.allowed(actor, "drop:photo_replace", area):
        raise PhotoNotYours()
    content, ext = clean_photo(data)
    digest = hashlib.sha256(content).hexdigest()[:16]
    relative = f"{drop.community_id}/{drop.id}-{digest}.{ext}"
    write_atomic(photo_dir / relative, content)
    session.execute(update(Drop).where(col(Drop.community_id) == drop.community_id,
                                       col(Drop.id) == drop.id).values(photo=relative))
    session.flush()
    if drop.photo and drop.photo != relative:
        audit.record(session, actor_id=actor.account_id, action="drop.photo_replaced",
                     area=area, target_type="drop", target_id=drop.id, ip=ip,
                     old=drop.photo, new=relative, device_id=device_id)
    return relative
