"""Card actions (revoke, reissue) and card files (PNG, SVG, PDF sheets) of the manager pages."""
from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image
from sqlmodel import Session, select

from community.errors import CardRevoked, Forbidden
from community.households import services
from community.households.models import Card, Household
from tests import builders
from tests.households.helpers import actor_of, audits, english, read


def _card(session: Session, hh: Household) -> Card:
    [card] = read(session, select(Card).where(Card.household_id == hh.id,
                                              Card.status == "active"))
    return card


def _resolve(session: Session, code: str) -> tuple[Card, Household]:
    """Resolve as a steward's request would: in a session of its own, fresh from the database."""
    with Session(session.get_bind()) as fresh:
        return services.resolve_card(fresh, code, community_id=None)


def _resolve_fails(session: Session, code: str) -> None:
    with pytest.raises(CardRevoked):
        _resolve(session, code)


def test_revoke_stops_token_and_code_at_once(client, session: Session,
                                             world: builders.World) -> None:
    hh = world.households_a[0]
    old = _card(session, hh)
    builders.login(client, world.manager_a)
    resp = client.post(f"/manage/households/{hh.id}/card/revoke",
                       data={"next": "/manage/households?q=1-1-101"})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/manage/households?q=1-1-101")
    _resolve_fails(session, old.token)
    _resolve_fails(session, old.short_code)
    _resolve_fails(session, f"{old.short_code[:4]}-{old.short_code[4:]}".lower())
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f"1栋1单元101室 的户卡 {old.short_code[:4]}-{old.short_code[4:]} 已作废" in page
    assert "无户卡" in page
    assert 'data-testid="card-revoke"' not in page  # nothing left to revoke
    assert audits(session, "card.revoked")[-1].target_id == hh.id
    # A second revoke has nothing to act on.
    assert client.post(f"/manage/households/{hh.id}/card/revoke").status_code == 404


def test_reissue_replaces_the_card(client, session: Session, world: builders.World) -> None:
    hh = world.households_a[1]
    old = _card(session, hh)
    builders.login(client, world.manager_a)
    resp = client.post(f"/manage/households/{hh.id}/card/reissue")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/manage/households?community_id={world.a.id}")
    new = _card(session, hh)
    assert new.id != old.id
    assert new.token != old.token
    assert new.short_code != old.short_code
    _resolve_fails(session, old.token)
    _resolve_fails(session, old.short_code)
    card, household = _resolve(session, new.token)
    assert (card.id, household.id) == (new.id, hh.id)
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f"补发新户卡 {new.short_code[:4]}-{new.short_code[4:]}" in page
    english(client)
    client.post(f"/manage/households/{hh.id}/card/reissue")
    assert "the old card no longer works" in client.get("/manage/households").get_data(
        as_text=True)


def test_redirect_target_must_be_local(client, world: builders.World) -> None:
    hh = world.households_a[0]
    builders.login(client, world.manager_a)
    resp = client.post(f"/manage/households/{hh.id}/card/reissue",
                       data={"next": "https://evil.example/x"})
    assert "evil" not in resp.headers["Location"]


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_card_image(client, session: Session, world: builders.World, fmt: str) -> None:
    hh = world.households_a[0]
    card = _card(session, hh)
    builders.login(client, world.manager_a)
    resp = client.get(f"/manage/households/{hh.id}/card.{fmt}")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    if fmt == "png":
        assert resp.mimetype == "image/png"
        decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(resp.data)))
        assert [r.text for r in decoded] == [card.token]
    else:
        assert resp.mimetype == "image/svg+xml"
        assert b"<svg" in resp.data
    entry = audits(session, "card.exported")[-1]
    assert entry.detail == {"card": card.id, "format": fmt}


def test_card_image_without_active_card_is_404(client, session: Session,
                                               world: builders.World) -> None:
    hh = builders.household(session, world.a, building="3", unit="1", room="1", with_card=False)
    session.commit()
    builders.login(client, world.manager_a)
    assert client.get(f"/manage/households/{hh.id}/card.png").status_code == 404
    assert client.get("/manage/households/99999/card.svg").status_code == 404


def test_cards_pdf(client, session: Session, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    resp = client.get(f"/manage/households/cards.pdf?community_id={world.a.id}")
    assert resp.status_code == 200
    assert resp.mimetype == "application/pdf"
    assert resp.headers["Content-Disposition"] == f"attachment; filename=cards-{world.a.id}.pdf"
    assert "no-store" in resp.headers["Cache-Control"]
    assert resp.data.startswith(b"%PDF")
    assert len(pdfium.PdfDocument(resp.data)) == 1
    entry = audits(session, "cards.printed")[-1]
    assert entry.detail == {"count": 3, "building": None}
    one = client.get(f"/manage/households/cards.pdf?community_id={world.a.id}&building=1栋")
    assert one.status_code == 200
    assert "cards-" in one.headers["Content-Disposition"]
    assert audits(session, "cards.printed")[-1].detail == {"count": 3, "building": "1"}
    assert client.get("/manage/households/cards.pdf").status_code == 422


def test_sheet_cards_selects_active_cards_in_address_order(session: Session,
                                                           world: builders.World) -> None:
    a = world.a
    h10 = builders.household(session, a, building="2", unit="1", room="10")
    h9 = builders.household(session, a, building="2", unit="1", room="9")
    builders.household(session, a, building="2", unit="1", room="11", with_card=False)
    moved = builders.household(session, a, building="2", unit="1", room="12")
    moved.status = "moved_out"
    session.add(moved)
    revoked = builders.household(session, a, building="2", unit="1", room="13")
    card = builders.active_card(session, revoked)
    card.status = "revoked"
    session.add(card)
    session.commit()
    actor = actor_of(session, world.manager_a)
    cards = services.sheet_cards(session, actor=actor, community_id=a.id, building="2")
    assert [c.label for c in cards] == ["2栋1单元9室", "2栋1单元10室"]
    assert cards[0].token == builders.active_card(session, h9).token
    assert cards[1].short_code == builders.active_card(session, h10).short_code
    assert cards[0].community == a.name
    everything = services.sheet_cards(session, actor=actor, community_id=a.id)
    assert [c.label for c in everything][:3] == ["1栋1单元101室", "1栋1单元102室",
                                                 "1栋1单元103室"]
    assert len(everything) == 5
    with pytest.raises(Forbidden):
        services.sheet_cards(session, actor=actor_of(session, world.manager_b), community_id=a.id)
    session.rollback()
