"""Scope cases for the managers' station pages (stations/manage/views.py); see tests/scope.py.

Each case function first stores some of community A's station data (a station with an
exception, a device and a drop with a photo), so the foreign manager has real targets.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from community import clock
from community.stations.models import Device, Drop, StationException
from tests import builders
from tests.builders import World
from tests.scope import Case, foreign

A_STATION = "玉龙东门投放亭"
A_DEVICE = "玉龙智能桶"


@dataclass
class AData:
    """Ids of A's objects the cases aim at."""

    station: int
    exception: int
    device: int
    drop: int


def _a_data(w: World) -> AData:
    owner = object_session(w.households_a[0])
    assert owner is not None
    # A session of our own, closed at once: an open SQLite transaction would lock the app out.
    with Session(owner.get_bind()) as session:
        old = session.exec(select(Drop).where(Drop.note == "A的备注")).first()
        if old is not None:  # already stored for this World
            exc_id = session.exec(select(StationException.id)).first()
            dev_id = session.exec(select(Device.id).where(Device.name == A_DEVICE)).first()
            session.commit()
            return AData(old.station_id, exc_id, dev_id, old.id)  # type: ignore[arg-type]
        st = builders.station(session, w.a, A_STATION)
        exc = StationException(station_id=st.id, day=clock.now().date() + timedelta(days=3))
        device = Device(community_id=w.a.id, station_id=st.id, name=A_DEVICE,
                        token_hash="a" * 64)
        session.add_all([exc, device])
        # merge without load: the World's household is only needed for its id.
        hh = session.merge(w.households_a[0], load=False)
        drop = builders.drop(session, st, hh, happened_at=clock.now() - timedelta(minutes=5),
                             photo="photos/a.jpg", note="A的备注")
        data = AData(st.id, exc.id, device.id, drop.id)  # type: ignore[arg-type]
        session.commit()
    return data


ABSENT = [A_STATION, A_DEVICE, "1栋1单元101室", "A的备注"]


@foreign("stations.index")
def _index(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("GET", f"/manage/stations?community_id={w.a.id}"),
        Case("GET", f"/manage/stations?community_id={w.street_a.id}"),
        Case("GET", "/manage/stations", expect=(200,), absent=ABSENT),
    ]


@foreign("stations.new")
def _new(w: World) -> list[Case]:
    data = {"name": "外来投放点", "categories": ["kitchen"], "chief_id": "0",
            "status": "open", "grace_minutes": "10"}
    return [
        Case("GET", f"/manage/stations/new?community_id={w.a.id}"),
        Case("POST", f"/manage/stations/new?community_id={w.a.id}", data=data),
    ]


@foreign("stations.edit")
def _edit(w: World) -> list[Case]:
    a = _a_data(w)
    data = {"name": "改名", "categories": ["kitchen"], "chief_id": "0", "status": "suspended",
            "grace_minutes": "10"}
    return [Case("GET", f"/manage/stations/{a.station}/edit"),
            Case("POST", f"/manage/stations/{a.station}/edit", data=data)]


@foreign("stations.status")
def _status(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("POST", f"/manage/stations/{a.station}/status", data={"status": "suspended"})]


@foreign("stations.detail")
def _detail(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("GET", f"/manage/stations/{a.station}")]


@foreign("stations.schedule")
def _schedule(w: World) -> list[Case]:
    a = _a_data(w)
    good = {f"weekday_{d}": "10:00-11:00" for d in range(7)}
    return [Case("POST", f"/manage/stations/{a.station}/schedule", data=good),
            Case("POST", f"/manage/stations/{a.station}/schedule", data={"weekday_0": "x"})]


@foreign("stations.add_exception")
def _add_exception(w: World) -> list[Case]:
    a = _a_data(w)
    day = (clock.now().date() + timedelta(days=5)).isoformat()
    return [Case("POST", f"/manage/stations/{a.station}/exceptions",
                 data={"day": day, "kind": "closed"}),
            Case("POST", f"/manage/stations/{a.station}/exceptions", data={"day": ""})]


@foreign("stations.remove_exception")
def _remove_exception(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("POST", f"/manage/stations/exceptions/{a.exception}/delete")]


@foreign("stations.devices")
def _devices(w: World) -> list[Case]:
    _a_data(w)
    return [Case("GET", f"/manage/stations/devices?community_id={w.a.id}"),
            Case("GET", "/manage/stations/devices", expect=(200,), absent=ABSENT)]


@foreign("stations.issue_device")
def _issue_device(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("POST", f"/manage/stations/devices?community_id={w.a.id}",
                 data={"name": "外来设备", "station_id": "0"}),
            Case("POST", f"/manage/stations/devices?community_id={w.a.id}",
                 data={"name": "外来设备", "station_id": str(a.station)})]


@foreign("stations.device_token")
def _device_token(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("GET", f"/manage/stations/devices/{a.device}/token")]


@foreign("stations.revoke_device")
def _revoke_device(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("POST", f"/manage/stations/devices/{a.device}/revoke")]


@foreign("stations.drops")
def _drops(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("GET", f"/manage/drops?community_id={w.a.id}"),
        Case("GET", f"/manage/drops?community_id={w.district.id}"),
        Case("GET", "/manage/drops", expect=(200,), absent=ABSENT),
        Case("GET", "/manage/drops?q=1-1-101", expect=(200,), absent=ABSENT),
    ]


@foreign("stations.export_csv")
def _export_csv(w: World) -> list[Case]:
    _a_data(w)
    return [Case("GET", f"/manage/drops/export.csv?community_id={w.a.id}"),
            Case("GET", "/manage/drops/export.csv", expect=(200,), absent=ABSENT)]


@foreign("stations.export_xlsx")
def _export_xlsx(w: World) -> list[Case]:
    _a_data(w)
    return [Case("GET", f"/manage/drops/export.xlsx?community_id={w.a.id}")]


@foreign("stations.drop")
def _drop(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("GET", f"/manage/drops/{a.drop}")]


@foreign("stations.regrade")
def _regrade(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("POST", f"/manage/drops/{a.drop}/regrade",
                 data={"quality": "incorrect", "reason": "外来",
                       "reason_code": "kitchen_plastic_bag"})]


@foreign("stations.photo")
def _photo(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("GET", f"/manage/drops/{a.drop}/photo")]
