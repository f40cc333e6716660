"""The steward scan page: who may open it, which stations it offers, both languages, the worker."""
from __future__ import annotations

import json
import re

from flask.testing import FlaskClient
from sqlmodel import Session

from tests import builders


def _config(html: str) -> dict:
    """The JSON block the page's script reads (stations, labels, API paths)."""
    match = re.search(r'<script type="application/json" id="scan-config">(.*?)</script>', html,
                      re.S)
    assert match, html[:2000]
    return json.loads(match.group(1))


def _english(client: FlaskClient) -> None:
    resp = client.post("/lang", data={"lang": "en", "next": "/steward/scan"})
    assert resp.status_code == 302


def test_steward_sees_own_stations_in_chinese(client: FlaskClient, session: Session,
                                              world: builders.World) -> None:
    """Chinese by default; only community A's open stations; labels and CSRF for the script."""
    east = builders.station(session, world.a, "东门投放亭", categories="kitchen,other")
    builders.station(session, world.a, "西门投放亭")
    closed = builders.station(session, world.a, "北门投放亭")
    closed.status = "suspended"
    builders.station(session, world.b, "金浦南门投放亭")
    session.commit()
    builders.login(client, world.steward_a)

    resp = client.get("/steward/scan")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "<h1>扫码投放</h1>" in html
    for text in ("厨余垃圾", "可回收物", "有害垃圾", "其他垃圾", "正确", "错误", "未评定",
                 "匿名计数", "同步", "待同步"):
        assert text in html, text
    assert "东门投放亭" in html
    assert "西门投放亭" in html
    assert "北门投放亭" not in html  # suspended: nothing can be recorded there
    assert "金浦南门投放亭" not in html
    assert re.search(r'<meta name="csrf-token" content="[^"]+">', html)

    config = _config(html)
    assert [s["name"] for s in config["stations"]] == ["东门投放亭", "西门投放亭"]
    assert config["stations"][0]["categories"] == ["kitchen", "other"]
    assert config["stations"][0]["id"] == east.id
    assert config["account"] == world.steward_a.id
    assert config["labels"]["errors"]["card_revoked"] == "卡已作废"
    assert config["labels"]["errors"]["card_unknown"] == "未知卡"
    assert config["labels"]["warnings"]["out_of_window"] == "过时投放"
    assert config["labels"]["warnings"]["recent_duplicate"] == "同户同类几分钟内已投放"
    assert config["urls"]["batch"] == "/api/v1/drops/batch"
    assert config["urls"]["wasm"] == "/static/vendor/zxing-wasm/zxing_reader.wasm"
    # CSP allows no inline code: every executable script is a file.
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert 'src="/static/vendor/zxing-wasm/reader.js"' in html


def test_page_in_english(client: FlaskClient, session: Session, world: builders.World) -> None:
    """After switching, the page and the script's labels are English."""
    builders.station(session, world.a, "东门投放亭")
    session.commit()
    builders.login(client, world.steward_a)
    _english(client)
    html = client.get("/steward/scan").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "<h1>Scan drops</h1>" in html
    for text in ("Kitchen waste", "Recyclables", "Hazardous waste", "Other waste",
                 "Correct", "Incorrect", "Ungraded", "Anonymous tally", "Sync"):
        assert text in html, text
    assert "厨余垃圾" not in html
    labels = _config(html)["labels"]
    assert labels["errors"]["card_revoked"] == "This card is revoked"
    assert labels["warnings"]["out_of_window"] == "Out-of-window drop"
    assert labels["ui"]["queued"].startswith("Saved on this phone")


def test_station_chief_and_manager_may_open(client: FlaskClient, session: Session,
                                            world: builders.World) -> None:
    """Station chiefs and managers record drops too; the manager sees the nav link."""
    builders.station(session, world.a, "东门投放亭")
    chief = builders.account(session, "station_chief", world.a)
    session.commit()
    builders.login(client, chief)
    assert "东门投放亭" in client.get("/steward/scan").get_data(as_text=True)
    client.post("/logout")
    builders.login(client, world.manager_a)
    html = client.get("/steward/scan").get_data(as_text=True)
    assert "东门投放亭" in html
    assert 'data-testid="nav-scan"' in html


def test_others_are_refused(client: FlaskClient, session: Session,
                            world: builders.World) -> None:
    """Residents and street admins cannot record drops: 403; anonymous users go to login."""
    builders.station(session, world.a, "东门投放亭")
    session.commit()
    resp = client.get("/steward/scan")
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]
    for acct in (world.resident_a, world.area_admin_a):
        builders.login(client, acct)
        resp = client.get("/steward/scan")
        assert resp.status_code == 403, acct.username
        assert "东门投放亭" not in resp.get_data(as_text=True)
        assert 'data-testid="nav-scan"' not in client.get("/me/").get_data(as_text=True)
        client.post("/logout")


def test_steward_of_b_never_sees_a(client: FlaskClient, session: Session,
                                   world: builders.World) -> None:
    """A steward of B gets B's stations only, and an empty-state hint when B has none."""
    steward_b = builders.account(session, "steward", world.b)
    builders.station(session, world.a, "东门投放亭")
    session.commit()
    builders.login(client, steward_b)
    html = client.get("/steward/scan").get_data(as_text=True)
    assert "东门投放亭" not in html
    assert _config(html)["stations"] == []
    assert 'data-testid="no-stations"' in html

    builders.station(session, world.b, "金浦南门投放亭")
    session.commit()
    config = _config(client.get("/steward/scan").get_data(as_text=True))
    assert [s["name"] for s in config["stations"]] == ["金浦南门投放亭"]


def test_service_worker_script(client: FlaskClient, session: Session,
                               world: builders.World) -> None:
    """Served from /steward/ with its scope header, never cached, pre-caching page and scanner."""
    resp = client.get("/steward/sw.js")
    assert resp.status_code == 200
    assert resp.mimetype == "application/javascript"
    assert resp.headers["Service-Worker-Allowed"] == "/steward/"
    assert "no-cache" in resp.headers["Cache-Control"]
    body = resp.get_data(as_text=True)
    first = body.splitlines()[0]
    assert first.startswith("self.SW_CONFIG = ")
    assert first.endswith(";")
    config = json.loads(first[len("self.SW_CONFIG = "):-1])
    assert config["page"] == "/steward/scan"
    assert set(config["precache"]) >= {
        "/steward/scan", "/static/js/scan.js", "/static/js/scan-queue.js",
        "/static/css/app.css", "/static/vendor/zxing-wasm/reader.js",
        "/static/vendor/zxing-wasm/zxing_reader.wasm"}
    assert re.fullmatch(r"[0-9a-f]{16}", config["version"])
    assert "addEventListener(\"fetch\"" in body
    # The version is stable while nothing changes (so phones do not re-install for nothing).
    again = client.get("/steward/sw.js").get_data(as_text=True).splitlines()[0]
    assert again == first


def test_station_list_ignores_other_communities_even_for_a_street_manager(
        client: FlaskClient, session: Session, world: builders.World) -> None:
    """A manager's grant covers their community only: B's manager never sees A's stations."""
    builders.station(session, world.a, "东门投放亭")
    session.commit()
    builders.login(client, world.manager_b)
    resp = client.get("/steward/scan")
    assert resp.status_code == 200
    assert "东门投放亭" not in resp.get_data(as_text=True)
