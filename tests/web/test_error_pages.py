"""Error pages that help: what happened, what to do, and how long to wait (429), in both
languages; an oversized upload keeps the rest of the form."""
from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, func, select

from community.points.models import RewardItem
from tests import builders
from tests.households.helpers import count_households, upload

MB = 1024 * 1024


def _english(client: FlaskClient, path: str = "/login") -> None:
    client.post("/lang", data={"lang": "en", "next": path})


def test_404_says_what_to_do_with_a_way_back(client: FlaskClient, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    resp = client.get("/no/such/page", headers={"Referer": "http://localhost/manage/households"})
    assert resp.status_code == 404
    page = resp.get_data(as_text=True)
    assert 'data-testid="error-title">找不到页面<' in page
    assert "网址可能输错或已过期" in page
    assert 'href="/manage/households" data-history-back' in page
    assert "返回首页" in page
    assert "js/history-back.js" in page
    _english(client, "/no/such/page")
    page = client.get("/no/such/page").get_data(as_text=True)
    assert "Page not found" in page
    assert "The address may be mistyped" in page
    # A foreign referrer is not offered as the way back.
    page = client.get("/no/such/page", headers={"Referer": "https://evil.example/x"}).get_data(
        as_text=True)
    assert "evil.example" not in page
    assert 'data-testid="error-back"' not in page


def test_403_names_the_account_and_who_can_help(client: FlaskClient,
                                                world: builders.World) -> None:
    builders.login(client, world.resident_a)
    resp = client.get("/admin/accounts")
    assert resp.status_code == 403
    page = resp.get_data(as_text=True)
    assert "您无法打开这个页面" in page
    assert "请联系社区管理员" in page
    assert f"您当前登录的账号是 {world.resident_a.display_name}" in page
    _english(client, "/admin/accounts")
    page = client.get("/admin/accounts").get_data(as_text=True)
    assert "You cannot open this page" in page
    assert "ask your community manager" in page


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_429_says_how_long_to_wait(client: FlaskClient, session: Session) -> None:
    person = builders.account(session, phone="13900000031")
    session.commit()
    builders.login(client, person)
    for _ in range(10):
        client.post("/me/link", data={"short_code": "ZZZZ-ZZZZ"})
    resp = client.post("/me/link", data={"short_code": "ZZZZ-ZZZZ"})
    assert resp.status_code == 429
    wait = int(resp.headers["Retry-After"])
    assert 60 < wait <= 3601  # "10 per hour": the rest of the hour's window (rounded up)
    page = resp.get_data(as_text=True)
    assert "短时间内尝试次数过多" in page
    minutes = -(-wait // 60)
    assert f"请等待 {minutes} 分钟后再试。" in page
    _english(client, "/me/link")
    resp = client.post("/me/link", data={"short_code": "ZZZZ-ZZZZ"})
    assert f"Please wait {-(-int(resp.headers['Retry-After']) // 60)} minutes" in resp.get_data(
        as_text=True)
    api = client.post("/me/link", data={"short_code": "ZZZZ-ZZZZ"},
                      headers={"Accept": "application/json"})
    assert api.status_code == 429
    body = api.get_json()
    assert body["error"] == "rate_limited"
    assert body["details"]["retry_after"] == int(api.headers["Retry-After"])


def _png(size: int) -> bytes:
    """A PNG header followed by padding: large enough to be refused for its size."""
    return b"\x89PNG\r\n\x1a\n" + b"\0" * (size - 8)


def test_oversized_reward_picture_keeps_the_form(client: FlaskClient, session: Session,
                                                 world: builders.World) -> None:
    builders.login(client, world.manager_a)
    resp = client.post(f"/manage/rewards/new?community_id={world.a.id}", data={
        "name": "环保袋", "description": "帆布，可折叠", "cost": "25", "stock": "40",
        "active_from": "2026-01-01", "active_until": "",
        "picture_file": (io.BytesIO(_png(6 * MB)), "bag.png")},
        content_type="multipart/form-data")
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "照片超过 5 MB" in page or "5 MB" in page
    for typed in ("环保袋", "帆布，可折叠", 'value="25"', 'value="40"', "2026-01-01"):
        assert typed in page, typed
    assert session.exec(select(func.count()).select_from(RewardItem)).one() == 0
    session.commit()


def test_oversized_household_list_keeps_the_form(client: FlaskClient, session: Session,
                                                 world: builders.World) -> None:
    builders.login(client, world.manager_b)
    before = count_households(session, world.b.id)
    big = "楼栋,单元,室,人数\n".encode() + b"1,1,101,2\n" * (6 * MB // 10)
    resp = upload(client, world.b.id, big)
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "超过 5 MB" in page
    assert f'<option selected value="{world.b.id}">' in page or (
        f'value="{world.b.id}" selected' in page)
    assert count_households(session, world.b.id) == before


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 4000}])
def test_body_over_the_request_limit_gets_a_page_with_a_way_back(
        client: FlaskClient, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    resp = client.post(f"/manage/rewards/new?community_id={world.a.id}", data={
        "name": "环保袋", "cost": "25", "stock": "40",
        "picture_file": (io.BytesIO(_png(8000)), "bag.png")},
        content_type="multipart/form-data",
        headers={"Referer": f"http://localhost/manage/rewards/new?community_id={world.a.id}"})
    assert resp.status_code == 413
    page = resp.get_data(as_text=True)
    assert "上传的文件过大" in page
    assert "浏览器通常会保留您填写的内容" in page
    assert f'href="/manage/rewards/new?community_id={world.a.id}" data-history-back' in page


@pytest.mark.parametrize(("who", "path", "zh", "en"), [
    # QA: community manager yulong was told to ask the community manager.
    ("manager_a", "/manage/ratings/policy", "请联系所在街道或区镇管理员（或市级管理员）",
     "ask your street or district administrator (or the city administrator)"),
    ("area_admin_a", "/manage/reasons", "请联系市级管理员为您的账号开通",
     "ask the city administrator to give your account"),
    ("city_admin", "/steward/scan", "其他市级管理员可以为您的账号开通",
     "Another city administrator can give your account that role"),
    ("resident_a", "/manage/ratings/policy", "请联系社区管理员", "ask your community manager"),
])
def test_403_advice_fits_the_readers_role(client: FlaskClient, world: builders.World,
                                          who: str, path: str, zh: str, en: str) -> None:
    builders.login(client, getattr(world, who))
    resp = client.get(path)
    assert resp.status_code == 403
    page = resp.get_data(as_text=True)
    advice = page[page.index('data-testid="error-advice"'):].split("</p>")[0]
    assert zh in advice
    if who != "resident_a":
        assert "社区管理员" not in advice  # never "ask yourself"
    _english(client, path)
    page = client.get(path).get_data(as_text=True)
    advice = page[page.index('data-testid="error-advice"'):].split("</p>")[0]
    assert en in advice
    if who != "resident_a":
        assert "community manager" not in advice
