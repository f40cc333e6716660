"""Collection pages and the pickup API over HTTP (both backends): the collector's day, the
batch API's JSON error codes, scope against a collector of another street and a resident of
another community on every new route, the QR sheet decoded by a real QR decoder."""
from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from PIL import Image
from sqlmodel import Session, func, select

from community import clock
from community.collection import rules
from community.collection.models import Collection, CollectionLine, PickupVersion
from community.households import qr
from tests import builders
from tests.collection import helpers as h
from tests.collection import scope_cases
from tests.scope import Case

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=SH)
MORNING = datetime(2026, 11, 21, 6, 30, tzinfo=SH)
API = "/collector/api/collections"


@pytest.fixture(autouse=True)
def frozen():
    """The pages read clock.now(): a Saturday morning after the 06:00-07:00 pickups."""
    with clock.freeze(NOW):
        yield


@pytest.fixture
def scene(session: Session, world: builders.World):
    """Two tagged stations of A, a collector of street A and one of street B."""
    st = h.tagged_station(session, world.a, "东门投放点")
    st2 = h.tagged_station(session, world.a, "西门投放点", pickup=((19, 20),))
    mine = h.collector(session, world.street_a)
    other = h.collector(session, world.street_b)
    session.commit()
    return world, st, st2, mine, other


def _count(session: Session, model) -> int:
    session.commit()
    n = session.exec(select(func.count()).select_from(model)).one()
    session.commit()
    return n


def test_collector_lands_on_the_day_and_sees_done_and_not_done(client, session, scene) -> None:
    w, st, st2, mine, _other = scene
    builders.login(client, mine)
    resp = client.get("/")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/collector/")
    out = client.post(API, json={"collections": [h.pickup(h.token(session, st), MORNING)]})
    assert out.status_code == 200
    assert out.json["results"][0]["ok"] is True
    page = client.get("/collector/").get_data(as_text=True)
    done = re.findall(r'data-station="(\d+)" data-done="(yes|no)"', page)
    assert dict(done) == {str(st.id): "yes", str(st2.id): "no"}
    assert 'data-testid="nav-collect"' in page
    assert "今日收运" in page
    client.post("/lang", data={"lang": "en", "next": "/"})
    english = client.get("/collector/").get_data(as_text=True)
    assert "Today's pickups" in english or "Today&#39;s pickups" in english
    assert "1 of 2 stations collected" in english


def test_batch_answers_json_error_codes_and_stores_nothing_bad(client, session, scene) -> None:
    w, st, _st2, mine, _other = scene
    builders.login(client, mine)
    tag = h.token(session, st)
    items = [h.pickup(tag, MORNING, {"category": "kitchen", "bins": 1, "kg": -2}),
             h.pickup(tag, MORNING + timedelta(days=1)),
             h.pickup("Z" * 32, MORNING)]
    resp = client.post(API, json={"collections": items})
    assert resp.status_code == 200
    codes = [r.get("error") for r in resp.json["results"]]
    assert codes == ["invalid", "time_in_future", "station_unknown"]
    assert "lines.0.kg" in resp.json["results"][0]["fields"]
    assert _count(session, Collection) == 0
    assert client.post(API, data="nope", content_type="application/json").status_code == 422
    assert client.post(API, data="{}", content_type="text/plain").status_code == 415


def test_a_pickup_synced_twice_over_http_is_stored_once(client, session, scene) -> None:
    _w, st, _st2, mine, _other = scene
    builders.login(client, mine)
    body = {"collections": [h.pickup(h.token(session, st), MORNING, client_id="phone-1-0001")]}
    first, again = client.post(API, json=body), client.post(API, json=body)
    assert [first.json["results"][0]["replay"], again.json["results"][0]["replay"]] == [
        False, True]
    assert _count(session, Collection) == 1
    assert _count(session, CollectionLine) == 1


def test_the_printed_qr_decodes_to_a_code_that_records(client, session, scene) -> None:
    w, st, _st2, mine, _other = scene
    builders.login(client, w.manager_a)
    page = client.get(f"/collection/tags?community_id={w.a.id}").get_data(as_text=True)
    text = re.search(rf'data-station="{st.id}".*?data-testid="tag-text">([^<]+)<', page,
                     re.S).group(1)
    assert text == rules.tag_text(h.token(session, st))
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.render_png(text))))
    assert [r.text for r in decoded] == [text]
    client.post("/logout")
    builders.login(client, mine)
    resp = client.post(API, json={"collections": [h.pickup(decoded[0].text, MORNING)]})
    assert resp.json["results"][0]["ok"] is True, resp.json


def test_the_short_code_under_the_qr_is_typed_in_any_case(client, session, scene) -> None:
    """The tag sheet prints an 8-character code (4-4, no look-alikes) under each QR; typed in
    lower case with a space instead of the dash it records, and the QR's long token (stickers
    printed before the short code) still records too."""
    w, st, _st2, mine, other = scene
    builders.login(client, w.manager_a)
    page = client.get(f"/collection/tags?community_id={w.a.id}").get_data(as_text=True)
    printed = re.search(rf'data-station="{st.id}".*?data-testid="tag-code">([^<]+)<', page,
                        re.S).group(1)
    group = "[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}"
    assert re.fullmatch(f"{group}-{group}", printed)
    assert "收运码" in page
    client.post("/logout")
    builders.login(client, mine)
    collect = client.get("/collector/collect").get_data(as_text=True)
    assert 'placeholder="收运码"' in collect
    typed = printed.lower().replace("-", " ")
    resp = client.post(API, json={"collections": [h.pickup(typed, MORNING),
                                                  h.pickup(h.token(session, st), MORNING)]})
    assert [r["ok"] for r in resp.json["results"]] == [True, True], resp.json
    assert {r["station_id"] for r in resp.json["results"]} == {st.id}
    # The page asks the server about a code it does not know: unknown vs outside the area.
    found = client.get("/collector/api/station", query_string={"code": typed})
    assert (found.status_code, found.json["id"]) == (200, st.id)
    unknown = client.get("/collector/api/station", query_string={"code": "ZZZZ-ZZZZ"},
                         headers={"Accept": "application/json"})
    assert (unknown.status_code, unknown.json["error"]) == (404, "station_unknown")
    assert "没有投放点使用此收运码" in unknown.json["message"]
    client.post("/logout")
    builders.login(client, other)
    outside = client.get("/collector/api/station", query_string={"code": printed},
                         headers={"Accept": "application/json"})
    assert (outside.status_code, outside.json["error"]) == (403, "station_outside_area")
    # Reprinting replaces the short code too: the old one stops working.
    client.post("/logout")
    builders.login(client, w.manager_a)
    client.post(f"/collection/stations/{st.id}/tag")
    client.post("/logout")
    builders.login(client, mine)
    again = client.post(API, json={"collections": [h.pickup(typed, MORNING)]})
    assert again.json["results"][0]["error"] == "station_unknown"


def test_manager_sets_pickup_windows_from_today_on(client, session, scene) -> None:
    w, st, _st2, _mine, _other = scene
    builders.login(client, w.manager_a)
    url = f"/collection/stations/{st.id}/pickup"
    bad = client.post(url, data={"ranges": "6点", "effective_from": "2026-11-21",
                                 "weekdays": ["0"]})
    assert bad.status_code == 422
    past = client.post(url, data={"ranges": "05:00-06:00", "effective_from": "2026-11-01",
                                  "weekdays": ["0"]})
    assert past.status_code == 422
    ok = client.post(url, data={"ranges": "05:00-06:00, 18:00-18:30",
                                "effective_from": "2026-11-23", "weekdays": ["0", "1"]})
    assert ok.status_code == 302
    session.commit()
    versions = session.exec(select(PickupVersion).where(
        PickupVersion.station_id == st.id)).all()
    assert sorted(str(v.effective_from) for v in versions) == ["2020-01-01", "2026-11-23"]


def test_figures_show_punctuality_and_contamination(client, session, scene) -> None:
    w, st, st2, mine, _other = scene
    builders.login(client, mine)
    client.post(API, json={"collections": [
        h.pickup(h.token(session, st), MORNING,
                 {"category": "kitchen", "bins": 2, "kg": 70, "contaminated_bins": 1,
                  "photo": h.photo_url()})]})
    client.post("/logout")
    builders.login(client, w.manager_a)
    page = client.get(f"/collection/?community_id={w.a.id}&month=2026-11").get_data(
        as_text=True)
    assert 'data-testid="contamination-bar"' in page
    # The Content-Security-Policy blocks inline styles: the chart sizes bars by attributes.
    chart = re.search(r'data-testid="contamination-chart".*?</svg>', page, re.S).group(0)
    assert 'style="' not in chart
    assert re.search(r'<rect [^>]*width="170\.0"', chart)
    assert 'data-testid="contamination-photo"' in page  # the evidence is one click away
    row = re.search(rf'data-station="{st.id}">(.*?)</tr>', page, re.S).group(1)
    # November 1..21: 21 scheduled 06:00-07:00 pickups, one kept.
    assert "(1/21)" in row
    # 19:00-20:00 at the other station: today's window is not over, so not missed yet.
    evening = re.search(rf'data-station="{st2.id}">(.*?)</tr>', page, re.S).group(1)
    assert "0% (0/20)" in evening
    line = session.exec(select(CollectionLine)).one()
    session.commit()
    photo = client.get(f"/collection/lines/{line.id}/photo")
    assert photo.status_code == 200
    assert photo.data[:2] == b"\xff\xd8"


# --- Scope: every new route, as a collector of street B and as a resident of B -------------

def _collector_b_expectations(w, cases: dict[str, list[Case]]) -> dict[str, list[Case]]:
    """A collector of street B: collector pages answer without A's stations; the batch
    answers with a per-item refusal; manager pages are refused."""
    out = dict(cases)
    out["collection.day"] = [Case("GET", "/collector/", expect=(200,),
                                  absent=scope_cases.ABSENT)]
    out["collection.collect"] = [Case("GET", "/collector/collect", expect=(200,),
                                      absent=scope_cases.ABSENT)]
    out["collection.record_batch"] = [Case("POST", API, expect=(200,),
                                           json=cases["collection.record_batch"][0].json)]
    out["collection.figures"] = [Case("GET", f"/collection/?community_id={w.a.id}"),
                                 Case("GET", "/collection/")]
    return out


@pytest.mark.parametrize("who", ["collector_b", "resident_b"])
def test_every_new_route_refuses_outsiders(client, session, world, who) -> None:
    cases = scope_cases.cases(world)
    if who == "collector_b":
        acct = h.collector(session, world.street_b)
        session.commit()
        cases = _collector_b_expectations(world, cases)
    else:
        acct = world.resident_b
    builders.login(client, acct)
    before = (_count(session, Collection), _count(session, PickupVersion))
    for endpoint, items in cases.items():
        for case in items:
            kwargs = {"json": case.json} if case.json is not None else (
                {"data": case.data} if case.data is not None else {})
            resp = client.open(case.url, method=case.method, **kwargs)
            # A resident holds no collection role: refused everywhere.
            expect = case.expect if who == "collector_b" else (403, 404)
            assert resp.status_code in expect, (who, endpoint, case.url, resp.status_code)
            body = resp.get_data(as_text=True)
            for text in case.absent:
                assert text not in body, (who, endpoint, text)
            if endpoint == "collection.record_batch" and resp.status_code == 200:
                assert json.loads(body)["results"][0]["error"] == "station_outside_area"
    assert (_count(session, Collection), _count(session, PickupVersion)) == before


def test_dashboard_station_table_shows_pickup_contamination_apart(client, session,
                                                                  scene) -> None:
    w, st, _st2, mine, _other = scene
    for _ in range(3):
        builders.drop(session, st, w.households_a[0], happened_at=MORNING.replace(hour=7),
                      quality="correct")
    session.commit()
    builders.login(client, mine)
    client.post(API, json={"collections": [
        h.pickup(h.token(session, st), MORNING,
                 {"category": "kitchen", "bins": 2, "kg": 70, "contaminated_bins": 1,
                  "photo": h.photo_url()})]})
    client.post("/logout")
    builders.login(client, w.manager_a)
    page = client.get(f"/dashboard/community?community_id={w.a.id}&month=2026-11")
    row = re.search(rf'data-station-id="{st.id}">(.*?)</tr>', page.get_data(as_text=True),
                    re.S).group(1)
    assert re.search(r'data-col="kitchen_accuracy">100', row)  # the stewards' own grading
    assert re.search(r'data-col="pickup_contaminated">1 · 75', row)  # 3 / (3 + 1)


def test_pickup_page_lists_the_last_half_hours_pickups_for_the_repeat_question(
        client, session, scene, world) -> None:
    """The pickup page's config names the pickups of the last 30 minutes at the collector's
    stations (anyone's, from any phone; each station and category with its time), so the page
    asks "collected at HH:MM, record another?"; older ones and other streets' are left out."""
    w, st, st2, mine, other = scene
    colleague = h.collector(session, world.street_a)
    far = h.tagged_station(session, world.b, "B站")
    session.commit()
    builders.login(client, colleague)
    recent = NOW - timedelta(minutes=10)
    old = NOW - timedelta(minutes=40)
    for at, station, category in ((recent, st, "kitchen"), (old, st2, "kitchen")):
        out = client.post(API, json={"collections": [h.pickup(
            h.token(session, station), at, {"category": category, "bins": 1, "kg": 30})]})
        assert out.json["results"][0]["ok"] is True
    client.post("/logout")
    builders.login(client, other)
    assert client.post(API, json={"collections": [h.pickup(h.token(session, far), recent)]}
                       ).json["results"][0]["ok"] is True
    client.post("/logout")
    builders.login(client, mine)
    page = client.get("/collector/collect").get_data(as_text=True)
    config = json.loads(re.search(
        r'<script type="application/json" id="collect-config">(.*?)</script>', page, re.S)[1])
    assert config["repeat_minutes"] == 30
    # The question is the page's script's, in the page (no browser confirm()); without
    # JavaScript the page records nothing and says so.
    assert 'role="alertdialog"' in page
    assert "本页面需要 JavaScript 来记录收运" in page
    assert config["recent"] == [{"station": str(st.id), "category": "kitchen",
                                 "at": int(recent.timestamp() * 1000)}]
