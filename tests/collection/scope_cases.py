"""Scope cases of the collection pages (community/collection/views.py); see tests/scope.py.

Community A gets a tagged station with pickup windows and a contaminated pickup (with its
photo line). The manager of B can neither read A's collection figures, QR sheet or photos,
nor make or replace A's codes or change A's pickup windows, nor record a pickup (only
collectors do); B's own figures answer without A's data.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from community.collection.models import Collection, CollectionLine, StationTag
from tests.builders import World
from tests.collection import helpers as h
from tests.scope import Case, exempt, foreign

A_STATION = "玉龙收运点"
A_MOMENT = datetime(2026, 11, 20, 22, 30, tzinfo=UTC)


@dataclass
class AData:
    """Ids of A's collection data the cases aim at."""

    station: int
    token: str
    line: int


def a_data(w: World) -> AData:
    """A's tagged station and a contaminated pickup there (made once per database)."""
    owner = object_session(w.households_a[0])
    assert owner is not None
    with Session(owner.get_bind()) as session:
        tag = session.exec(select(StationTag).join(
            CollectionLine, CollectionLine.station_id == StationTag.station_id)
            .where(CollectionLine.community_id == w.a.id)).first()
        if tag is None:
            st = h.tagged_station(session, w.a, A_STATION)
            collector = h.collector(session, w.street_a)
            c = Collection(client_id="scope-a-pickup-1", station_id=st.id,
                           community_id=w.a.id, collector_id=collector.id,
                           happened_at=A_MOMENT, received_at=A_MOMENT,
                           local_date=date(2026, 11, 21), on_time=True)
            session.add(c)
            session.flush()
            session.add(CollectionLine(collection_id=c.id, community_id=w.a.id,
                                       station_id=st.id, local_date=c.local_date,
                                       category="kitchen", bins=2, kg=Decimal(60),
                                       contaminated_bins=1, photo=f"{w.a.id}/scope.jpg"))
            session.flush()
            tag = session.get(StationTag, st.id)
        assert tag is not None
        line = session.exec(select(CollectionLine).where(
            CollectionLine.station_id == tag.station_id)).first()
        assert line is not None
        data = AData(tag.station_id, tag.token, line.id or 0)
        session.commit()
    return data


ABSENT = [A_STATION]


def cases(w: World) -> dict[str, list[Case]]:
    """Every collection route's foreign requests, by endpoint (a manager of B's view)."""
    a = a_data(w)
    pickup = h.pickup(a.token, A_MOMENT, client_id="scope-b-pickup-1")
    return {
        "collection.day": [Case("GET", "/collector/")],
        "collection.collect": [Case("GET", "/collector/collect")],
        "collection.record_batch": [Case("POST", "/collector/api/collections",
                                         json={"collections": [pickup]})],
        "collection.line_photo": [Case("GET", f"/collection/lines/{a.line}/photo"),
                                  Case("GET", "/collection/lines/999999999/photo")],
        "collection.figures": [
            Case("GET", f"/collection/?community_id={w.a.id}"),
            Case("GET", f"/collection/?community_id={w.street_a.id}"),
            Case("GET", "/collection/", expect=(200,), absent=ABSENT)],
        "collection.find_station": [Case("GET", f"/collector/api/station?code={a.token}")],
        "collection.tags": [Case("GET", f"/collection/tags?community_id={w.a.id}")],
        "collection.make_tags": [Case("POST", f"/collection/tags?community_id={w.a.id}")],
        "collection.reissue_tag": [Case("POST", f"/collection/stations/{a.station}/tag")],
        "collection.pickup_windows": [
            Case("GET", f"/collection/stations/{a.station}/pickup"),
            Case("POST", f"/collection/stations/{a.station}/pickup",
                 data={"ranges": "05:00-06:00", "effective_from": "2026-12-01",
                       "weekdays": ["0"]})],
    }


# The service worker script is the same for everyone (no data, no area).
exempt("collection.service_worker")

for _endpoint in ("collection.day", "collection.collect", "collection.record_batch",
                  "collection.find_station",
                  "collection.line_photo", "collection.figures", "collection.tags",
                  "collection.make_tags", "collection.reissue_tag",
                  "collection.pickup_windows"):
    foreign(_endpoint)(lambda w, e=_endpoint: cases(w)[e])
