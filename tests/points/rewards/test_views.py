"""Rewards pages: the residents' catalog, redemption and pickup QR (zh and en), every refusal
leaving the data unchanged, the stewards' pickup desk, and the managers' catalog, pictures
and redemptions. Residents only ever reach their own households' rewards."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select, update
from sqlmodel import Session, col

from community import clock
from community.auth import services as auth_services
from community.points import services
from community.points.models import LedgerEntry, PointsAccount, Redemption, RewardItem
from community.points.rewards import services as rewards
from community.points.rewards.schemas import RewardIn
from community.points.schemas import AdjustIn
from tests import builders
from tests.residents.helpers import decode_png, link, to_english

EGGS = "鸡蛋 10个"
VOUCHER = "物业费抵用券"


def actor(session: Session, acct):
    return auth_services.load_actor(session, acct.id)


@pytest.fixture
def shop(app: Flask, session: Session, world: builders.World):
    """Resident A is a member of A0 (50 points); eggs cost 20 (2 left), a voucher costs 80."""
    with app.test_request_context():
        hh = world.households_a[0]
        link(session, world.resident_a.id, builders.active_card(session, hh))
        manager = actor(session, world.manager_a)
        services.adjust(session, actor=manager, household_id=hh.id,
                        data=AdjustIn.parse(amount=50, reason="opening balance"))
        eggs = rewards.save_item(session, actor=manager, community_id=world.a.id,
                                 data=RewardIn.parse(name=EGGS, cost=20, stock=2,
                                                      description="新鲜土鸡蛋"))
        voucher = rewards.save_item(session, actor=manager, community_id=world.a.id,
                                    data=RewardIn.parse(name=VOUCHER, cost=80, stock=5))
        session.commit()
    return world, hh, eggs, voucher


# The helpers below read plain values or refresh rows with populate_existing, never
# expire_all: an expired World object would reload on its next use and so open a read
# transaction whose snapshot hides the app's later writes (and, on SQLite, holds a lock).

def snapshot(session: Session) -> tuple:
    """Everything a refusal must leave untouched (ends the read transaction)."""
    entries = session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()
    balances = tuple(session.execute(select(PointsAccount.balance).order_by(
        col(PointsAccount.id))).scalars())
    items = tuple(session.execute(select(RewardItem.id, RewardItem.stock, RewardItem.status,
                                         RewardItem.name, RewardItem.picture)
                                  .order_by(col(RewardItem.id))).all())
    reds = tuple(session.execute(select(Redemption.id, Redemption.status)
                                 .order_by(col(Redemption.id))).all())
    session.commit()
    return entries, balances, items, reds


def redemptions(session: Session) -> list[Redemption]:
    """Every redemption, freshly read (ends the read transaction)."""
    rows = list(session.execute(select(Redemption).order_by(col(Redemption.id))
                                .execution_options(populate_existing=True)).scalars())
    session.commit()
    return rows


def balance(session: Session, household_id: int) -> int:
    """The household's balance (ends the read transaction)."""
    value = services.balance(session, household_id)
    session.commit()
    return value


def client_id_for(page: str, item_id: int) -> str:
    """The hidden request id of an item's Redeem form on its confirm page."""
    form = re.search(rf'name="reward_id" value="{item_id}">\s*<input type="hidden" '
                     rf'name="client_id" value="([^"]+)"', page)
    assert form, page
    return form.group(1)


def redeem(client: FlaskClient, hh_id: int, item_id: int, client_id: str = "tap-1"):
    return client.post("/me/rewards/redeem", data={"household_id": str(hh_id),
                                                  "reward_id": str(item_id),
                                                  "client_id": client_id})


def png_bytes(size: tuple[int, int] = (16, 16)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


# --- Residents ------------------------------------------------------------------------------

def test_catalog_in_chinese_and_english(client: FlaskClient, session: Session, shop) -> None:
    world, hh, eggs, voucher = shop
    builders.login(client, world.resident_a)
    resp = client.get("/me/rewards")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    assert "<h1>积分兑换</h1>" in page
    assert '<span class="stat" data-testid="points-balance">50</span>' in page
    assert "1栋1单元101室" in page
    assert "玉龙社区" in page
    assert EGGS in page
    assert "新鲜土鸡蛋" in page
    assert "剩余 2 件" in page
    assert "兑换（20 积分）" in page
    # The voucher is too dear: no Redeem form for it, and the page says how many are missing.
    assert "还差 30 积分" in page
    assert f'name="reward_id" value="{voucher.id}"' not in page
    assert f'href="/me/rewards/{eggs.id}/confirm?household_id={hh.id}"' in page
    confirm = client.get(f"/me/rewards/{eggs.id}/confirm").get_data(as_text=True)
    client_id_for(confirm, eggs.id)
    assert 'data-testid="confirm-after"><strong>30</strong>' in confirm
    to_english(client, "/me/rewards")
    page = client.get("/me/rewards").get_data(as_text=True)
    assert "<h1>Rewards</h1>" in page
    assert "Redeem for 20 points" in page
    assert "2 left" in page
    assert "You need 30 more points" in page
    assert "积分兑换" not in page


def test_home_and_points_pages_link_to_rewards(client: FlaskClient, session: Session,
                                               shop) -> None:
    world, hh, _eggs, _voucher = shop
    builders.login(client, world.resident_a)
    for url in ("/me/", "/me/points"):
        page = client.get(url).get_data(as_text=True)
        link = re.search(r'<a href="([^"]+)"[^>]*data-testid="rewards-link">([^<]+)</a>', page)
        assert link is not None, url
        assert link.groups() == (f"/me/rewards?household_id={hh.id}", "积分兑换"), url


def test_redeem_twice_with_one_request_id_redeems_once(client: FlaskClient, session: Session,
                                                       shop) -> None:
    world, hh, eggs, _voucher = shop
    builders.login(client, world.resident_a)
    confirm = client.get(f"/me/rewards/{eggs.id}/confirm").get_data(as_text=True)
    client_id = client_id_for(confirm, eggs.id)
    first = redeem(client, hh.id, eggs.id, client_id)
    again = redeem(client, hh.id, eggs.id, client_id)  # the double tap
    reds = redemptions(session)
    assert len(reds) == 1
    red = reds[0]
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"] == \
        f"/me/rewards/redemptions/{red.id}"
    assert balance(session, hh.id) == 30
    assert (red.household_id, red.reward_id, red.status, red.client_id) == (
        hh.id, eggs.id, "reserved", client_id)

    resp = client.get(f"/me/rewards/redemptions/{red.id}")
    page = resp.get_data(as_text=True)
    assert resp.headers["Cache-Control"] == "no-store"
    assert "兑换成功。请在投放点向督导员出示此二维码领取奖品。" in page
    assert "待领取" in page
    code = red.pickup_code
    assert f'data-testid="pickup-code">{code[:5]}-{code[5:]}</p>' in page
    assert 'data-testid="cancel-button">取消兑换并退回 20 积分' in page
    png = client.get(f"/me/rewards/redemptions/{red.id}/qr.png")
    assert png.mimetype == "image/png"
    assert png.headers["Cache-Control"] == "no-store"
    assert decode_png(png.data) == [code]
    # A new page render is a new request: a second tap there redeems a second egg box.
    confirm = client.get(f"/me/rewards/{eggs.id}/confirm").get_data(as_text=True)
    other = client_id_for(confirm, eggs.id)
    assert other != client_id
    redeem(client, hh.id, eggs.id, other)
    assert len(redemptions(session)) == 2
    assert balance(session, hh.id) == 10


@pytest.mark.parametrize("case", ["balance", "stock", "retired", "not_yet"])
def test_each_refusal_shows_its_message_and_changes_nothing(
        app: Flask, client: FlaskClient, session: Session, shop, case: str) -> None:
    world, hh, eggs, voucher = shop
    item_id = eggs.id
    manager = actor(session, world.manager_a)
    expected = {"balance": "积分不足：该奖品需要 80 积分，您的余额为 50。",
                "stock": "抱歉，该奖品已兑完。", "retired": "该奖品当前不可兑换。",
                "not_yet": "该奖品当前不可兑换。"}[case]
    with app.test_request_context():
        if case == "balance":
            item_id = voucher.id
        elif case == "stock":
            rewards.save_item(session, actor=manager, community_id=world.a.id, item_id=eggs.id,
                              data=RewardIn.parse(name=EGGS, cost=20, stock=0))
        elif case == "retired":
            rewards.set_item_status(session, actor=manager, item_id=eggs.id, status="retired")
        else:
            today = clock.local(clock.now()).date()
            rewards.save_item(session, actor=manager, community_id=world.a.id, item_id=eggs.id,
                              data=RewardIn.parse(name=EGGS, cost=20, stock=2,
                                                   active_from=today + timedelta(days=3)))
        session.commit()
    builders.login(client, world.resident_a)
    before = snapshot(session)
    resp = redeem(client, hh.id, item_id)
    assert resp.status_code == 302
    assert resp.headers["Location"] == f"/me/rewards?household_id={hh.id}"
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f'<div class="flash flash-error" role="status">{expected}</div>' in page
    assert snapshot(session) == before


def test_refusal_in_english(client: FlaskClient, session: Session, shop) -> None:
    world, hh, _eggs, voucher = shop
    builders.login(client, world.resident_a)
    to_english(client, "/me/rewards")
    resp = redeem(client, hh.id, voucher.id)
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Not enough points: this reward costs 80 points and your balance is 50." in page


def test_resident_cancels_and_gets_the_points_back(client: FlaskClient, session: Session,
                                                   shop) -> None:
    world, hh, eggs, _voucher = shop
    builders.login(client, world.resident_a)
    redeem(client, hh.id, eggs.id)
    red = redemptions(session)[0]
    resp = client.post(f"/me/rewards/redemptions/{red.id}/cancel")
    assert resp.headers["Location"] == f"/me/rewards/redemptions/{red.id}"
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已取消兑换，积分已退回您的账户。" in page
    assert 'data-testid="redemption-status">已取消' in page
    assert 'data-testid="pickup-qr"' not in page
    assert 'data-testid="cancel-button"' not in page
    assert balance(session, hh.id) == 50
    before = snapshot(session)
    client.post(f"/me/rewards/redemptions/{red.id}/cancel")
    page = client.get(f"/me/rewards/redemptions/{red.id}").get_data(as_text=True)
    assert "该兑换已取消，积分已退回。" in page
    assert snapshot(session) == before


def test_my_redemptions_newest_first_with_status_in_words(client: FlaskClient,
                                                          session: Session, shop) -> None:
    world, hh, eggs, _voucher = shop
    builders.login(client, world.resident_a)
    redeem(client, hh.id, eggs.id, "a")
    redeem(client, hh.id, eggs.id, "b")
    first, second = redemptions(session)
    client.post(f"/me/rewards/redemptions/{first.id}/cancel")
    page = client.get("/me/rewards/redemptions").get_data(as_text=True)
    rows = re.findall(r'href="/me/rewards/redemptions/(\d+)"[^>]*>[^<]*</a>\s*'
                      r'<span class="rw-status [^"]*" data-testid="redemption-status">([^<]+)<',
                      page)
    assert rows == [(str(second.id), "待领取"), (str(first.id), "已取消")]
    to_english(client, "/me/rewards/redemptions")
    page = client.get("/me/rewards/redemptions").get_data(as_text=True)
    assert "Waiting for pickup" in page
    assert "Cancelled" in page


def test_a_resident_never_reaches_another_households_rewards(
        app: Flask, client: FlaskClient, session: Session, shop, tmp_path: Path) -> None:
    world, hh, eggs, _voucher = shop
    builders.login(client, world.resident_a)
    redeem(client, hh.id, eggs.id)
    red = redemptions(session)[0]
    with app.app_context():
        rewards.set_item_picture(session, actor=actor(session, world.manager_a), item_id=eggs.id,
                                 data=png_bytes(), picture_dir=tmp_path / "uploads" / "rewards")
        session.commit()
    client.post("/logout")
    # Resident B (community B, own household) tries A's ids.
    link(session, world.resident_b.id, builders.active_card(session, world.households_b[0]))
    builders.login(client, world.resident_b)
    before = snapshot(session)
    for url in (f"/me/rewards/redemptions/{red.id}", f"/me/rewards/redemptions/{red.id}/qr.png",
                f"/me/rewards?household_id={hh.id}",
                f"/me/rewards/redemptions?household_id={hh.id}"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/me/rewards/redemptions/{red.id}/cancel").status_code == 404
    assert redeem(client, hh.id, eggs.id, "b-tap").status_code == 403
    assert client.get(f"/me/rewards/items/{eggs.id}/picture").status_code == 403
    # B's own catalog shows nothing of A's.
    page = client.get("/me/rewards").get_data(as_text=True)
    assert "金浦社区" in page
    assert EGGS not in page
    assert "1栋1单元101室" not in page
    assert snapshot(session) == before
    client.post("/logout")
    builders.login(client, world.resident_a)  # the member sees the picture
    resp = client.get(f"/me/rewards/items/{eggs.id}/picture")
    assert resp.status_code == 200
    assert resp.mimetype == "image/png"


def test_without_a_household_the_rewards_pages_lead_home(client: FlaskClient,
                                                         world: builders.World) -> None:
    builders.login(client, world.resident_a)
    for url in ("/me/rewards", "/me/rewards/redemptions"):
        resp = client.get(url)
        assert (resp.status_code, resp.headers["Location"]) == (302, "/me/"), url
        # Someone else's household is not found, household or not.
        hh = world.households_a[0].id
        assert client.get(f"{url}?household_id={hh}").status_code == 404, url


# --- Stewards: pickup -----------------------------------------------------------------------

def test_steward_looks_up_and_hands_over_once(client: FlaskClient, session: Session,
                                              shop) -> None:
    world, hh, eggs, _voucher = shop
    builders.login(client, world.resident_a)
    redeem(client, hh.id, eggs.id)
    red = redemptions(session)[0]
    client.post("/logout")
    builders.login(client, world.steward_a)
    page = client.get("/steward/pickup").get_data(as_text=True)
    assert "<h1>奖品领取</h1>" in page
    assert 'data-testid="camera-toggle"' in page
    assert 'id="pickup-config"' in page
    typed = f"{red.pickup_code[:5].lower()}-{red.pickup_code[5:].lower()}"
    resp = client.get("/steward/pickup", query_string={"code": typed})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert f'data-testid="pickup-item">{EGGS}<' in page
    assert 'data-testid="pickup-address">1栋1单元101室<' in page
    assert 'data-testid="pickup-status">待领取<' in page
    assert 'data-testid="hand-over">确认交付<' in page

    resp = client.post("/steward/pickup/hand-over", data={"code": typed})
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f"已交付：{EGGS}，交给 1栋1单元101室。" in page
    assert 'data-testid="pickup-status">已领取<' in page
    assert 'data-testid="hand-over"' not in page
    red = redemptions(session)[0]
    assert (red.status, red.handed_over_by) == ("handed_over", world.steward_a.id)
    before = snapshot(session)
    again = client.post("/steward/pickup/hand-over", data={"code": red.pickup_code})
    assert again.status_code == 409
    assert "该奖品已领取。" in again.get_data(as_text=True)
    assert snapshot(session) == before


def test_pickup_refusals_have_their_messages(client: FlaskClient, session: Session,
                                             shop) -> None:
    world, hh, eggs, _voucher = shop
    builders.login(client, world.resident_a)
    redeem(client, hh.id, eggs.id, "a")
    redeem(client, hh.id, eggs.id, "b")
    cancelled, open_one = redemptions(session)
    client.post(f"/me/rewards/redemptions/{cancelled.id}/cancel")
    client.post("/logout")
    before = snapshot(session)
    builders.login(client, world.steward_a)
    resp = client.post("/steward/pickup/hand-over", data={"code": cancelled.pickup_code})
    assert resp.status_code == 409
    assert "该兑换已取消，积分已退回。" in resp.get_data(as_text=True)
    for bad in ("ZZZZZ-ZZZZZ", "hello"):
        resp = client.post("/steward/pickup/hand-over", data={"code": bad})
        assert resp.status_code == 404
        assert "没有与此领取码对应的奖品。" in resp.get_data(as_text=True)
        assert client.get("/steward/pickup", query_string={"code": bad}).status_code == 404
    client.post("/logout")
    builders.login(client, world.manager_b)  # hands over in B only
    for resp in (client.get("/steward/pickup", query_string={"code": open_one.pickup_code}),
                 client.post("/steward/pickup/hand-over", data={"code": open_one.pickup_code})):
        assert resp.status_code == 403
        page = resp.get_data(as_text=True)
        assert "此领取码属于其他社区。" in page
        assert EGGS not in page
    client.post("/logout")
    builders.login(client, world.resident_a)  # residents hand nothing over
    assert client.get("/steward/pickup").status_code == 403
    assert client.post("/steward/pickup/hand-over",
                       data={"code": open_one.pickup_code}).status_code == 403
    assert snapshot(session) == before


def test_pickup_page_in_english(client: FlaskClient, session: Session, shop) -> None:
    world, *_ = shop
    builders.login(client, world.steward_a)
    to_english(client, "/steward/pickup")
    page = client.get("/steward/pickup").get_data(as_text=True)
    assert "<h1>Reward pickup</h1>" in page
    assert "Pickup code" in page
    assert "This QR code is not a reward pickup code." in page  # the script's labels


def test_steward_nav_and_scan_page_link_to_pickup(client: FlaskClient,
                                                  world: builders.World) -> None:
    builders.login(client, world.steward_a)
    page = client.get("/steward/scan").get_data(as_text=True)
    assert 'data-testid="nav-pickup">奖品领取' in page
    assert 'href="/steward/pickup" class="tap-link" data-testid="pickup-link"' in page


# --- Managers -------------------------------------------------------------------------------

def test_manager_catalog_counts_and_nav(client: FlaskClient, session: Session, shop) -> None:
    world, hh, eggs, voucher = shop
    builders.login(client, world.resident_a)
    redeem(client, hh.id, eggs.id, "a")
    redeem(client, hh.id, eggs.id, "b")
    _first, second = redemptions(session)
    client.post("/logout")
    builders.login(client, world.steward_a)
    client.post("/steward/pickup/hand-over", data={"code": second.pickup_code})
    client.post("/logout")
    builders.login(client, world.manager_a)
    page = client.get("/manage/rewards").get_data(as_text=True)
    assert 'data-testid="nav-rewards">奖品' in page
    assert "奖品 · 玉龙社区" in page
    row = re.search(rf'data-item-id="{eggs.id}">(.*?)</tr>', page, re.S).group(1)
    assert 'data-testid="reward-stock">0<' in row
    assert 'data-testid="reward-reserved">1<' in row
    assert 'data-testid="reward-handed-over">1<' in row
    assert VOUCHER in page
    to_english(client, "/manage/rewards")
    page = client.get("/manage/rewards").get_data(as_text=True)
    assert "Reward items · 玉龙社区" in page
    assert "Handed over" in page


def test_manager_adds_an_item_with_a_picture(app: Flask, client: FlaskClient, session: Session,
                                             world: builders.World) -> None:
    builders.login(client, world.manager_a)
    assert client.get(f"/manage/rewards/new?community_id={world.a.id}").status_code == 200
    resp = client.post(f"/manage/rewards/new?community_id={world.a.id}", data={
        "name": "洗衣皂", "description": "两块装", "cost": "15", "stock": "60",
        "active_from": "2026-01-01", "active_until": "",
        "picture_file": (io.BytesIO(png_bytes()), "soap.png")},
        content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    item = session.execute(select(RewardItem)).scalar_one()
    session.commit()
    assert (item.name, item.description, item.cost, item.stock, item.community_id) == (
        "洗衣皂", "两块装", 15, 60, world.a.id)
    assert item.active_from.isoformat() == "2026-01-01"
    assert item.active_until is None
    assert item.picture
    assert item.picture.startswith(f"{world.a.id}/{item.id}-")
    stored = Path(app.config["UPLOAD_DIR"]) / "rewards" / item.picture
    assert Image.open(stored).size == (16, 16)
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "奖品 洗衣皂 已保存。" in page
    assert f'src="/manage/rewards/items/{item.id}/picture"' in page
    pic = client.get(f"/manage/rewards/items/{item.id}/picture")
    assert (pic.status_code, pic.mimetype) == (200, "image/png")


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"name": "", "cost": "5", "stock": "1"}, "name", "请填写奖品名称。"),
    ({"name": "皂", "cost": "", "stock": "1"}, "cost",
     "请填写兑换所需积分：1 到 100000 之间的整数。"),
    ({"name": "皂", "cost": "0", "stock": "1"}, "cost",
     "请填写兑换所需积分：1 到 100000 之间的整数。"),
    ({"name": "皂", "cost": "5", "stock": "-1"}, "stock",
     "请填写剩余库存：0 到 1000000 之间的整数。"),
    ({"name": "皂", "cost": "2.5", "stock": "1"}, "cost",
     "请填写兑换所需积分：1 到 100000 之间的整数。"),
    ({"name": "皂", "cost": "5", "stock": "1", "household_limit": "x"}, "household_limit",
     "请填写每户限兑次数：1 到 1000 之间的整数，或留空表示不限。"),
    ({"name": "皂", "cost": "5", "stock": "1", "active_from": "明天"}, "active_from",
     "请按 年-月-日 格式填写日期，或留空。"),
    ({"name": "皂", "cost": "5", "stock": "1", "active_from": "2026-12-02",
      "active_until": "2026-12-01"}, "active_until", "兑换截止日期不能早于开始日期。"),
    ({"name": "皂", "cost": "5", "stock": "1",
      "picture_file": b"not an image"}, "picture_file",
     "照片须为 JPEG、PNG 或 WebP 图片。"),
])
def test_item_form_errors_sit_next_to_their_field_and_store_nothing(
        app: Flask, client: FlaskClient, session: Session, world: builders.World, data: dict,
        field: str, message: str) -> None:
    builders.login(client, world.manager_a)
    before = snapshot(session)
    if "picture_file" in data:  # a fresh upload per run (the parameters serve both backends)
        data = {**data, "picture_file": (io.BytesIO(data["picture_file"]), "x.png")}
    resp = client.post(f"/manage/rewards/new?community_id={world.a.id}", data=data,
                       content_type="multipart/form-data")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    block = re.search(rf'<input[^>]*id="{field}"[^>]*>\s*(.*?)</div>', page, re.S)
    assert block, page
    assert message in block.group(1), block.group(1)
    assert snapshot(session) == before
    upload = Path(app.config["UPLOAD_DIR"]) / "rewards"
    assert not upload.exists() or not any(upload.rglob("*.*"))


def test_manager_edits_retires_and_restores(client: FlaskClient, session: Session,
                                            shop) -> None:
    world, hh, eggs, _voucher = shop
    builders.login(client, world.manager_a)
    page = client.get(f"/manage/rewards/items/{eggs.id}/edit").get_data(as_text=True)
    assert f'value="{EGGS}"' in page
    assert 'value="20"' in page
    resp = client.post(f"/manage/rewards/items/{eggs.id}/edit", data={
        "name": "鸡蛋 6个", "cost": "12", "stock": "30", "description": ""})
    assert resp.status_code == 302
    session.refresh(eggs)
    session.commit()
    assert (eggs.name, eggs.cost, eggs.stock, eggs.picture) == ("鸡蛋 6个", 12, 30, None)
    resp = client.post(f"/manage/rewards/items/{eggs.id}/status", data={"status": "retired"})
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "奖品 鸡蛋 6个 已下架，不能再兑换。" in page
    assert 'data-testid="reward-retired">已下架' in page
    client.post("/logout")
    builders.login(client, world.resident_a)
    assert "鸡蛋 6个" not in client.get("/me/rewards").get_data(as_text=True)
    client.post("/logout")
    builders.login(client, world.manager_a)
    resp = client.post(f"/manage/rewards/items/{eggs.id}/status", data={"status": "active"})
    assert "奖品 鸡蛋 6个 已重新上架。" in client.get(resp.headers["Location"]).get_data(
        as_text=True)
    session.refresh(eggs)
    session.commit()
    assert eggs.status == "active"


def test_picture_access_is_scoped(app: Flask, client: FlaskClient, session: Session,
                                  shop) -> None:
    world, hh, eggs, _voucher = shop
    with app.app_context():
        rewards.set_item_picture(session, actor=actor(session, world.manager_a), item_id=eggs.id,
                                 data=png_bytes(),
                                 picture_dir=Path(app.config["UPLOAD_DIR"]) / "rewards")
        session.commit()
    manage_url = f"/manage/rewards/items/{eggs.id}/picture"
    member_url = f"/me/rewards/items/{eggs.id}/picture"
    expected = [(world.manager_a, 200, 403), (world.steward_a, 200, 403),
                (world.manager_b, 403, 403), (world.resident_a, 403, 200),
                (world.resident_b, 403, 403)]
    for who, manage, member in expected:
        builders.login(client, who)
        assert client.get(manage_url).status_code == manage, who.username or who.phone
        assert client.get(member_url).status_code == member, who.username or who.phone
        client.post("/logout")
    builders.login(client, world.manager_a)
    assert client.get(f"/manage/rewards/items/{_voucher.id}/picture").status_code == 404


def test_manager_redemptions_filter_and_older_pages(app: Flask, client: FlaskClient,
                                                    session: Session, shop,
                                                    set_config) -> None:
    world, hh, eggs, _voucher = shop
    with app.test_request_context():
        services.adjust(session, actor=actor(session, world.manager_a), household_id=hh.id,
                        data=AdjustIn.parse(amount=100, reason="more"))
        rewards.save_item(session, actor=actor(session, world.manager_a),
                          community_id=world.a.id, item_id=eggs.id,
                          data=RewardIn.parse(name=EGGS, cost=20, stock=10))
        session.commit()
    builders.login(client, world.resident_a)
    for n in range(5):
        redeem(client, hh.id, eggs.id, f"tap-{n}")
    reds = redemptions(session)
    client.post(f"/me/rewards/redemptions/{reds[1].id}/cancel")
    client.post("/logout")
    set_config(PAGE_SIZE=2)
    builders.login(client, world.manager_a)

    def ids(page: str) -> list[int]:
        return [int(x) for x in re.findall(r'data-redemption-id="(\d+)"', page)]

    page = client.get(f"/manage/rewards/redemptions?community_id={world.a.id}").get_data(
        as_text=True)
    assert ids(page) == [reds[4].id, reds[3].id]
    older = re.search(r'href="([^"]+)" data-testid="redemptions-older"', page).group(1)
    page = client.get(older.replace("&amp;", "&")).get_data(as_text=True)
    assert ids(page) == [reds[2].id, reds[1].id]
    assert "1栋1单元101室" in page
    assert EGGS in page
    page = client.get("/manage/rewards/redemptions?status=cancelled").get_data(as_text=True)
    assert ids(page) == [reds[1].id]
    assert 'data-testid="redemptions-older"' not in page
    page = client.get("/manage/rewards/redemptions?status=reserved").get_data(as_text=True)
    assert ids(page) == [reds[4].id, reds[3].id]
    older = re.search(r'href="([^"]+)" data-testid="redemptions-older"', page).group(1)
    assert "status=reserved" in older
    page = client.get(older.replace("&amp;", "&")).get_data(as_text=True)
    assert ids(page) == [reds[2].id, reds[0].id]
    # Junk in the filter is ignored, not an error.
    page = client.get("/manage/rewards/redemptions?status=junk&before=x").get_data(as_text=True)
    assert ids(page) == [reds[4].id, reds[3].id]


def test_manager_cancels_only_with_a_reason(client: FlaskClient, session: Session,
                                            shop) -> None:
    world, hh, eggs, _voucher = shop
    builders.login(client, world.resident_a)
    redeem(client, hh.id, eggs.id)
    red = redemptions(session)[0]
    client.post("/logout")
    builders.login(client, world.manager_a)
    back = f"/manage/rewards/redemptions?community_id={world.a.id}"
    before = snapshot(session)
    for reason in ("", "   ", "x" * 201):
        resp = client.post(f"/manage/rewards/redemptions/{red.id}/cancel",
                           data={"reason": reason, "next": back})
        assert resp.headers["Location"] == back
        page = client.get(back).get_data(as_text=True)
        assert "请填写取消原因（不超过 200 字）：住户会在兑换记录中看到。" in page
        assert snapshot(session) == before
    resp = client.post(f"/manage/rewards/redemptions/{red.id}/cancel",
                       data={"reason": "奖品已停产", "next": back})
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "兑换已取消，已向住户退回 20 积分。" in page
    assert "奖品已停产" in page
    assert balance(session, hh.id) == 50
    red = redemptions(session)[0]
    assert (red.status, red.cancelled_by, red.cancel_reason) == (
        "cancelled", world.manager_a.id, "奖品已停产")
    before = snapshot(session)
    client.post(f"/manage/rewards/redemptions/{red.id}/cancel", data={"reason": "again"})
    assert "该兑换已取消，积分已退回。" in client.get(
        "/manage/rewards/redemptions").get_data(as_text=True)
    assert snapshot(session) == before
    client.post("/logout")
    builders.login(client, world.resident_a)  # the household sees why
    page = client.get(f"/me/rewards/redemptions/{red.id}").get_data(as_text=True)
    assert "原因：奖品已停产" in page


def test_back_to_the_confirm_page_after_redeeming_says_it_was_just_redeemed(
        client: FlaskClient, session: Session, shop) -> None:
    """QA: Back after 确认兑换 showed the confirm page again (lower balance) and a second tap
    redeemed a second box with no hint. The page is never cached (Back reads it anew) and
    names a redemption of the same item made in the last minutes and still waiting for
    pickup; the item's own limits still decide whether another may be redeemed."""
    world, hh, eggs, voucher = shop
    builders.login(client, world.resident_a)
    url = f"/me/rewards/{eggs.id}/confirm"
    first = client.get(url)
    assert first.headers["Cache-Control"] == "no-store"
    assert 'data-testid="recent-redemption"' not in first.get_data(as_text=True)
    at = clock.now()
    with clock.freeze(at):
        redeem(client, hh.id, eggs.id, client_id_for(first.get_data(as_text=True), eggs.id))
    [red] = redemptions(session)
    hhmm = clock.local(at).strftime("%H:%M")

    with clock.freeze(at + timedelta(minutes=2)):
        resp = client.get(url)  # the Back button: read again, not from a cache
        page = resp.get_data(as_text=True)
        assert resp.headers["Cache-Control"] == "no-store"
        assert f"您已于 {hhmm} 兑换过此奖品，正在等待领取。还要再兑换一份吗？" in page
        assert (f'<a class="tap-link" href="/me/rewards/redemptions/{red.id}" '
                f'data-testid="recent-redemption-link">查看它的领取码</a>') in page
        assert 'data-testid="confirm-balance">30<' in page
        assert 'data-testid="confirm-redeem-button"' in page  # another one is allowed
        # Another item has no such notice.
        other = client.get(f"/me/rewards/{voucher.id}/confirm").get_data(as_text=True)
        assert 'data-testid="recent-redemption"' not in other
        to_english(client, url)
        page = client.get(url).get_data(as_text=True)
        assert (f"You redeemed this reward at {hhmm}; it is waiting for pickup. "
                "Redeem another one?") in page
        client.post("/lang", data={"lang": "zh", "next": url})

    # The limit still rules: with one per household a month, the page says both, no button.
    session.execute(update(RewardItem).where(col(RewardItem.id) == eggs.id).values(
        household_limit=1, limit_period="month"))
    session.commit()
    with clock.freeze(at + timedelta(minutes=3)):
        page = client.get(url).get_data(as_text=True)
    assert f"您已于 {hhmm} 兑换过此奖品，正在等待领取。" in page
    assert "还要再兑换一份吗？" not in page
    assert 'data-testid="confirm-redeem-button"' not in page
    assert 'data-testid="reward-state">' in page

    # Long enough ago, or cancelled, it is not mentioned.
    with clock.freeze(at + timedelta(minutes=11)):
        assert 'data-testid="recent-redemption"' not in client.get(url).get_data(as_text=True)
    client.post(f"/me/rewards/redemptions/{red.id}/cancel")
    with clock.freeze(at + timedelta(minutes=3)):
        assert 'data-testid="recent-redemption"' not in client.get(url).get_data(as_text=True)
