"""Builders for the collection tests: collectors, tagged stations with pickup windows, and a
pickup's JSON as a collector's phone sends it."""
from __future__ import annotations

import base64
import io
from datetime import date, datetime, time
from itertools import count

from PIL import Image
from sqlmodel import Session

from community.areas.models import Area
from community.auth import services as auth_services
from community.collection import rules
from community.collection.models import PickupRange, PickupVersion, StationTag
from tests import builders

_n = count(1)


def collector(session: Session, street: Area):
    """A collector (收运员) bound to `street` (or a district)."""
    return builders.account(session, "collector", street)


def tagged_station(session: Session, community: Area, name: str | None = None, *,
                   pickup: tuple[tuple[int, int], ...] = ((6, 7),),
                   since: date = date(2020, 1, 1)):
    """A station with a collection QR tag and the same pickup windows (whole hours) daily."""
    st = builders.station(session, community, name)
    session.add(StationTag(station_id=st.id, token=rules.new_tag_token(),
                           code=rules.new_tag_code()))
    version = PickupVersion(station_id=st.id, effective_from=since)
    session.add(version)
    session.flush()
    for weekday in range(7):
        for start, end in pickup:
            session.add(PickupRange(version_id=version.id, weekday=weekday,
                                    start_time=time(start), end_time=time(end)))
    session.flush()
    return st


def token(session: Session, station) -> str:
    """The station's collection QR token."""
    tag = session.get(StationTag, station.id)
    assert tag is not None
    return tag.token


def photo_url() -> str:
    """A small real JPEG as a data: URL."""
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (120, 90, 30)).save(buf, "JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def pickup(tag: str, at: datetime, *lines: dict, client_id: str | None = None) -> dict:
    """A pickup as the phone sends it (default: two kitchen bins, 80 kg, clean)."""
    return {"client_id": client_id or f"pickup-{next(_n):06d}", "station_tag": tag,
            "happened_at": at.isoformat(),
            "lines": list(lines) or [{"category": "kitchen", "bins": 2, "kg": 80}]}


def actor_of(session: Session, account):
    """The policy actor of an account."""
    return auth_services.load_actor(session, account.id)
