"""Manager pages of stations: list, create/edit with validation, status, weekly windows,
date exceptions, and devices (issue once, revoke → 401)."""
from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlmodel import Session, select

from community import clock
from community.audit.models import AuditEntry
from community.stations import services
from community.stations.models import Device, Station, StationException, StationWindow
from tests import builders
from tests.stations.helpers import english, read

FORM = {"name": "三号投放亭", "location": "北门3栋旁", "latitude": "31.38",
        "longitude": "120.98", "categories": ["kitchen", "other"], "chief_id": "0",
        "status": "open", "grace_minutes": "15"}


def _station(session: Session, name: str) -> Station:
    return read(session, select(Station).where(Station.name == name))[0]


def test_manager_creates_a_station_with_default_windows(client, session: Session,
                                                        world: builders.World) -> None:
    builders.login(client, world.manager_a)
    page = client.get("/manage/stations").get_data(as_text=True)
    assert f"投放点 · {world.a.name}" in page
    assert "还没有投放点" in page
    form = client.get(f"/manage/stations/new?community_id={world.a.id}").get_data(as_text=True)
    assert "stewarda" in form  # the community's steward is offered as chief
    resp = client.post(f"/manage/stations/new?community_id={world.a.id}",
                       data=FORM | {"chief_id": str(world.steward_a.id)})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    st = _station(session, "三号投放亭")
    assert (st.community_id, st.categories, st.grace_minutes, st.chief_id) == (
        world.a.id, "kitchen,other", 15, world.steward_a.id)
    assert (st.latitude, st.longitude) == (31.38, 120.98)
    assert len(read(session, select(StationWindow).where(StationWindow.station_id == st.id))) == 14
    assert read(session, select(AuditEntry.action).where(AuditEntry.target_id == st.id)) == [
        "station.created"]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已添加投放点 三号投放亭" in page
    assert "07:00-09:00, 18:00-20:00" in page
    listing = client.get("/manage/stations").get_data(as_text=True)
    assert "三号投放亭" in listing
    assert "厨余垃圾" in listing
    assert "07:00–09:00" in listing


@pytest.mark.parametrize(("changes", "zh", "en"), [
    ({"name": ""}, "请输入投放点名称", "Please enter the station's name."),
    ({"latitude": "95"}, "纬度必须在 -90 到 90 之间", "Latitude must be from -90 to 90."),
    ({"longitude": ""}, "请同时填写纬度和经度", "Enter both latitude and longitude, or neither."),
    ({"categories": []}, "请至少选择一个类别", "Choose at least one category."),
    ({"grace_minutes": "200"}, "宽限分钟数必须在 0 到 120 之间",
     "Grace minutes must be from 0 to 120."),
])
def test_station_form_errors(client, session: Session, world: builders.World, changes: dict,
                             zh: str, en: str) -> None:
    builders.login(client, world.manager_a)
    url = f"/manage/stations/new?community_id={world.a.id}"
    resp = client.post(url, data=FORM | changes)
    assert resp.status_code == 422
    assert zh in resp.get_data(as_text=True)
    english(client, url)
    resp = client.post(url, data=FORM | changes)
    assert en in resp.get_data(as_text=True)
    assert read(session, select(Station)) == []


def test_duplicate_name_and_foreign_chief(client, session: Session,
                                          world: builders.World) -> None:
    builders.station(session, world.a, "三号投放亭")
    session.commit()
    builders.login(client, world.manager_a)
    url = f"/manage/stations/new?community_id={world.a.id}"
    resp = client.post(url, data=FORM)
    assert resp.status_code == 422
    assert "本社区已有同名投放点" in resp.get_data(as_text=True)
    resp = client.post(url, data=FORM | {"name": "四号", "chief_id": str(world.resident_a.id)})
    assert resp.status_code == 422
    assert len(read(session, select(Station))) == 1


def test_edit_and_suspend(client, session: Session, world: builders.World) -> None:
    st = builders.station(session, world.a, "一号点")
    session.commit()
    builders.login(client, world.manager_a)
    page = client.get(f"/manage/stations/{st.id}/edit").get_data(as_text=True)
    assert 'value="一号点"' in page
    resp = client.post(f"/manage/stations/{st.id}/edit",
                       data=FORM | {"name": "一号点（新）", "latitude": "", "longitude": ""})
    assert resp.status_code == 302
    st = _station(session, "一号点（新）")
    assert st.latitude is None
    assert st.categories == "kitchen,other"
    entry = read(session, select(AuditEntry).where(AuditEntry.action == "station.updated"))[0]
    assert entry.detail["name"] == "一号点 → 一号点（新）"
    resp = client.post(f"/manage/stations/{st.id}/status", data={"status": "suspended"})
    assert resp.status_code == 302
    assert "已暂停" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert _station(session, "一号点（新）").status == "suspended"
    assert client.post(f"/manage/stations/{st.id}/status",
                       data={"status": "gone"}).status_code == 422
    client.post(f"/manage/stations/{st.id}/status", data={"status": "open"})
    assert _station(session, "一号点（新）").status == "open"


def test_steward_and_resident_cannot_manage(client, session: Session,
                                            world: builders.World) -> None:
    st = builders.station(session, world.a)
    session.commit()
    for who in (world.steward_a, world.resident_a):
        builders.login(client, who)
        assert client.get("/manage/stations").status_code == 403
        assert client.get(f"/manage/stations/{st.id}").status_code == 403
        assert client.post(f"/manage/stations/{st.id}/status",
                           data={"status": "suspended"}).status_code == 403
        client.post("/logout")


def _schedule(**days: str) -> dict:
    return {f"weekday_{d}": days.get(f"d{d}", "") for d in range(7)}


def test_schedule_editor(client, session: Session, world: builders.World) -> None:
    st = builders.station(session, world.a)
    session.commit()
    builders.login(client, world.manager_a)
    url = f"/manage/stations/{st.id}/schedule"
    resp = client.post(url, data=_schedule(d0="06:30-08:30, 22:00-01:00", d5="08:00-11:00"))
    assert resp.status_code == 302
    rows = read(session, select(StationWindow).where(StationWindow.station_id == st.id)
                .order_by(StationWindow.weekday, StationWindow.start_time))
    assert [(w.weekday, w.start_time, w.end_time) for w in rows] == [
        (0, time(6, 30), time(8, 30)), (0, time(22), time(1)), (5, time(8), time(11))]
    page = client.get(f"/manage/stations/{st.id}").get_data(as_text=True)
    assert "06:30-08:30, 22:00-01:00" in page
    # Overlap on one day, and Monday night running into Tuesday morning: refused, unchanged.
    for data, text in [(_schedule(d2="07:00-09:00, 08:00-10:00"), "07:00–09:00 / 08:00–10:00"),
                       (_schedule(d0="22:00-02:00", d1="01:00-03:00"),
                        "22:00–02:00 / 01:00–03:00")]:
        resp = client.post(url, data=data)
        assert resp.status_code == 422
        body = resp.get_data(as_text=True)
        assert "时间段重叠" in body
        assert text in body
    resp = client.post(url, data=_schedule(d3="7点到9点"))
    assert resp.status_code == 422
    assert "请按 07:00-09:00, 18:00-20:00 的格式填写" in resp.get_data(as_text=True)
    assert len(read(session, select(StationWindow).where(StationWindow.station_id == st.id))) == 3
    english(client, f"/manage/stations/{st.id}")
    body = client.post(url, data=_schedule(d2="07:00-09:00, 08:00-10:00")).get_data(as_text=True)
    assert "These time ranges overlap: 07:00–09:00 / 08:00–10:00." in body


def test_date_exceptions(client, session: Session, world: builders.World) -> None:
    st = builders.station(session, world.a)
    session.commit()
    builders.login(client, world.manager_a)
    today = clock.local_today(world.a.timezone, clock.now())
    day = today + timedelta(days=3)
    url = f"/manage/stations/{st.id}/exceptions"
    assert client.post(url, data={"day": day.isoformat(), "kind": "closed",
                                  "note": "停水"}).status_code == 302
    special = {"day": (day + timedelta(days=1)).isoformat(), "kind": "special",
               "start": "08:00", "end": "10:00", "note": "活动日"}
    assert client.post(url, data=special).status_code == 302
    page = client.get(f"/manage/stations/{st.id}").get_data(as_text=True)
    assert page.count('data-testid="exception-row"') == 2
    assert "全天关闭" in page
    assert "08:00–10:00" in page
    assert "停水" in page
    # Refusals: special hours without an end, a clash with the closed day, a past day.
    resp = client.post(url, data=special | {"end": ""})
    assert resp.status_code == 422
    assert "特殊时段需要填写开始和结束时间" in resp.get_data(as_text=True)
    resp = client.post(url, data=special | {"day": day.isoformat()})
    assert resp.status_code == 422
    assert "冲突" in resp.get_data(as_text=True)
    resp = client.post(url, data={"day": (today - timedelta(days=1)).isoformat(),
                                  "kind": "closed"})
    assert resp.status_code == 422
    assert "不能修改过去的日期" in resp.get_data(as_text=True)
    exc = read(session, select(StationException).where(StationException.day == day))[0]
    assert client.post(f"/manage/stations/exceptions/{exc.id}/delete").status_code == 302
    assert len(read(session, select(StationException))) == 1


def test_devices_issue_once_and_revoke(client, session: Session, world: builders.World) -> None:
    st = builders.station(session, world.a, "一号点")
    session.commit()
    builders.login(client, world.manager_a)
    page = client.get("/manage/stations/devices").get_data(as_text=True)
    assert "还没有设备" in page
    resp = client.post(f"/manage/stations/devices?community_id={world.a.id}",
                       data={"name": "3栋智能桶", "station_id": str(st.id)})
    # Post/Redirect/Get (QA #20): the token is shown by a GET page, once.
    assert resp.status_code == 303
    shown = resp.headers["Location"]
    assert shown.startswith("/manage/stations/devices/")
    assert shown.endswith("/token")
    resp = client.get(shown)
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    body = resp.get_data(as_text=True)
    assert "只显示这一次" in body
    # The header's placeholder is text, not an HTML tag the browser drops (QA).
    assert "Authorization: Bearer &lt;token&gt;" in body
    assert 'data-testid="api-docs-link"' in page  # the devices page links the API docs
    token = body.split('data-testid="device-token"')[0].rsplit('value="', 1)[1].split('"')[0]
    device, actor = services.authenticate_device(session, token)
    session.commit()
    assert device.name == "3栋智能桶"
    assert device.station_id == st.id
    assert actor.roles() == {"device"}
    listing = client.get("/manage/stations/devices").get_data(as_text=True)
    assert "3栋智能桶" in listing
    assert token not in listing
    # A reload shows it no more (nor issues a second device): back to the list, saying so.
    again = client.get(shown)
    assert again.status_code == 302
    assert token not in client.get(again.headers["Location"]).get_data(as_text=True)
    assert len(read(session, select(Device))) == 1
    resp = client.post(f"/manage/stations/devices?community_id={world.a.id}", data={"name": ""})
    assert resp.status_code == 422
    assert "请输入设备名称" in resp.get_data(as_text=True)
    assert client.post(f"/manage/stations/devices/{device.id}/revoke").status_code == 302
    session.expire_all()
    with pytest.raises(services.DeviceUnauthorized):
        services.authenticate_device(session, token)
    session.rollback()
    assert read(session, select(Device.revoked_at))[0] is not None
    assert 'data-testid="device-revoked"' in client.get(
        "/manage/stations/devices").get_data(as_text=True)
