"""The demo's collection (收运): a collector on each of two streets, every station of their
communities tagged with a collection QR and a daily 06:00–07:30 pickup window, and `days`
days of pickups ending yesterday, and today's once recorded by the time the demo is built:
mostly on time, a few late or missed, kitchen bins now and then contaminated (with the demo's
placeholder photo).

Bulk-inserted with SQLAlchemy Core (a few thousand rows), once: a street whose communities
already have collections is left as it is, so a second run changes nothing.
"""
from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import insert, select
from sqlmodel import col

from community import clock
from community.collection import rules
from community.collection.models import (
    Collection,
    CollectionLine,
    PickupRange,
    PickupVersion,
    StationTag,
)
from community.demo import city
from community.demo.context import Demo
from community.rows import pk, table_of
from community.stations.models import Station

# The streets with collectors (their first two, in the tree's order) and their logins.
COLLECTORS = (("collector1", 0), ("collector2", 1))
PICKUP = (time(6, 0), time(7, 30))
LATE_SHARE, MISSED_SHARE, CONTAMINATED_SHARE = 0.08, 0.03, 0.06
# kg per bin by category (a 240 l bin: wet kitchen waste is heavy, recyclables light).
KG_PER_BIN = {"kitchen": (55, 95), "other": (35, 60), "recyclable": (12, 25),
              "hazardous": (3, 8)}
PHOTO = "demo/contaminated-kitchen.jpg"


def _photo() -> str:
    """The placeholder contamination photo, written once under the collection photo folder."""
    if has_app_context():
        root = Path(current_app.config.get("UPLOAD_DIR") or current_app.instance_path)
        path = root / "collection" / PHOTO
        if not path.exists():
            from PIL import Image

            path.parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (480, 360), (120, 100, 40)).save(path, "JPEG", quality=70)
    return PHOTO


def add_collection(demo: Demo) -> None:
    """Collectors on two streets with daily pickups (see the module docstring)."""
    session = demo.session
    streets = list(demo.streets.values())
    for username, index in COLLECTORS:
        if index >= len(streets):
            continue
        street = streets[index]
        collector = city._account(demo, role="collector", area=street,
                                  username=username,
                                  display_name=f"{street.name}收运员")
        communities = [c for c in demo.communities.values() if c.parent_id == street.id]
        ids = [pk(c) for c in communities]
        if not ids or session.execute(select(table_of(Collection).c.id).where(
                table_of(Collection).c.community_id.in_(ids)).limit(1)).first():
            continue
        stations = session.execute(select(Station).where(
            col(Station.community_id).in_(ids)).order_by(col(Station.id))).scalars().all()
        zones = {pk(c): c.timezone for c in communities}
        _tags_and_windows(demo, stations, zones)
        _pickups(demo, stations, zones, pk(collector))
    session.commit()


def _tags_and_windows(demo: Demo, stations: Sequence[Station], zones: dict[int, str]) -> None:
    session = demo.session
    tagged = set(session.execute(select(table_of(StationTag).c.station_id)).scalars())
    first = clock.local_today(next(iter(zones.values()))) - timedelta(days=demo.days + 1)
    for st in stations:
        if st.id not in tagged:
            session.add(StationTag(station_id=pk(st), token=rules.new_tag_token(),
                                   code=rules.new_tag_code()))
            demo.created += 1
        if session.execute(select(table_of(PickupVersion).c.id).where(
                table_of(PickupVersion).c.station_id == st.id)).first() is None:
            version = PickupVersion(station_id=pk(st), effective_from=first)
            session.add(version)
            session.flush()
            session.add_all([PickupRange(version_id=pk(version), weekday=d, start_time=PICKUP[0],
                                         end_time=PICKUP[1]) for d in range(7)])
            demo.created += 8
    session.flush()


def _pickup(rng: random.Random, st: Station, day: date, zone: ZoneInfo, collector_id: int,
            photo: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """One station's pickup on `day` and its lines (None: missed that day)."""
    roll = rng.random()
    if roll < MISSED_SHARE:
        return None
    start = datetime.combine(day, PICKUP[0], tzinfo=zone)
    minutes = rng.randint(100, 160) if roll < MISSED_SHARE + LATE_SHARE else \
        rng.randint(5, 85)
    at = start + timedelta(minutes=minutes)
    pickup = {
        "client_id": f"demo-pickup-{st.id}-{day.isoformat()}", "station_id": st.id,
        "community_id": st.community_id, "collector_id": collector_id,
        "happened_at": at, "received_at": at + timedelta(minutes=rng.randint(0, 3)),
        "local_date": day, "on_time": minutes <= 90, "note": ""}
    lines = []
    for category in st.category_list():
        if category == "hazardous" and rng.random() > 0.1:
            continue
        bins = rng.randint(1, 3) if category in ("kitchen", "other") else 1
        low, high = KG_PER_BIN[category]
        kg = sum(Decimal(rng.randint(low * 10, high * 10)) / 10 for _ in range(bins))
        dirty = category == "kitchen" and rng.random() < CONTAMINATED_SHARE
        lines.append({"client_id": pickup["client_id"],
                      "community_id": st.community_id, "station_id": st.id,
                      "local_date": day, "category": category, "bins": bins,
                      "kg": kg, "contaminated_bins": 1 if dirty else 0,
                      "photo": photo if dirty else None})
    return pickup, lines


def _pickups(demo: Demo, stations: Sequence[Station], zones: dict[int, str],
             collector_id: int) -> None:
    rng = demo.rng_for("collection", collector_id)
    photo = _photo()
    now = clock.now()
    collections, lines = [], []
    for st in stations:
        zone = ZoneInfo(zones[st.community_id])
        today = clock.local_today(zones[st.community_id], now)
        made = [_pickup(rng, st, today - timedelta(days=n), zone, collector_id, photo)
                for n in range(demo.days, 0, -1)]
        # Today's, once it has been recorded (drawn apart: the past days stay as they were).
        got = _pickup(demo.rng_for("collection-today", st.id), st, today, zone,
                      collector_id, photo)
        made.append(got if got is not None and got[0]["received_at"] <= now else None)
        for pickup in made:
            if pickup is not None:
                collections.append(pickup[0])
                lines.extend(pickup[1])
    if not collections:
        return
    session = demo.session
    session.execute(insert(table_of(Collection)), collections)
    ids = dict(session.execute(select(table_of(Collection).c.client_id,
                                      table_of(Collection).c.id).where(
        table_of(Collection).c.client_id.in_([c["client_id"] for c in collections]))).all())
    session.execute(insert(table_of(CollectionLine)), [
        {**{k: v for k, v in line.items() if k != "client_id"},
         "collection_id": ids[line["client_id"]]} for line in lines])
    demo.created += len(collections) + len(lines)
