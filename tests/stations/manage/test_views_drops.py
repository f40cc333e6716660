"""Manager and station chief drop pages: list filters and paging, drill-in, regrade, photo."""
from __future__ import annotations

import io
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import update as sa_update
from sqlmodel import Session, select

from community import clock
from community.auth import services as auth_services
from community.households import services as hh_services
from community.stations import photos
from community.stations.models import Drop, DropRegrade
from tests import builders
from tests.stations.helpers import english, read

SH = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 11, 20, tzinfo=SH)  # a Friday
RANGE = "day_from=2026-11-18&day_to=2026-11-20"


@pytest.fixture
def scene(session: Session, world: builders.World):
    """Two stations in A, one in B; drops on two local days, incl. a UTC-date edge case."""
    a1 = builders.station(session, world.a, "一号点")
    a2 = builders.station(session, world.a, "二号点")
    b1 = builders.station(session, world.b, "金浦一号")
    h1, h2, _ = world.households_a
    drops = {
        "h1_kitchen": builders.drop(session, a1, h1, happened_at=DAY.replace(hour=7, minute=30),
                                    quality="correct", weight_kg=Decimal("1.250")),
        "h2_other_late": builders.drop(session, a1, h2, happened_at=DAY.replace(hour=12),
                                       category="other", quality="incorrect", in_window=False),
        "tally": builders.drop(session, a2, None, happened_at=DAY.replace(hour=19),
                               category="recyclable"),
        # 00:30 local on the 19th is the 18th in UTC: filtered by the local day, not UTC.
        "early": builders.drop(session, a2, h1, happened_at=(DAY - timedelta(days=1)).replace(
            hour=0, minute=30), quality="correct"),
        "b": builders.drop(session, b1, world.households_b[0], happened_at=DAY.replace(hour=8)),
    }
    session.commit()
    return world, (a1, a2, b1), drops


def _ids(page: str) -> set[int]:
    return {int(p.split('"')[0]) for p in page.split('data-drop-id="')[1:]}


def test_list_filters(client, session: Session, scene) -> None:
    world, (a1, a2, _b1), d = scene
    builders.login(client, world.manager_a)
    base = f"/manage/drops?community_id={world.a.id}&{RANGE}"
    page = client.get(base).get_data(as_text=True)
    assert _ids(page) == {d[k].id for k in ("h1_kitchen", "h2_other_late", "tally", "early")}
    assert "共 4 条" in page
    assert "金浦一号" not in page
    assert "2026-11-20 07:30" in page  # local time
    assert "匿名计数" in page
    assert "过时投放" in page
    assert "1.250" in page
    # Newest first.
    assert page.index(f'data-drop-id="{d["tally"].id}"') < page.index(
        f'data-drop-id="{d["early"].id}"')
    card = builders.active_card(session, world.households_a[0])
    session.commit()
    cases = {
        f"station_id={a2.id}": {"tally", "early"},
        "category=other": {"h2_other_late"},
        "quality=correct": {"h1_kitchen", "early"},
        "quality=ungraded": {"tally"},
        "window=out": {"h2_other_late"},
        "window=in": {"h1_kitchen", "tally", "early"},
        "kind=tally": {"tally"},
        "kind=identified": {"h1_kitchen", "h2_other_late", "early"},
        "q=1-1-101": {"h1_kitchen", "early"},
        "q=1栋1单元102室": {"h2_other_late"},
        f"q={card.short_code[:4].lower()}-{card.short_code[4:]}": {"h1_kitchen", "early"},
        "q=nonsense!!": set(),
        "quality=bogus&window=maybe": {"h1_kitchen", "h2_other_late", "tally", "early"},
    }
    for query, expected in cases.items():
        got = _ids(client.get(f"{base}&{query}").get_data(as_text=True))
        assert got == {d[k].id for k in expected}, query
    day19 = client.get("/manage/drops?day_from=2026-11-19&day_to=2026-11-19").get_data(
        as_text=True)
    assert _ids(day19) == {d["early"].id}
    # Reversed range is swapped, not empty.
    rev = client.get("/manage/drops?day_from=2026-11-20&day_to=2026-11-19").get_data(as_text=True)
    assert len(_ids(rev)) == 4


def test_default_range_is_last_seven_local_days(client, session: Session, scene) -> None:
    world, _stations, d = scene
    builders.login(client, world.manager_a)
    with clock.freeze(DAY.replace(hour=21)):
        page = client.get("/manage/drops").get_data(as_text=True)
        assert 'value="2026-11-14"' in page
        assert 'value="2026-11-20"' in page
        assert len(_ids(page)) == 4
    with clock.freeze(DAY + timedelta(days=8)):
        assert _ids(client.get("/manage/drops").get_data(as_text=True)) == set()


def test_paging(client, session: Session, set_config, scene) -> None:
    world, (a1, _a2, _b1), _d = scene
    set_config(PAGE_SIZE=3)
    builders.login(client, world.manager_a)
    first = client.get(f"/manage/drops?{RANGE}").get_data(as_text=True)
    second = client.get(f"/manage/drops?{RANGE}&page=2").get_data(as_text=True)
    assert len(_ids(first)) == 3
    assert len(_ids(second)) == 1
    assert not _ids(first) & _ids(second)
    assert "第 1 / 2 页" in first


def test_station_chief_reads_and_regrades_steward_cannot(client, session: Session,
                                                         scene) -> None:
    world, (a1, _a2, _b1), d = scene
    chief = builders.account(session, "station_chief", world.a, username="chiefa")
    session.commit()
    drop = d["h2_other_late"]
    builders.login(client, world.steward_a)
    assert client.get("/manage/drops").status_code == 403
    assert client.get(f"/manage/drops/{drop.id}").status_code == 403
    assert client.post(f"/manage/drops/{drop.id}/regrade",
                       data={"quality": "correct", "reason": "复核"}).status_code == 403
    client.post("/logout")
    builders.login(client, chief)
    page = client.get(f"/manage/drops/{drop.id}").get_data(as_text=True)
    assert "1栋1单元102室" in page
    assert "从未改判" in page
    assert "无照片" in page
    assert 'data-testid="regrade-form"' in page
    resp = client.post(f"/manage/drops/{drop.id}/regrade",
                       data={"quality": "correct", "reason": "看过照片，分类正确"})
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "分类质量已从“错误”改为“正确”" in page
    assert page.count('data-testid="regrade-row"') == 1
    assert "看过照片，分类正确" in page
    assert "chiefa" in page
    assert read(session, select(Drop.quality).where(Drop.id == drop.id)) == ["correct"]
    # Same quality again: refused with a message, no second history row.
    resp = client.post(f"/manage/drops/{drop.id}/regrade",
                       data={"quality": "correct", "reason": "复核"})
    assert "该投放记录已是此评定结果" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert len(read(session, select(DropRegrade))) == 1
    english(client, f"/manage/drops/{drop.id}")
    page = client.get(f"/manage/drops/{drop.id}").get_data(as_text=True)
    assert "Regrade history" in page
    assert "Incorrect" in page


def test_regrade_with_bad_quality_changes_nothing(client, session: Session, scene) -> None:
    world, _stations, d = scene
    builders.login(client, world.manager_a)
    resp = client.post(f"/manage/drops/{d['tally'].id}/regrade", data={"quality": "great"})
    assert resp.status_code == 422
    # A regrade without a reason: refused on the form, nothing changed.
    resp = client.post(f"/manage/drops/{d['tally'].id}/regrade",
                       data={"quality": "incorrect", "reason": " "})
    assert resp.status_code == 422
    assert "请填写改判原因" in resp.get_data(as_text=True)
    assert read(session, select(DropRegrade)) == []


def test_a_regrade_to_incorrect_asks_the_mis_drop_reason(client, session: Session,
                                                          scene) -> None:
    world, _stations, d = scene
    drop = d["tally"]
    builders.login(client, world.manager_a)
    page = client.get(f"/manage/drops/{drop.id}").get_data(as_text=True)
    assert 'name="reason_code"' in page
    assert f'value="{builders.MISDROP}"' in page  # the community's reasons to choose from
    resp = client.post(f"/manage/drops/{drop.id}/regrade",
                       data={"quality": "incorrect", "reason": "复核"})
    assert "请选择错投原因" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert read(session, select(DropRegrade)) == []
    resp = client.post(f"/manage/drops/{drop.id}/regrade",
                       data={"quality": "incorrect", "reason": "复核",
                             "reason_code": builders.MISDROP})
    assert resp.status_code == 302
    assert read(session, select(Drop.quality, Drop.reason_code).where(Drop.id == drop.id)) == [
        ("incorrect", builders.MISDROP)]


def test_an_undone_scan_offers_no_regrade(client, session: Session, scene) -> None:
    world, _stations, d = scene
    drop = d["tally"]
    builders.login(client, world.manager_a)
    assert 'data-testid="regrade-form"' in client.get(f"/manage/drops/{drop.id}").get_data(
        as_text=True)
    session.execute(sa_update(Drop).where(Drop.id == drop.id).values(
        voided_at=drop.happened_at + timedelta(minutes=1)))
    session.commit()
    page = client.get(f"/manage/drops/{drop.id}").get_data(as_text=True)
    assert 'data-testid="drop-voided"' in page
    assert 'data-testid="regrade-form"' not in page
    # Posted anyway (a page open from before): a message on the drop's page, not an error page.
    resp = client.post(f"/manage/drops/{drop.id}/regrade",
                       data={"quality": "correct", "reason": "复核"})
    assert resp.status_code == 302
    assert "撤销" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_photo_is_served_in_scope_only(client, session: Session, app, scene) -> None:
    world, _stations, d = scene
    # Where the API's photo upload stores them: <UPLOAD_DIR>/photos/<community>/<file>.
    folder = Path(app.config["UPLOAD_DIR"]) / "photos" / str(world.a.id)
    folder.mkdir(parents=True)
    (folder / "p1.jpg").write_bytes(b"\xff\xd8\xff\xe0fake-jpeg")
    drop = session.get(Drop, d["h1_kitchen"].id)
    drop.photo = f"{world.a.id}/p1.jpg"
    session.add(drop)
    evil = session.get(Drop, d["tally"].id)
    evil.photo = "../../etc/passwd"
    session.add(evil)
    session.commit()
    builders.login(client, world.manager_a)
    page = client.get(f"/manage/drops/{drop.id}").get_data(as_text=True)
    assert 'data-testid="drop-photo"' in page
    resp = client.get(f"/manage/drops/{drop.id}/photo")
    assert resp.status_code == 200
    assert resp.data.startswith(b"\xff\xd8")
    assert "no-store" in resp.headers["Cache-Control"]
    assert client.get(f"/manage/drops/{evil.id}/photo").status_code == 404
    assert client.get(f"/manage/drops/{d['early'].id}/photo").status_code == 404  # none
    client.post("/logout")
    builders.login(client, world.manager_b)
    assert client.get(f"/manage/drops/{drop.id}/photo").status_code == 403


def test_city_admin_picks_community_and_b_is_separate(client, session: Session, scene) -> None:
    world, _stations, d = scene
    builders.login(client, world.city_admin)
    page = client.get(f"/manage/drops?community_id={world.b.id}&{RANGE}").get_data(as_text=True)
    assert _ids(page) == {d["b"].id}
    assert 'data-testid="community-picker"' in page
    assert client.get(f"/manage/drops?community_id={world.street_a.id}").status_code == 404


def test_reissued_card_code_still_finds_old_drops(client, session: Session, scene) -> None:
    world, _stations, d = scene
    old = builders.active_card(session, world.households_a[0])
    session.commit()
    hh_services.reissue_card(session, actor=auth_services.load_actor(session, world.manager_a.id),
                             household_id=world.households_a[0].id)
    session.commit()
    builders.login(client, world.manager_a)
    got = _ids(client.get(f"/manage/drops?{RANGE}&q={old.short_code}").get_data(as_text=True))
    assert got == {d["h1_kitchen"].id, d["early"].id}


def test_photo_stored_by_the_api_service_is_shown(client, session: Session, app,
                                                  scene) -> None:
    """The API's photo upload (stations.photos) and this page agree on where photos live."""
    world, _stations, d = scene
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buf, "PNG")
    steward = auth_services.load_actor(session, world.steward_a.id)
    photos.attach_photo(session, actor=steward, client_id=d["h1_kitchen"].client_id,
                        data=buf.getvalue(), photo_dir=Path(app.config["UPLOAD_DIR"]) / "photos")
    session.commit()
    builders.login(client, world.manager_a)
    resp = client.get(f"/manage/drops/{d['h1_kitchen'].id}/photo")
    assert resp.status_code == 200
    assert resp.mimetype.startswith("image/")


def test_drop_page_shows_the_stewards_reason_and_who_undid_it(client, session: Session,
                                                              scene) -> None:
    """The manager's drop page shows the steward's mis-drop reason of an incorrect verdict
    (in the reader's language; after a regrade away from incorrect, marked as no longer
    applying), each regrade's reason and who undid a voided scan, all escaped."""
    from community.stations import reasons

    world, _stations, d = scene
    incorrect, voided = d["h2_other_late"], d["h1_kitchen"]
    steward = world.steward_a
    session.execute(sa_update(Drop).where(Drop.id == incorrect.id).values(
        reason_code="kitchen_plastic_bag"))
    session.execute(sa_update(Drop).where(Drop.id == voided.id).values(
        voided_at=DAY.replace(hour=7, minute=32), voided_by=steward.id))
    session.commit()
    label = reasons.describe(session, world.a.id, {"kitchen_plastic_bag"},
                             lang="zh")["kitchen_plastic_bag"].label
    builders.login(client, world.manager_a)
    page = client.get(f"/manage/drops/{incorrect.id}").get_data(as_text=True)
    assert f'<dd data-testid="drop-reason">{label}</dd>' in page
    resp = client.post(f"/manage/drops/{incorrect.id}/regrade",
                       data={"quality": "correct", "reason": "<b>看过照片</b> & 正确"})
    assert resp.status_code in (302, 303)
    page = client.get(f"/manage/drops/{incorrect.id}").get_data(as_text=True)
    assert "&lt;b&gt;看过照片&lt;/b&gt; &amp; 正确" in page
    assert "<b>看过照片</b>" not in page
    assert 'data-testid="drop-reason-old"' in page
    page = client.get(f"/manage/drops/{voided.id}").get_data(as_text=True)
    assert f"由 {steward.display_name} 撤销" in page
    assert 'data-testid="drop-reason"' not in page  # a correct drop has no mis-drop reason
    english(client, f"/manage/drops/{incorrect.id}")
    page = client.get(f"/manage/drops/{incorrect.id}").get_data(as_text=True)
    assert "Mis-drop reason" in page
    assert "Kitchen waste mixed with plastic bags" in page
    page = client.get(f"/manage/drops/{voided.id}").get_data(as_text=True)
    assert f"undone by {steward.display_name}" in page
