"""Collection use cases: print a station's collection QR, set its pickup windows, record a
collector's pickup (alone or from an offline queue's batch).

`record_collection` loads → authorizes → checks → adds → flushes, never commits. A client id
seen before in the station's community is a replay: the stored pickup is answered and nothing
is added (a retried or re-synced queue stores a pickup once). Every check and every photo runs
before the first row is added, so a refused pickup leaves nothing behind. A pickup recorded
after its local day is over marks the (community, day) dirty (`collections`), so that month's
rating is recomputed with its kg (community/ratings/rollups.py reads the collections).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.auth import policy
from community.collection import queries, rules
from community.collection.models import (
    Collection,
    CollectionLine,
    PickupRange,
    PickupVersion,
    StationTag,
)
from community.collection.schemas import (
    CollectionError,
    CollectionIn,
    CollectionOut,
    PickupWindowsIn,
)
from community.dirty import services as dirty
from community.errors import DomainError, Forbidden, InvalidInput, NotFound
from community.images import clean_photo, write_atomic
from community.rows import pk
from community.schemas import field_errors
from community.stations import services as stations_services
from community.stations.models import Station

FUTURE_TOLERANCE = stations_services.FUTURE_TOLERANCE
MAX_AGE = stations_services.MAX_AGE
CategoryNotAccepted = stations_services.CategoryNotAccepted


class StationTagUnknown(DomainError):
    code, status, message = "station_unknown", 404, _l(
        "No station has this collection code (or its sticker was replaced). Check the code "
        "under the QR.")


class OutsideArea(Forbidden):
    code, message = "station_outside_area", _l(
        "This station is outside the street or district you collect for.")


class TimeInFuture(DomainError):
    code, status, message = "time_in_future", 422, _l(
        "The pickup time is in the future. Check the phone's clock.")


class TimeTooOld(DomainError):
    code, status, message = "time_too_old", 422, _l(
        "The pickup time is too long ago to record.")


class EffectiveInPast(DomainError):
    code, status, message = "effective_in_past", 422, _l(
        "Pickup windows can change from today on, not for days already past.")


def _station_area(session: Session, station_id: int) -> tuple[Station, Area]:
    station = stations_services.get_station(session, station_id)
    area = session.get(Area, station.community_id)
    if area is None:
        raise stations_services.StationUnknown()
    return station, area


def issue_tag(session: Session, *, actor: policy.Actor, station_id: int,
              reissue: bool = False) -> StationTag:
    """The station's collection QR tag, made on first use; `reissue` replaces its token so a
    lost or copied sticker stops working."""
    _station, area = _station_area(session, station_id)
    policy.require(actor, "collection:manage", area)
    tag = session.get(StationTag, station_id)
    if tag is None:
        tag = StationTag(station_id=station_id, token=rules.new_tag_token(),
                         code=rules.new_tag_code(),
                         created_by=actor.account_id)
        session.add(tag)
    elif reissue:
        tag.token = rules.new_tag_token()
        tag.code = rules.new_tag_code()
        tag.created_at = clock.now()
        tag.created_by = actor.account_id
        session.add(tag)
    session.flush()
    return tag


def set_pickup_windows(session: Session, *, actor: policy.Actor, station_id: int,
                       data: PickupWindowsIn, now: datetime | None = None) -> PickupVersion:
    """A new pickup schedule version from `data.effective_from` (today or later; the same
    day's version is replaced), so days already lived keep the windows they had."""
    _station, area = _station_area(session, station_id)
    policy.require(actor, "collection:manage", area)
    today = (now or clock.now()).astimezone(ZoneInfo(area.timezone)).date()
    if data.effective_from < today:
        raise EffectiveInPast(field="effective_from")
    session.execute(delete(PickupVersion).where(
        col(PickupVersion.station_id) == station_id,
        col(PickupVersion.effective_from) == data.effective_from))
    version = PickupVersion(station_id=station_id, effective_from=data.effective_from,
                            created_by=actor.account_id)
    session.add(version)
    session.flush()
    session.add_all([PickupRange(version_id=pk(version), weekday=wd, start_time=start,
                                 end_time=end)
                     for wd in sorted(set(data.weekdays)) for start, end in data.ranges])
    session.flush()
    return version


@dataclass(frozen=True)
class _Target:
    station: Station
    area: Area


def _resolve(session: Session, actor: policy.Actor, token: str) -> _Target:
    """The station of a scanned tag (its QR's long token) or of a typed short code, inside
    the collector's area."""
    if not policy.offers(actor, "collection:record"):
        raise Forbidden(action="collection:record")
    code = None if token.strip().startswith(rules.TAG_PREFIX) else rules.code_from_text(token)
    match = (col(StationTag.code) == code if code
             else col(StationTag.token) == rules.token_from_text(token))
    row = session.execute(
        select(Station, Area).join(StationTag, col(StationTag.station_id) == Station.id)
        .join(Area, col(Area.id) == Station.community_id).where(match)).first()
    if row is None:
        raise StationTagUnknown(field="station_tag")
    station, area = row
    if not policy.allowed(actor, "collection:record", area):
        raise OutsideArea(field="station_tag")
    return _Target(station, area)


def find_station(session: Session, *, actor: policy.Actor, text: str) -> Station:
    """The station a scanned or typed collection code names, for the pickup page to show
    before anything is recorded: StationTagUnknown when no station has it, OutsideArea when
    its station is outside the collector's street or district."""
    return _resolve(session, actor, text).station


def _replayed(session: Session, community_id: int, client_id: str) -> Collection | None:
    return session.execute(select(Collection).where(
        col(Collection.community_id) == community_id,
        col(Collection.client_id) == client_id)).scalars().first()


def _out(c: Collection, replay: bool) -> CollectionOut:
    return CollectionOut(client_id=c.client_id, id=c.id or 0, station_id=c.station_id,
                         replay=replay, on_time=c.on_time)


def record_collection(session: Session, *, actor: policy.Actor, item: CollectionIn,
                      photo_dir: Path, now: datetime | None = None) -> CollectionOut:
    """Record one pickup (see the module docstring); a known client id is a replay."""
    now = now or clock.now()
    target = _resolve(session, actor, item.station_tag)
    station, area = target.station, target.area
    seen = _replayed(session, area.id or 0, item.client_id)
    if seen is not None:
        return _out(seen, True)
    if item.happened_at > now + FUTURE_TOLERANCE:
        raise TimeInFuture(field="happened_at")
    if item.happened_at < now - MAX_AGE:
        raise TimeTooOld(field="happened_at")
    accepted = set(station.category_list())
    for n, line in enumerate(item.lines):
        if line.category not in accepted:
            raise CategoryNotAccepted(field=f"lines.{n}.category")
    # Photos are checked (and re-encoded) before any row is added: a bad one refuses the
    # whole pickup.
    photos: dict[str, tuple[bytes, str]] = {}
    for n, line in enumerate(item.lines):
        raw = line.photo_bytes()
        if raw is not None:
            try:
                photos[line.category] = clean_photo(raw)
            except DomainError as err:
                err.details["field"] = f"lines.{n}.photo"
                raise
    zone = ZoneInfo(area.timezone)
    day = item.happened_at.astimezone(zone).date()
    schedule = queries.pickup_schedules(session, [station.id or 0]).get(station.id or 0)
    collection = Collection(
        client_id=item.client_id, station_id=station.id or 0, community_id=area.id or 0,
        collector_id=actor.account_id or 0, happened_at=item.happened_at, received_at=now,
        local_date=day, on_time=rules.on_time(schedule, item.happened_at) if schedule else None,
        note=item.note)
    try:
        with session.begin_nested():
            session.add(collection)
            session.flush()
    except IntegrityError:
        # The same client id committed by a concurrent request: a replay, not an error.
        seen = _replayed(session, area.id or 0, item.client_id)
        if seen is None:
            raise
        return _out(seen, True)
    for line in item.lines:
        path = None
        if line.category in photos:
            content, ext = photos[line.category]
            digest = hashlib.sha256(content).hexdigest()[:16]
            path = f"{area.id}/c{collection.id}-{line.category}-{digest}.{ext}"
            write_atomic(photo_dir / path, content)
        session.add(CollectionLine(
            collection_id=collection.id or 0, community_id=area.id or 0,
            station_id=station.id or 0, local_date=day, category=line.category,
            bins=line.bins, kg=line.kg, contaminated_bins=line.contaminated_bins, photo=path))
    session.flush()
    if day < now.astimezone(zone).date():
        dirty.mark(session, "collections", {(area.id or 0, day): 1}, now=now)
    return _out(collection, False)


def photo_path(session: Session, *, actor: policy.Actor, line_id: int) -> str:
    """The stored photo of a collection line, for readers of its community (or its collector)."""
    line = session.get(CollectionLine, line_id)
    if line is None or not line.photo:
        raise NotFound()
    area = session.get(Area, line.community_id)
    if area is None:
        raise NotFound()
    if not (policy.allowed(actor, "collection:read", area)
            or policy.allowed(actor, "collection:record", area)):
        raise Forbidden(action="collection:read")
    return line.photo


def local_today(area: Area, now: datetime | None = None) -> date:
    """The local date in the area's zone."""
    return (now or clock.now()).astimezone(ZoneInfo(area.timezone)).date()



def record_batch(session: Session, *, actor: policy.Actor, raw_items: list[dict[str, Any]],
                 photo_dir: Path, now: datetime | None = None,
                 ) -> list[CollectionOut | CollectionError]:
    """Record a phone's queued pickups, one result per item in order: each item is parsed and
    recorded on its own (in a savepoint), so a refused one leaves nothing and the others stay."""
    now = now or clock.now()
    results: list[CollectionOut | CollectionError] = []
    for n, raw in enumerate(raw_items):
        client_id = raw.get("client_id") if isinstance(raw.get("client_id"), str) else None
        try:
            # Through JSON again so each item gets the strict JSON rules (0 is not a boolean).
            item = CollectionIn.model_validate_json(json.dumps(raw))
        except ValidationError as err:
            fields = {k: str(v) for k, v in field_errors(err, CollectionIn).items()}
            results.append(CollectionError(index=n, client_id=client_id, error="invalid",
                                           message=str(InvalidInput.message), fields=fields))
            continue
        try:
            with session.begin_nested():
                out = record_collection(session, actor=actor, item=item, photo_dir=photo_dir,
                                        now=now)
        except DomainError as err:
            field = err.details.get("field")
            results.append(CollectionError(
                index=n, client_id=item.client_id, error=err.code, message=str(err.message),
                fields={str(field): str(err.message)} if field else {}))
            continue
        results.append(out.model_copy(update={"index": n}))
    return results
