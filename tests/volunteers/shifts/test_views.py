"""Shift pages in zh and en: the steward's phone pages and calendar feed, the managers' rota."""
from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import icalendar
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlmodel import Session, col

from community import clock
from community.volunteers.models import Shift, ShiftAssignment, Steward
from tests import builders
from tests.volunteers.shifts import builders as rb
from tests.volunteers.shifts.builders import SH

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=SH)  # a Wednesday
TOMORROW = NOW.date() + timedelta(days=1)
STATION = "东门投放亭"


@pytest.fixture(autouse=True)
def _frozen():
    with clock.freeze(NOW):
        yield


@pytest.fixture
def rota(session: Session, world: builders.World):
    """A station of A, a steward, a shift tomorrow 07-09 (needs 2) and one 18-20."""
    st = builders.station(session, world.a, STATION)
    st.location = "3栋南侧"
    sw = rb.steward(session, world.a, name="stewardx")
    morning = rb.shift(session, st, datetime.combine(TOMORROW, time(7), tzinfo=SH), needed=2)
    evening = rb.shift(session, st, datetime.combine(TOMORROW, time(18), tzinfo=SH))
    session.commit()
    return st, sw, morning, evening


def account_of(session: Session, sw: Steward):
    from community.auth.models import Account

    return session.get(Account, sw.account_id)


def rows(session: Session) -> list[tuple]:
    session.commit()  # end the read snapshot: the app wrote since
    session.expire_all()
    t = ShiftAssignment.__table__
    return [tuple(r) for r in session.execute(select(t).order_by(t.c.id)).all()]


# --- The steward's phone pages ------------------------------------------------------------

def test_my_shifts_in_chinese_and_english(client: FlaskClient, session: Session, rota) -> None:
    _st, sw, morning, _evening = rota
    rb.assignment(session, morning, sw)
    session.commit()
    builders.login(client, account_of(session, sw))
    body = client.get("/steward/shifts").get_data(as_text=True)
    assert "我的班次" in body
    assert STATION in body
    assert "已报名" in body
    assert 'data-testid="cancel-shift"' in body
    assert 'data-testid="nav-my-shifts"' in body
    rb.english(client)
    body = client.get("/steward/shifts").get_data(as_text=True)
    assert "My shifts" in body
    assert "Booked" in body
    assert "Coming up" in body


def test_non_steward_sees_an_explanation(client: FlaskClient, world: builders.World) -> None:
    builders.login(client, world.resident_a)
    for url in ("/steward/shifts", "/steward/shifts/open"):
        body = client.get(url).get_data(as_text=True)
        assert 'data-testid="not-steward"' in body


def test_sign_up_from_the_open_list(client: FlaskClient, session: Session, rota) -> None:
    _st, sw, morning, _evening = rota
    builders.login(client, account_of(session, sw))
    body = client.get("/steward/shifts/open").get_data(as_text=True)
    assert STATION in body
    assert "开放报名的班次" in body
    assert body.count('data-testid="sign-up"') == 2
    resp = client.post(f"/steward/shifts/{morning.id}/sign-up",
                       data={"next": "/steward/shifts/open"})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/steward/shifts/open")
    body = client.get("/steward/shifts/open").get_data(as_text=True)
    assert "你已报名该班次" in body
    assert 'data-testid="on-shift"' in body
    assert body.count('data-testid="sign-up"') == 1
    (row,) = rows(session)
    assert row[1:4] == (morning.id, sw.id, "signed_up")


def test_sign_up_refusal_shows_a_message_and_stores_nothing(client: FlaskClient,
                                                             session: Session, rota) -> None:
    _st, sw, _morning, evening = rota
    builders.login(client, account_of(session, sw))
    with clock.freeze(evening.starts_at - timedelta(minutes=100)):
        resp = client.post(f"/steward/shifts/{evening.id}/sign-up", follow_redirects=True)
    assert resp.status_code == 200
    assert "班次开始前 2 小时截止报名和取消" in resp.get_data(as_text=True)
    assert rows(session) == []


def test_cancel_from_my_shifts(client: FlaskClient, session: Session, rota) -> None:
    _st, sw, morning, _evening = rota
    rb.assignment(session, morning, sw)
    session.commit()
    builders.login(client, account_of(session, sw))
    resp = client.post(f"/steward/shifts/{morning.id}/cancel", follow_redirects=True)
    assert "你在该班次的名额已取消" in resp.get_data(as_text=True)
    assert rows(session)[0][3] == "cancelled"


def test_foreign_steward_cannot_sign_up(client: FlaskClient, session: Session,
                                        world: builders.World, rota) -> None:
    _st, _sw, morning, _evening = rota
    foreign = rb.steward(session, world.b)
    session.commit()
    builders.login(client, account_of(session, foreign))
    assert client.post(f"/steward/shifts/{morning.id}/sign-up").status_code == 403
    assert STATION not in client.get("/steward/shifts/open").get_data(as_text=True)
    assert rows(session) == []


# --- The calendar feed --------------------------------------------------------------------

def _key(session: Session, sw: Steward) -> str:
    session.commit()
    session.expire_all()
    key = session.get(Steward, sw.id).calendar_key  # type: ignore[union-attr]
    assert key
    return key


def test_calendar_feed_parses_and_marks_cancelled_shifts(client: FlaskClient, session: Session,
                                                         rota) -> None:
    _st, sw, morning, evening = rota
    rb.assignment(session, morning, sw)
    rb.assignment(session, evening, sw, status="cancelled")
    session.commit()
    builders.login(client, account_of(session, sw))
    body = client.get("/steward/shifts").get_data(as_text=True)
    key = _key(session, sw)
    assert f"/steward/calendar/{key}.ics" in body
    client.post("/logout")
    resp = client.get(f"/steward/calendar/{key}.ics")  # no login needed
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-store" in resp.headers["Cache-Control"]
    raw = resp.get_data()
    assert b"\r\n" in raw
    assert raw.startswith(b"BEGIN:VCALENDAR")
    cal = icalendar.Calendar.from_ical(raw)
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    assert len(events) == 2
    by_start = {e.decoded("dtstart"): e for e in events.values()}
    m = by_start[morning.starts_at]
    assert m.decoded("dtend") == morning.ends_at
    assert m.decoded("dtstart").utcoffset() == timedelta(0)
    assert STATION in str(m["summary"])
    assert str(m["location"]) == "3栋南侧"
    assert str(m["status"]) == "CONFIRMED"
    assert str(by_start[evening.starts_at]["status"]) == "CANCELLED"
    assert b"DTSTART:20261118T230000Z" in raw  # tomorrow 07:00 in Shanghai, written in UTC
    assert all(str(uid).startswith(f"shift-{i}-") for uid, i in
               zip(sorted(events, key=lambda u: int(u.split("-")[1])),
                   sorted([morning.id, evening.id]), strict=True))


def test_new_calendar_link_makes_the_old_one_404(client: FlaskClient, session: Session,
                                                 rota) -> None:
    _st, sw, morning, _evening = rota
    rb.assignment(session, morning, sw)
    session.commit()
    builders.login(client, account_of(session, sw))
    client.get("/steward/shifts")
    old = _key(session, sw)
    resp = client.post(f"/steward/calendar/{sw.id}/new-link", follow_redirects=True)
    assert "新的日历链接已生成" in resp.get_data(as_text=True)
    new = _key(session, sw)
    assert new != old
    assert client.get(f"/steward/calendar/{old}.ics").status_code == 404
    assert client.get(f"/steward/calendar/{new}.ics").status_code == 200
    assert client.get("/steward/calendar/not-a-key.ics").status_code == 404


def test_someone_elses_calendar_link_cannot_be_renewed(client: FlaskClient, session: Session,
                                                       world: builders.World, rota) -> None:
    _st, sw, _morning, _evening = rota
    other = rb.steward(session, world.a)
    session.commit()
    builders.login(client, account_of(session, other))
    client.get("/steward/shifts")
    assert client.post(f"/steward/calendar/{sw.id}/new-link").status_code == 404


# --- Managers' pages ----------------------------------------------------------------------

def test_roster_and_generate_in_chinese_and_english(client: FlaskClient, session: Session,
                                                    world: builders.World) -> None:
    builders.station(session, world.a, STATION)
    session.commit()
    builders.login(client, world.manager_a)
    body = client.get("/manage/rota").get_data(as_text=True)
    assert "值守排班" in body
    assert 'data-testid="nav-rota"' in body
    resp = client.post(f"/manage/rota/generate?community_id={world.a.id}",
                       data={"weeks": "1", "needed": "2"}, follow_redirects=True)
    body = resp.get_data(as_text=True)
    assert "已生成班次：新增 13 个" in body
    # This week (Monday to Sunday): Wednesday evening and four more days; then Mon and Tue.
    assert body.count('data-testid="roster-shift"') == 9
    nxt = client.get(f"/manage/rota?community_id={world.a.id}&week=2026-11-23")
    assert nxt.get_data(as_text=True).count('data-testid="roster-shift"') == 4
    session.expire_all()
    assert {s.needed for s in session.execute(select(Shift)).scalars()} == {2}
    bad = client.post(f"/manage/rota/generate?community_id={world.a.id}",
                      data={"weeks": "0", "needed": "1"})
    assert bad.status_code == 422
    rb.english(client)
    body = client.get(f"/manage/rota?community_id={world.a.id}").get_data(as_text=True)
    assert "Rota" in body
    assert "Generate shifts" in body


def test_manager_assigns_and_unassigns_on_the_shift_page(client: FlaskClient, session: Session,
                                                         world: builders.World, rota) -> None:
    _st, sw, morning, _evening = rota
    other = rb.steward(session, world.a, name="stewardy")
    third = rb.steward(session, world.a, name="stewardz")
    session.commit()
    builders.login(client, world.manager_a)
    body = client.get(f"/manage/rota/shifts/{morning.id}").get_data(as_text=True)
    assert "stewardx" in body
    assert "stewardy" in body
    assert STATION in body
    for who in (sw, other):
        resp = client.post(f"/manage/rota/shifts/{morning.id}/assign",
                           data={"steward_id": str(who.id)})
        assert resp.status_code == 302
    full = client.post(f"/manage/rota/shifts/{morning.id}/assign",
                       data={"steward_id": str(third.id)})
    assert full.status_code == 422
    assert "该班次所需的督导员已满" in full.get_data(as_text=True)
    assert len(rows(session)) == 2
    low = client.post(f"/manage/rota/shifts/{morning.id}/needed", data={"needed": "1"})
    assert low.status_code == 422
    assert client.post(f"/manage/rota/shifts/{morning.id}/needed",
                       data={"needed": "3"}).status_code == 302
    first = rows(session)[0][0]
    resp = client.post(f"/manage/rota/assignments/{first}/unassign", follow_redirects=True)
    assert "已将该督导员移出班次" in resp.get_data(as_text=True)
    assert [r[3] for r in rows(session)] == ["cancelled", "signed_up"]
    rb.english(client)
    body = client.get(f"/manage/rota/shifts/{morning.id}").get_data(as_text=True)
    assert "Assign a steward" in body
    assert "Stewards needed" in body


def test_coverage_calendar_shows_states_and_rate(client: FlaskClient, session: Session,
                                                 world: builders.World, rota) -> None:
    st, sw, morning, _evening = rota
    yesterday = NOW.date() - timedelta(days=1)
    staffed = rb.shift(session, st, datetime.combine(yesterday, time(7), tzinfo=SH))
    unstaffed = rb.shift(session, st, datetime.combine(yesterday, time(18), tzinfo=SH))
    rb.assignment(session, staffed, sw, status="done", checked_in_at=staffed.starts_at,
                  checked_out_at=staffed.ends_at)
    rb.assignment(session, morning, sw)
    session.commit()
    builders.login(client, world.manager_a)
    body = client.get(f"/manage/rota/coverage?community_id={world.a.id}").get_data(as_text=True)
    assert "督导到位率" in body
    assert "50.0%" in body
    assert f'data-shift-id="{staffed.id}"' in body
    cells = {state: body.count(f'data-testid="coverage-cell" data-state="{state}"')
             for state in ("staffed", "unstaffed", "short", "empty")}
    assert cells == {"staffed": 1, "unstaffed": 1, "short": 1, "empty": 1}
    del unstaffed
    rb.english(client)
    body = client.get(f"/manage/rota/coverage?community_id={world.a.id}").get_data(as_text=True)
    assert "Coverage calendar" in body
    assert "Steward coverage" in body
    empty_week = client.get(f"/manage/rota/coverage?community_id={world.a.id}&week=2027-01-04")
    assert "not available" in empty_week.get_data(as_text=True)


def test_at_risk_page(client: FlaskClient, session: Session, world: builders.World,
                      rota) -> None:
    _st, sw, morning, evening = rota
    rb.assignment(session, evening, sw)
    session.commit()
    builders.login(client, world.manager_a)
    body = client.get("/manage/rota/at-risk").get_data(as_text=True)
    assert "人手不足" in body or "48" in body
    assert f'data-shift-id="{morning.id}"' in body
    assert f'data-shift-id="{evening.id}"' not in body
    rb.english(client)
    body = client.get("/manage/rota/at-risk").get_data(as_text=True)
    assert "fewer stewards signed up than needed" in body


def test_steward_cannot_open_manager_pages(client: FlaskClient, session: Session,
                                           rota) -> None:
    _st, sw, morning, _evening = rota
    builders.login(client, account_of(session, sw))
    assert client.get("/manage/rota").status_code == 403
    assert client.get(f"/manage/rota/shifts/{morning.id}").status_code == 403
    assert client.post(f"/manage/rota/shifts/{morning.id}/assign",
                       data={"steward_id": str(sw.id)}).status_code == 403
    assert rows(session) == []


def test_times_on_pages_are_local(client: FlaskClient, session: Session,
                                  world: builders.World, rota) -> None:
    _st, _sw, morning, _evening = rota
    assert morning.starts_at.astimezone(UTC).hour == 23
    builders.login(client, world.manager_a)
    body = client.get(f"/manage/rota?community_id={world.a.id}").get_data(as_text=True)
    assert "07:00–09:00" in body
    assert "23:00–01:00" not in body
    assert session.execute(select(Shift).where(col(Shift.id) == morning.id)).scalar_one()


def test_open_list_filters_by_station_free_places_and_availability(
        client: FlaskClient, session: Session, rota, world: builders.World) -> None:
    """Grouped by day; a second station's shift, a full one, and the steward's Thursday
    availability 06:00-10:00 (tomorrow is a Thursday: the 07-09 shift fits, 18-20 not)."""
    st, sw, morning, evening = rota
    west = builders.station(session, world.a, "西门投放亭")
    later = rb.shift(session, west, datetime.combine(TOMORROW + timedelta(days=1), time(7),
                                                     tzinfo=SH))
    other = rb.steward(session, world.a, name="stewardy")
    rb.assignment(session, evening, other)  # evening: full (needs 1)
    sw.availability = [{"weekday": TOMORROW.weekday(), "start": "06:00", "end": "10:00"}]
    session.add(sw)
    session.commit()
    builders.login(client, account_of(session, sw))

    def shown(query: str = "") -> list[int]:
        body = client.get("/steward/shifts/open" + query).get_data(as_text=True)
        return [int(x) for x in re.findall(r'data-testid="open-shift" data-shift-id="(\d+)"',
                                           body)]

    assert shown() == [morning.id, evening.id, later.id]
    body = client.get("/steward/shifts/open").get_data(as_text=True)
    assert body.count('data-testid="open-day"') == 2  # grouped by day
    assert shown(f"?station_id={west.id}") == [later.id]
    assert shown("?free=1") == [morning.id, later.id]
    assert shown("?fits=1") == [morning.id]
    assert shown(f"?fits=1&station_id={west.id}") == []
    body = client.get(f"/steward/shifts/open?fits=1&station_id={west.id}").get_data(
        as_text=True)
    assert "没有符合筛选条件的班次。" in body
    assert "已按筛选条件隐藏 3 个班次" in body
    assert shown("?station_id=abc") == [morning.id, evening.id, later.id]  # no filter
    rb.english(client)
    body = client.get("/steward/shifts/open?free=1").get_data(as_text=True)
    assert "1 shift hidden by the filters" in body
    assert "Fits my availability" in body
    assert st.id
