"""Report pages on both backends: a resident reports from the phone page with a photo, sees it
in "my reports", the chief handles it with an after-photo, the resident confirms; bad input
is refused on the form with nothing stored; the board, overdue list and deadlines answer
their people in Chinese and English and refuse others."""
from __future__ import annotations

import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from community import clock
from community.reports.models import Report, ReportPlus
from tests import builders
from tests.reports.photos import jpeg

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=SH)


@pytest.fixture
def place(session: Session, world: builders.World):
    st = builders.station(session, world.a, "玉龙页面投放点")
    chief = builders.account(session, "station_chief", world.a)
    st.chief_id = chief.id
    session.add(st)
    session.commit()
    return st, chief


def _reports(session: Session) -> int:
    session.expire_all()
    return session.execute(select(func.count()).select_from(Report)).scalar_one()


def _post_report(client, world, st, photo: bytes | None = None, **fields):
    data = {"community_id": str(world.a.id), "station_id": str(st.id), "kind": "overflow",
            "note": "垃圾桶满了", **fields}
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), "bin.jpg")
    return client.post("/reports/new", data=data, content_type="multipart/form-data")


def _filed_by_resident_a(client, world, st) -> int:
    """Resident A files an overflow report with a photo at NOW; its id."""
    builders.login(client, world.resident_a)
    with clock.freeze(NOW):
        resp = _post_report(client, world, st, jpeg())
    return int(resp.headers["Location"].rsplit("/", 1)[-1])


def test_report_handle_confirm_through_the_pages(client, session, world, place) -> None:
    st, chief = place
    builders.login(client, world.resident_a)
    with clock.freeze(NOW):
        page = client.get("/reports/new").get_data(as_text=True)
        assert 'capture="environment"' in page
        assert "玉龙页面投放点" in page
        assert "满溢" in page
        resp = _post_report(client, world, st, jpeg())
        assert resp.status_code == 302, resp.get_data(as_text=True)[:800]
        report_id = int(resp.headers["Location"].rsplit("/", 1)[-1])
        mine = client.get("/reports/mine").get_data(as_text=True)
        assert 'data-testid="my-report"' in mine
        assert client.get(f"/reports/{report_id}/photo/before").status_code == 200
        client.post("/logout")
        builders.login(client, chief)
        board = client.get("/reports/board").get_data(as_text=True)
        assert f'data-report="{report_id}"' in board, board[board.find("<main"):][:1500]
        assert client.post(f"/reports/{report_id}/start").status_code == 302
        resp = client.post(f"/reports/{report_id}/handle", content_type="multipart/form-data",
                           data={"note": "已清运", "photo": (io.BytesIO(jpeg()), "after.jpg")})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:800]
        again = client.post(f"/reports/{report_id}/handle", content_type="multipart/form-data",
                            data={"note": "再来", "photo": (io.BytesIO(jpeg()), "a.jpg")})
        assert again.status_code == 409
        assert "已经处理" in again.get_data(as_text=True) or \
            "already been handled" in again.get_data(as_text=True)
        # The chief did not report it: no confirming for them.
        assert client.post(f"/reports/{report_id}/confirm").status_code == 403
        client.post("/logout")
        builders.login(client, world.resident_a)
        detail = client.get(f"/reports/{report_id}").get_data(as_text=True)
        assert "已清运" in detail
        assert 'data-testid="confirm-submit"' in detail
        assert client.post(f"/reports/{report_id}/confirm").status_code == 302
    report = session.get(Report, report_id)
    assert report is not None
    session.refresh(report)
    assert report.status == "confirmed"


@pytest.mark.parametrize(("fields", "photo", "words"), [
    ({"kind": ""}, jpeg(), "请选择问题类型"),
    ({}, b"GIF89a not really", "照片须为"),
    ({}, None, "请拍摄或选择一张照片"),
    ({"station_id": "elsewhere"}, jpeg(), "请选择投放点"),
])
def test_bad_reports_are_refused_on_the_form_and_nothing_is_stored(
        client, session, world, place, fields, photo, words) -> None:
    st, _chief = place
    builders.login(client, world.resident_a)
    resp = _post_report(client, world, st, photo, **fields)
    assert resp.status_code in (409, 413, 422)
    assert words in resp.get_data(as_text=True)
    assert _reports(session) == 0


def test_an_oversized_photo_is_refused(client, session, world, place) -> None:
    st, _chief = place
    builders.login(client, world.resident_a)
    resp = _post_report(client, world, st, b"\xff\xd8" + b"0" * (5 * 1024 * 1024 + 10))
    assert resp.status_code == 413
    assert "5 MB" in resp.get_data(as_text=True)
    assert _reports(session) == 0


def test_a_resident_of_another_community_cannot_report_there(client, session, world,
                                                             place) -> None:
    st, _chief = place
    builders.login(client, world.resident_b)
    assert client.get(f"/reports/new?community_id={world.a.id}").status_code == 403
    assert _post_report(client, world, st, jpeg()).status_code == 403
    assert _reports(session) == 0


def test_board_overdue_list_and_deadlines_in_both_languages(client, session, world,
                                                            place) -> None:
    st, _chief = place
    builders.login(client, world.resident_a)
    with clock.freeze(NOW):
        assert _post_report(client, world, st, jpeg()).status_code == 302
    client.post("/logout")
    builders.login(client, world.area_admin_a)
    later = datetime(2026, 11, 21, 8, 0, tzinfo=SH)
    with clock.freeze(later):
        html = client.get("/reports/overdue").get_data(as_text=True)
        assert 'data-testid="overdue-row"' in html
        assert "rp-overdue" in html
        assert "逾期" in html
        client.post("/lang", data={"lang": "en"})
        en = client.get("/reports/overdue").get_data(as_text=True)
        assert "Overdue reports" in en
    client.post("/logout")
    builders.login(client, world.manager_a)
    with clock.freeze(later):
        board = client.get("/reports/board?status=all&kind=overflow").get_data(as_text=True)
        assert "rp-overdue" in board
        assert 'data-testid="counts-by-station"' in board
        assert "chart-report-weeks" in board
        assert client.get("/reports/overdue").status_code == 403
        assert client.get("/reports/deadlines").status_code == 403
    client.post("/logout")
    builders.login(client, world.city_admin)
    assert client.get("/reports/deadlines").status_code == 200
    resp = client.post("/reports/deadlines", data={
        "overflow": "2", "dumping": "24", "broken": "48", "missed_pickup": "12", "odour": "24",
        "no_offhours_point": "72", "mixed_collection": "24", "other": "48"})
    assert resp.status_code == 302
    bad = client.post("/reports/deadlines", data={"overflow": "0"})
    assert bad.status_code == 422


def test_the_managers_dashboard_shows_the_on_time_rate(client, session, world, place) -> None:
    st, chief = place
    report_id = _filed_by_resident_a(client, world, st)
    client.post("/logout")
    builders.login(client, chief)
    with clock.freeze(datetime(2026, 11, 20, 10, 0, tzinfo=SH)):  # within the 4 hours
        assert client.post(f"/reports/{report_id}/handle", content_type="multipart/form-data",
                           data={"note": "已清运", "photo": (io.BytesIO(jpeg()), "a.jpg")}
                           ).status_code == 302
    client.post("/logout")
    builders.login(client, world.manager_a)
    with clock.freeze(datetime(2026, 11, 21, 10, 0, tzinfo=SH)):
        html = client.get(f"/dashboard/community?community_id={world.a.id}").get_data(
            as_text=True)
    assert 'data-testid="dashboard-reports"' in html
    assert 'data-testid="reports-on-time">100.0%<' in html
    assert "随手拍按期处置率" in html


def test_a_resident_of_another_community_is_refused_on_every_route(client, session, world,
                                                                   place) -> None:
    st, _chief = place
    report_id = _filed_by_resident_a(client, world, st)
    client.post("/logout")
    builders.login(client, world.resident_b)
    for method, url in (("GET", f"/reports/{report_id}"),
                        ("GET", f"/reports/{report_id}/photo/before"),
                        ("POST", f"/reports/{report_id}/start"),
                        ("POST", f"/reports/{report_id}/handle"),
                        ("POST", f"/reports/{report_id}/confirm"),
                        ("POST", f"/reports/{report_id}/reopen"),
                        ("GET", f"/reports/board?community_id={world.a.id}"),
                        ("GET", "/reports/board"),
                        ("GET", "/reports/overdue"),
                        ("GET", "/reports/deadlines"),
                        ("GET", f"/reports/new?community_id={world.a.id}")):
        assert client.open(url, method=method).status_code in (403, 404), url
    mine = client.get("/reports/mine").get_data(as_text=True)
    assert "垃圾桶满了" not in mine
    report = session.get(Report, report_id)
    assert report is not None
    session.refresh(report)
    assert report.status == "assigned"


def test_a_report_with_every_field_wrong_shows_every_error_at_once(client, session, world,
                                                                   place) -> None:
    st, _chief = place
    builders.login(client, world.resident_a)
    html = _post_report(client, world, st, None, kind="",
                        station_id="elsewhere").get_data(as_text=True)
    assert "请选择问题类型" in html
    assert "请拍摄或选择一张照片" in html
    assert "请选择投放点" in html
    assert 'data-testid="photo-again"' not in html  # there was no photo to lose
    assert _reports(session) == 0


def test_a_refused_report_with_a_photo_asks_for_the_photo_again(client, session, world,
                                                                place) -> None:
    st, _chief = place
    builders.login(client, world.resident_a)
    resp = _post_report(client, world, st, jpeg(), kind="")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'data-testid="photo-again"' in html
    assert "请重新选择照片" in html
    client.post("/lang", data={"lang": "en"})
    en = _post_report(client, world, st, jpeg(), kind="").get_data(as_text=True)
    assert "Please choose the photo again" in en


def test_the_handle_form_shows_both_errors_and_its_url_reloads_to_the_report(
        client, session, world, place) -> None:
    st, chief = place
    report_id = _filed_by_resident_a(client, world, st)
    client.post("/logout")
    builders.login(client, chief)
    bad = client.post(f"/reports/{report_id}/handle", content_type="multipart/form-data",
                      data={"note": ""})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "请说明做了什么处理" in html
    assert 'data-testid="photo-error"' in html
    noted = client.post(f"/reports/{report_id}/handle", content_type="multipart/form-data",
                        data={"note": "", "photo": (io.BytesIO(jpeg()), "after.jpg")})
    assert 'data-testid="photo-again"' in noted.get_data(as_text=True)
    again = client.get(f"/reports/{report_id}/handle")
    assert again.status_code == 302
    assert again.headers["Location"].endswith(f"/reports/{report_id}")


def test_an_escalated_report_names_both_deadlines_on_every_page(client, session, world,
                                                                place) -> None:
    from community.reports import services as report_services

    st, chief = place
    report_id = _filed_by_resident_a(client, world, st)
    later = datetime(2026, 11, 21, 8, 0, tzinfo=SH)
    assert report_services.escalate_overdue(session, now=later) == 1
    session.commit()
    report = session.get(Report, report_id)
    assert report is not None
    session.refresh(report)
    due = report.due_at.astimezone(SH).strftime("%m-%d %H:%M")
    level_due = report.level_due_at.astimezone(SH).strftime("%m-%d %H:%M")
    assert due != level_due
    with clock.freeze(later):
        pages = {"detail": client.get(f"/reports/{report_id}").get_data(as_text=True),
                 "mine": client.get("/reports/mine").get_data(as_text=True)}
        client.post("/logout")
        builders.login(client, chief)
        pages["board"] = client.get("/reports/board").get_data(as_text=True)
        client.post("/logout")
        builders.login(client, world.area_admin_a)
        pages["overdue"] = client.get("/reports/overdue?all=1").get_data(as_text=True)
    for name, html in pages.items():
        start = html.find('data-testid="report-due"')
        assert start > 0, name
        assert due in html[start:start + 200], name
        level = html.find('data-testid="report-level-due"')
        assert level > 0, name
        assert level_due in html[level:level + 200], name
        assert "当前层级时限" in html, name


def _photos_on(html: str) -> list[str]:
    return re.findall(r'src="(/reports/\d+/plus/\d+/photo)"', html)


def test_a_plus_one_photo_is_kept_and_shown_to_the_handlers_and_its_taker(
        client, session, world, place) -> None:
    st, chief = place
    joiner = builders.account(session, "resident", world.a)
    session.commit()
    builders.login(client, world.resident_a)
    with clock.freeze(NOW):
        report_id = int(_post_report(client, world, st, jpeg()).headers["Location"]
                        .rsplit("/", 1)[-1])
        client.post("/logout")
        builders.login(client, joiner)
        # A bad photo on a +1 is refused on the form, in both languages, with nothing kept.
        bad = _post_report(client, world, st, b"not an image")
        assert bad.status_code == 422
        assert "照片须为 JPEG、PNG 或 WebP 图片" in bad.get_data(as_text=True)
        client.post("/lang", data={"lang": "en"})
        big = _post_report(client, world, st, b"\xff\xd8" + b"0" * (5 * 1024 * 1024 + 10))
        assert big.status_code == 413
        assert "larger than 5 MB" in big.get_data(as_text=True)
        client.post("/lang", data={"lang": "zh"})
        session.expire_all()
        assert session.execute(select(func.count()).select_from(ReportPlus)).scalar_one() == 0
        resp = _post_report(client, world, st, jpeg(colour=(0, 90, 0)), note="又满了")
        assert resp.status_code == 302
        assert resp.headers["Location"].endswith(f"/reports/{report_id}")
        mine = client.get(f"/reports/{report_id}").get_data(as_text=True)
        (url,) = _photos_on(mine)
        shown = client.get(url)
        assert shown.status_code == 200
        assert shown.data[:2] == b"\xff\xd8"
        client.post("/logout")
        # The one who reported first sees the +1 but not someone else's note or photo.
        builders.login(client, world.resident_a)
        page = client.get(f"/reports/{report_id}").get_data(as_text=True)
        assert 'data-testid="report-plus"' in page
        assert "又满了" not in page
        assert _photos_on(page) == []
        assert client.get(url).status_code == 404
        client.post("/logout")
        for who in (chief, world.manager_a):
            builders.login(client, who)
            assert _photos_on(client.get(f"/reports/{report_id}").get_data(as_text=True)) \
                == [url]
            assert client.get(url).status_code == 200
            client.post("/logout")
        builders.login(client, world.manager_b)
        assert client.get(url).status_code == 404
