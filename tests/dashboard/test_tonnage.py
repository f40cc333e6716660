"""Monthly tonnage entries on both backends: the worked example of DOMAIN.md on the page
(resource-utilization 70%, recycling 30%), one editable entry per area and month, refusals
that store nothing (negative, more than two decimals, not a number, a month not begun), the
sub-areas' total on the city dashboard, and who may enter tonnages."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from community import clock
from community.audit.models import AuditEntry
from community.dashboard import services
from community.dashboard.schemas import TonnageIn
from community.ratings.models import TonnageEntry
from tests import builders
from tests.dashboard.helpers import NOW, text_of
from tests.stations.helpers import read

EXAMPLE = {"month": "2026-10", "recyclables": "100", "incineration_grate": "500",
           "incineration_fluid": "0", "kitchen": "200", "landfill": "200"}


@pytest.fixture(autouse=True)
def _frozen():
    """Every page sees 2026-11-20 12:00 in Shanghai."""
    with clock.freeze(NOW):
        yield


def _entries(session: Session) -> list[TonnageEntry]:
    return read(session, select(TonnageEntry).order_by(TonnageEntry.id))


def _month_row(html: str, month: str) -> str:
    return next(t for t in text_of(html, "tonnage-month") if t.startswith(month))


def test_worked_example(client, session: Session, world: builders.World) -> None:
    """R=100, I grate=500, K=200, L=200: 70.0% resource utilization and 30.0% recycling."""
    builders.login(client, world.area_admin_a)
    page = client.get("/dashboard/tonnage")
    assert page.status_code == 200
    assert "玉山镇" in page.get_data(as_text=True)
    url = f"/dashboard/tonnage?area_id={world.street_a.id}"
    resp = client.post(url, data=EXAMPLE)
    assert resp.status_code == 302
    (entry,) = _entries(session)
    assert entry.area_id == world.street_a.id
    assert entry.month == date(2026, 10, 1)
    assert entry.recyclables == Decimal("100.00")
    assert entry.entered_by == world.area_admin_a.id
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已保存玉山镇 2026-10 的吨数。" in html
    row = _month_row(html, "2026-10")
    assert row.endswith("30.0% 70.0% 编辑")
    assert _month_row(html, "2026-09").startswith("2026-09 未填报 暂无数据 暂无数据")
    area = client.get(f"/dashboard/area?area_id={world.street_a.id}&month=2026-10"
                      ).get_data(as_text=True)
    assert text_of(area, "tonnage-row")[0].endswith("30.0% 70.0%")


def test_edit_replaces_the_entry(client, session: Session, world: builders.World) -> None:
    """Saving the same area and month again updates the one entry."""
    builders.login(client, world.area_admin_a)
    url = f"/dashboard/tonnage?area_id={world.street_a.id}"
    client.post(url, data=EXAMPLE)
    resp = client.post(url, data={**EXAMPLE, "recyclables": "1,250.50", "landfill": "0"},
                       follow_redirects=True)
    assert "已更新玉山镇 2026-10 的吨数。" in resp.get_data(as_text=True)
    (entry,) = _entries(session)
    assert entry.recyclables == Decimal("1250.50")
    assert entry.landfill == Decimal("0.00")
    form = client.get(f"{url}&month=2026-10").get_data(as_text=True)
    assert 'value="1250.50"' in form


@pytest.mark.parametrize(("field", "value", "message"), [
    ("recyclables", "-1", "请填写不小于 0、最多两位小数的吨数"),
    ("kitchen", "1.234", "请填写不小于 0、最多两位小数的吨数"),
    ("landfill", "abc", "请填写不小于 0、最多两位小数的吨数"),
    ("incineration_grate", "NaN", "请填写不小于 0、最多两位小数的吨数"),
    ("incineration_fluid", "", "请填写吨数（没有则填 0）。"),
    ("month", "2026-13", "请按 YYYY-MM 格式填写月份"),
    ("month", "2026-12", "只能填报本月或更早月份的吨数。"),
])
def test_refusals_store_nothing(client, session: Session, world: builders.World, field: str,
                                value: str, message: str) -> None:
    """Each bad value is refused at its field in Chinese; no entry and no audit are written."""
    builders.login(client, world.area_admin_a)
    resp = client.post(f"/dashboard/tonnage?area_id={world.street_a.id}",
                       data={**EXAMPLE, field: value})
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert _entries(session) == []
    assert read(session, select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "tonnage.saved")) == [0]


def test_service_refuses_what_the_form_would(session: Session, world: builders.World) -> None:
    """The service checks again: a negative value or a community is refused."""
    from community.auth import services as auth_services
    from community.errors import InvalidInput

    actor = auth_services.load_actor(session, world.city_admin.id)
    values = {k: v for k, v in EXAMPLE.items() if k != "month"}
    with pytest.raises(InvalidInput):
        services.save_tonnage(session, actor=actor, area_id=world.district.id,
                              data=TonnageIn.parse({**values, "kitchen": "-5"},
                                                   month=date(2026, 10, 1)))
    with pytest.raises(InvalidInput):
        services.save_tonnage(session, actor=actor, area_id=world.a.id,
                              data=TonnageIn.parse(values, month=date(2026, 10, 1)))
    assert services.tonnes("0") == Decimal("0.00")
    assert services.tonnes("12.5") == Decimal("12.50")
    assert services.tonnes("-0.01") is None
    assert services.tonnes("Infinity") is None


def test_city_total_of_districts(client, session: Session, world: builders.World) -> None:
    """The city page: each district's rates and the districts together."""
    wujiang = builders.area(session, world.city, "吴江区")
    session.commit()
    builders.login(client, world.city_admin)
    client.post(f"/dashboard/tonnage?area_id={world.district.id}", data=EXAMPLE)
    client.post(f"/dashboard/tonnage?area_id={wujiang.id}",
                data={**EXAMPLE, "recyclables": "0", "incineration_grate": "0",
                      "incineration_fluid": "100", "kitchen": "0", "landfill": "0"})
    html = client.get(f"/dashboard/area?area_id={world.city.id}&month=2026-10"
                      ).get_data(as_text=True)
    rows = {r.split()[0]: r for r in text_of(html, "tonnage-row")}
    assert "未填报" in rows["苏州市"]
    assert rows["昆山市"].endswith("30.0% 70.0%")
    assert rows["吴江区"].endswith("0.0% 50.0%")
    # Together: R 100, I grate 500, I fluid 100, K 200, L 200 → C 1000:
    # recycling 300 / 1100 = 27.3%, utilization (100+400+50+180+20) / 1100 = 68.2%.
    assert text_of(html, "tonnage-total")[0].endswith("27.3% 68.2%")


def test_who_may_enter(client, session: Session, world: builders.World) -> None:
    """Managers may not; a street admin only in their street; never for a community."""
    builders.login(client, world.manager_a)
    assert client.get("/dashboard/tonnage").status_code == 403
    assert client.post(f"/dashboard/tonnage?area_id={world.street_a.id}",
                       data=EXAMPLE).status_code == 403
    client.post("/logout")
    builders.login(client, world.area_admin_a)
    assert client.get(f"/dashboard/tonnage?area_id={world.street_b.id}").status_code == 403
    assert client.post(f"/dashboard/tonnage?area_id={world.district.id}",
                       data=EXAMPLE).status_code == 403
    assert client.post(f"/dashboard/tonnage?area_id={world.a.id}",
                       data=EXAMPLE).status_code == 404
    assert _entries(session) == []
    area = client.get("/dashboard/area").get_data(as_text=True)
    assert 'data-testid="tonnage-link"' in area
