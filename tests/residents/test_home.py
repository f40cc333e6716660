"""The resident home page and the card images: own household only, Chinese and English."""
from __future__ import annotations

from sqlmodel import Session

from community.auth import services as auth_services
from community.households import qr
from community.households import services as households_services
from community.households.codes import format_code
from community.residents import services as residents_services
from tests import builders
from tests.residents.helpers import decode_png, link, to_english


def test_home_without_household_offers_the_link_button(client, session: Session,
                                                       world: builders.World) -> None:
    builders.login(client, world.resident_a)
    resp = client.get("/me/")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "您的账号还没有绑定住户。" in page
    assert 'data-testid="link-button"' in page
    assert 'href="/me/join"' in page
    assert "加入我家" in page
    assert 'data-testid="card-qr"' not in page
    to_english(client)
    page = client.get("/me/").get_data(as_text=True)
    assert "Join my household" in page
    assert "not linked to a household yet" in page


def test_home_shows_address_qr_code_and_points(client, session: Session,
                                               world: builders.World) -> None:
    hh = world.households_a[0]
    card = builders.active_card(session, hh)
    link(session, world.resident_a.id, card)
    builders.login(client, world.resident_a)
    page = client.get("/me/").get_data(as_text=True)
    # Phone-first markup: the viewport meta and the resident layout with a fluid QR image.
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    assert 'class="container resident"' in page
    assert 'class="qr"' in page
    assert "我的首页" in page
    assert "玉龙社区" in page
    assert "1栋1单元101室" in page
    short = format_code(card.short_code)
    assert f'<p class="code resident-code" data-testid="short-code">{short}</p>' in page
    assert "积分余额" in page
    assert '<span class="stat" data-testid="points-balance">0</span>' in page
    assert "投放时请向督导员出示此码。" in page
    assert 'data-testid="link-button"' not in page
    assert 'data-testid="link-another"' in page
    to_english(client)
    page = client.get("/me/").get_data(as_text=True)
    assert "My home" in page
    assert "Points balance" in page
    assert "Show this code to the steward at the drop station." in page


def test_points_balance_comes_from_points_balance(client, session: Session,
                                                  world: builders.World, monkeypatch) -> None:
    """The home page shows whatever the ledger's balance function returns."""
    link(session, world.resident_a.id, builders.active_card(session, world.households_a[0]))
    monkeypatch.setattr(residents_services, "points_balance", lambda _s, _h: 42)
    builders.login(client, world.resident_a)
    assert 'data-testid="points-balance">42<' in client.get("/me/").get_data(as_text=True)


def test_card_images_decode_to_own_token_and_are_not_cached(client, session: Session,
                                                            world: builders.World) -> None:
    card = builders.active_card(session, world.households_a[0])
    link(session, world.resident_a.id, card)
    builders.login(client, world.resident_a)
    png = client.get("/me/card.png")
    assert png.status_code == 200
    assert png.mimetype == "image/png"
    assert png.headers["Cache-Control"] == "no-store"
    assert decode_png(png.data) == [card.token]
    svg = client.get("/me/card.svg")
    assert svg.status_code == 200
    assert svg.mimetype == "image/svg+xml"
    assert svg.headers["Cache-Control"] == "no-store"
    assert svg.data == qr.render_svg(card.token)


def test_family_members_see_the_same_card(client, session: Session,
                                          world: builders.World) -> None:
    hh = world.households_a[0]
    card = builders.active_card(session, hh)
    spouse = builders.account(session, phone="13900000021")
    session.commit()
    link(session, world.resident_a.id, card)
    outcome = link(session, spouse.id, card, with_code=False)  # a request for the manager
    assert outcome.result == "pending"
    manager = auth_services.load_actor(session, world.manager_a.id)
    residents_services.decide_link(session, actor=manager, member_id=outcome.member.id,
                                   approve=True)
    session.commit()
    for person in (world.resident_a, spouse):
        builders.login(client, person)
        assert decode_png(client.get("/me/card.png").data) == [card.token]
        client.post("/logout")


def test_a_resident_never_gets_another_households_card(client, session: Session,
                                                       world: builders.World) -> None:
    card_a = builders.active_card(session, world.households_a[0])
    card_b = builders.active_card(session, world.households_b[0])
    link(session, world.resident_a.id, card_a)
    link(session, world.resident_b.id, card_b)
    builders.login(client, world.resident_b)
    assert decode_png(client.get("/me/card.png").data) == [card_b.token]
    assert client.get("/me/card.svg").data == qr.render_svg(card_b.token)
    # Asking for A's household by id is refused as if it did not exist.
    for url in (f"/me/card.svg?household_id={world.households_a[0].id}",
                f"/me/card.png?household_id={world.households_a[0].id}",
                f"/me/card.png?household_id={world.households_b[1].id}"):
        assert client.get(url).status_code == 404, url
    page = client.get("/me/").get_data(as_text=True)
    assert format_code(card_b.short_code) in page
    assert format_code(card_a.short_code) not in page
    assert "1栋1单元101室" not in page
    assert card_a.token not in page
    assert card_b.token not in page


def test_no_household_no_card(client, session: Session, world: builders.World) -> None:
    builders.login(client, world.resident_a)
    assert client.get("/me/card.svg").status_code == 404
    assert client.get("/me/card.png").status_code == 404
    # A manager has no household either.
    client.post("/logout")
    builders.login(client, world.manager_a)
    assert client.get("/me/card.svg").status_code == 404


def test_pending_request_gives_no_card(client, session: Session, world: builders.World) -> None:
    link(session, world.resident_a.id, builders.active_card(session, world.households_a[0]),
         with_code=False)
    builders.login(client, world.resident_a)
    assert client.get("/me/card.svg").status_code == 404
    # One state (QA: the home said "waiting for review" and also "your account is not linked
    # to a household yet… Join my household"): the wait, and that a slip may be used meanwhile.
    page = client.get("/me/").get_data(as_text=True)
    assert 'data-testid="pending-notice"' in page
    assert "正在等待社区管理员审核" in page
    assert 'data-testid="no-household"' not in page
    assert "还没有绑定住户" not in page
    assert 'data-testid="link-button"' not in page
    assert "有加入凭证或家人的邀请？现在就可以用它加入，无需等待审核。" in page
    assert '<a href="/me/join" class="tap-link" data-testid="link-another">我有加入码</a>' in page
    to_english(client, "/me/")
    page = client.get("/me/").get_data(as_text=True)
    assert "is waiting for the community manager" in page
    assert "not linked to a household yet" not in page
    assert "You can join with it now, without waiting." in page


def test_revoked_card_disappears_and_the_new_one_shows(client, session: Session,
                                                       world: builders.World) -> None:
    hh = world.households_a[0]
    old = builders.active_card(session, hh)
    link(session, world.resident_a.id, old)
    manager = auth_services.load_actor(session, world.manager_a.id)
    households_services.revoke_card(session, actor=manager, household_id=hh.id)
    session.commit()
    builders.login(client, world.resident_a)
    page = client.get("/me/").get_data(as_text=True)
    assert 'data-testid="no-card"' in page
    assert "您家目前没有有效的户卡" in page
    assert client.get("/me/card.svg").status_code == 404
    new = households_services.issue_card(session, household=hh)
    session.commit()
    assert decode_png(client.get("/me/card.png").data) == [new.token]


def test_two_households_each_with_its_card(client, session: Session,
                                           world: builders.World) -> None:
    cards = [builders.active_card(session, hh) for hh in world.households_a[:2]]
    for card in cards:
        link(session, world.resident_a.id, card)
    builders.login(client, world.resident_a)
    page = client.get("/me/").get_data(as_text=True)
    assert page.count('data-testid="household-card"') == 2
    assert decode_png(client.get("/me/card.png").data) == [cards[0].token]  # default: first
    for hh, card in zip(world.households_a[:2], cards, strict=True):
        assert decode_png(client.get(f"/me/card.png?household_id={hh.id}").data) == [card.token]


def test_pages_need_login(client, world: builders.World) -> None:
    for url in ("/me/", "/me/link", "/me/join", "/me/join/i/x", "/me/household/1",
                "/me/card.svg", "/me/card.png", "/manage/links", "/manage/links/households/1"):
        resp = client.get(url)
        assert resp.status_code == 302, url
        assert "/login" in resp.headers["Location"], url
