"""A community's scan-page settings (`ScanSetting`), set by its manager.

`default_quality`: the quality the scan page returns to after every scan, 正确 ("correct",
the default: most drops a steward sees at the bin are right, and an incorrect verdict must
be a deliberate tap with a reason) or 未评定 ("ungraded", for communities that grade later).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from community import clock
from community.areas import services as areas_services
from community.auth import policy
from community.errors import InvalidInput
from community.stations.models import ScanSetting

DEFAULT_QUALITY = "correct"
DEFAULT_QUALITIES = ("correct", "ungraded")


def default_qualities(session: Session, community_ids: Iterable[int]) -> dict[int, str]:
    """Community id → the quality its scan page returns to after each scan."""
    ids = sorted(set(community_ids))
    out = dict.fromkeys(ids, DEFAULT_QUALITY)
    if ids:
        out.update(session.execute(select(col(ScanSetting.community_id),
                                          col(ScanSetting.default_quality))
                                   .where(col(ScanSetting.community_id).in_(ids))).all())
    return out


def set_default_quality(session: Session, *, actor: policy.Actor, community_id: int,
                        quality: str, now: datetime | None = None) -> ScanSetting:
    """A manager sets the quality the community's scan page returns to (community:settings)."""
    area = areas_services.get_community(session, community_id)
    policy.require(actor, "community:settings", area)
    if quality not in DEFAULT_QUALITIES:
        raise InvalidInput(field="default_quality")
    row = session.get(ScanSetting, community_id) or ScanSetting(community_id=community_id)
    row.default_quality = quality
    row.updated_at = now or clock.now()
    row.updated_by = actor.account_id
    session.add(row)
    session.flush()
    return row


__all__ = ["DEFAULT_QUALITIES", "DEFAULT_QUALITY", "default_qualities", "set_default_quality"]
