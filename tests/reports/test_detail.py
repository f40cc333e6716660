"""One report's page, on both backends: what the reporter gave (note, photo and its position)
is seen by the reporter and the report's handlers, never by another resident who joined it
(+1), and a joiner's by the handlers and that joiner only; a repeat of one's own report or +1
says what it did (nothing merged) and keeps a new photo only where it has a place; photos
are thumbnails linking to the full size."""
from __future__ import annotations

import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlmodel import Session

from community import clock
from community.reports.models import Report, ReportPlus
from tests import builders
from tests.reports.photos import jpeg

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=SH)
LOCATION = "31.30000, 120.60000"


@pytest.fixture
def place(session: Session, world: builders.World):
    st = builders.station(session, world.a, "玉龙详情投放点")
    chief = builders.account(session, "station_chief", world.a)
    st.chief_id = chief.id
    session.add(st)
    joiner = builders.account(session, "resident", world.a)
    session.commit()
    return st, chief, joiner


def _post(client, world, st, photo: bytes, **fields):
    data = {"community_id": str(world.a.id), "station_id": str(st.id), "kind": "broken",
            "note": "报告人备注", "photo": (io.BytesIO(photo), "bin.jpg"), **fields}
    return client.post("/reports/new", data=data, content_type="multipart/form-data")


def _as(client, who) -> None:
    client.post("/logout")
    builders.login(client, who)


def _report(session: Session) -> Report:
    session.expire_all()
    (report,) = session.execute(select(Report)).scalars()
    return report


def _filed(client, session, world, st, joiner) -> int:
    """The reporter (resident_a) shares the photo's position; the joiner adds +1."""
    builders.login(client, world.resident_a)
    assert _post(client, world, st, jpeg(gps=True), keep_location="y").status_code == 302
    _as(client, joiner)
    assert _post(client, world, st, jpeg(gps=True, colour=(0, 90, 0)), note="加一备注",
                 keep_location="y").status_code == 302
    return int(_report(session).id or 0)


def test_a_joiner_sees_neither_the_reporters_position_nor_note_nor_photo(
        client, session, world, place) -> None:
    st, chief, joiner = place
    with clock.freeze(NOW):
        report_id = _filed(client, session, world, st, joiner)
        page = client.get(f"/reports/{report_id}").get_data(as_text=True)  # the joiner's
        assert "报告人备注" not in page
        assert 'data-testid="report-location"' not in page
        assert LOCATION not in page.split('data-testid="report-pluses"')[0]
        assert 'data-testid="report-photo"' not in page
        assert client.get(f"/reports/{report_id}/photo/before").status_code == 404
        assert "加一备注" in page  # their own +1, with its position and photo
        assert 'data-testid="report-plus-location"' in page
        assert 'data-testid="report-plus-photo"' in page
        assert 'data-testid="report-links"' in page  # "my reports", no stray separator
        assert ">· <" not in page
        for who in (chief, world.manager_a):  # the handlers see both people's
            _as(client, who)
            page = client.get(f"/reports/{report_id}").get_data(as_text=True)
            assert "报告人备注" in page
            assert f'data-testid="report-location">{LOCATION}<' in page
            assert 'data-testid="report-photo"' in page
            assert client.get(f"/reports/{report_id}/photo/before").status_code == 200
            assert "加一备注" in page
            assert 'data-testid="report-plus-location"' in page
        _as(client, world.resident_a)  # the reporter: their own, not the joiner's
        page = client.get(f"/reports/{report_id}").get_data(as_text=True)
        assert "报告人备注" in page
        assert f'data-testid="report-location">{LOCATION}<' in page
        assert client.get(f"/reports/{report_id}/photo/before").status_code == 200
        assert "加一备注" not in page
        assert 'data-testid="report-plus-location"' not in page


def test_an_escalated_report_shows_the_reporters_words_to_the_street(
        client, session, world, place) -> None:
    from community.reports import services as report_services

    st, _chief, joiner = place
    with clock.freeze(NOW):
        report_id = _filed(client, session, world, st, joiner)
    later = datetime(2026, 11, 24, 8, 0, tzinfo=SH)
    assert report_services.escalate_overdue(session, now=later) == 1
    session.commit()
    _as(client, world.area_admin_a)
    with clock.freeze(later):
        page = client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert "报告人备注" in page
    assert 'data-testid="report-location"' in page


def test_photos_are_thumbnails_linking_to_the_full_size(client, session, world,
                                                        place) -> None:
    st, chief, joiner = place
    with clock.freeze(NOW):
        report_id = _filed(client, session, world, st, joiner)
        _as(client, chief)
        page = client.get(f"/reports/{report_id}").get_data(as_text=True)
    links = re.findall(r'<a class="rp-thumb" href="([^"]+)"[^>]*><img class="rp-photo" '
                       r'src="([^"]+)"', page)
    assert len(links) == 2
    assert all(href == src for href, src in links)
    css = client.get("/static/css/reports.css").get_data(as_text=True)
    assert "max-height: 240px" in css
    assert 'data-testid="report-links"' in page
    assert ">· <" not in page
    assert '"report-links">·' not in page


def test_a_reporter_filing_their_open_report_again_is_told_nothing_was_merged(
        client, session, world, place) -> None:
    st, _chief, _joiner = place
    builders.login(client, world.resident_a)
    with clock.freeze(NOW):
        assert _post(client, world, st, jpeg()).status_code == 302
        first = _report(session).photo
        again = client.post("/reports/new", follow_redirects=True,
                            content_type="multipart/form-data", data={
                                "community_id": str(world.a.id), "station_id": str(st.id),
                                "kind": "broken", "note": "又坏了",
                                "photo": (io.BytesIO(jpeg(colour=(0, 0, 200))), "b.jpg")})
    html = again.get_data(as_text=True)
    assert "已合并" not in html
    assert "您已上报过这个问题" in html
    assert "新照片也未保存" in html
    assert "状态：已分派" in html
    report = _report(session)
    assert (report.plus_count, report.photo) == (0, first)
    client.post("/lang", data={"lang": "en"})
    with clock.freeze(NOW):
        en = client.post("/reports/new", follow_redirects=True,
                         content_type="multipart/form-data", data={
                             "community_id": str(world.a.id), "station_id": str(st.id),
                             "kind": "broken", "photo": (io.BytesIO(jpeg()), "b.jpg")})
    assert "You already reported this problem" in en.get_data(as_text=True)


def test_a_joiner_filing_again_is_told_and_a_photo_fills_only_a_bare_plus_one(
        client, session, world, place) -> None:
    st, _chief, joiner = place
    with clock.freeze(NOW):
        builders.login(client, world.resident_a)
        assert _post(client, world, st, jpeg()).status_code == 302
        report = _report(session)
        # A +1 without a photo (as a supervision log makes).
        session.add(ReportPlus(report_id=report.id, account_id=joiner.id, note="", at=NOW))
        report.plus_count = 1
        session.add(report)
        session.commit()
        _as(client, joiner)
        filled = _post(client, world, st, jpeg(colour=(0, 90, 0)))
        html = client.get(filled.headers["Location"]).get_data(as_text=True)
        assert "新照片已加到您的附议中" in html
        assert "已合并" not in html
        (plus,) = session.execute(select(ReportPlus)).scalars()
        session.refresh(plus)
        kept = plus.photo
        assert kept is not None
        again = client.post("/reports/new", follow_redirects=True,
                            content_type="multipart/form-data", data={
                                "community_id": str(world.a.id), "station_id": str(st.id),
                                "kind": "broken",
                                "photo": (io.BytesIO(jpeg(colour=(9, 9, 9))), "c.jpg")})
    html = again.get_data(as_text=True)
    assert "您已为这条随手拍附议过" in html
    assert "新照片也未保存" in html
    assert "已合并" not in html
    session.refresh(plus)
    assert plus.photo == kept
    assert _report(session).plus_count == 1


def test_my_reports_use_the_full_width_colon_in_chinese(client, session, world,
                                                        place) -> None:
    st, _chief, _joiner = place
    builders.login(client, world.resident_a)
    with clock.freeze(NOW):
        assert _post(client, world, st, jpeg()).status_code == 302
        zh = client.get("/reports/mine").get_data(as_text=True)
        client.post("/lang", data={"lang": "en"})
        en = client.get("/reports/mine").get_data(as_text=True)
    assert "处置时限：" in zh
    assert "处置时限:" not in zh
    assert "Deadline: " in en
