"""Foreign-access cases of the household pages: manager B against community A's households."""
from __future__ import annotations

import io

from sqlalchemy.orm import object_session
from sqlmodel import Session

from community.households.services import address_label
from tests import builders
from tests.builders import World
from tests.scope import Case, exempt, foreign

# The template is the same empty CSV for everyone; its access rule is tested in test_views.py.
exempt("households.import_template")


def _a_codes(w: World) -> list[str]:
    """A's visible data: short codes (raw and as shown) and address labels."""
    owner = object_session(w.households_a[0])
    assert owner is not None
    out: list[str] = []
    # A session of our own, closed at once: an open SQLite transaction would lock the app out.
    with Session(owner.get_bind()) as session:
        for hh in w.households_a:
            card = builders.active_card(session, hh)
            out += [card.short_code, f"{card.short_code[:4]}-{card.short_code[4:]}", card.token,
                    address_label(hh)]
    return out


@foreign("households.index")
def _index(w: World) -> list[Case]:
    return [
        Case("GET", f"/manage/households?community_id={w.a.id}"),
        Case("GET", f"/manage/households?community_id={w.street_a.id}"),
        Case("GET", "/manage/households", expect=(200,), absent=_a_codes(w)),
        Case("GET", "/manage/households?q=1-1-101", expect=(200,), absent=_a_codes(w)),
    ]


@foreign("households.new")
def _new(w: World) -> list[Case]:
    data = {"building": "9", "unit": "9", "room": "909", "members": "2", "status": "active"}
    return [
        Case("GET", f"/manage/households/new?community_id={w.a.id}"),
        Case("POST", f"/manage/households/new?community_id={w.a.id}", data=data),
    ]


@foreign("households.edit")
def _edit(w: World) -> list[Case]:
    hh = w.households_a[0]
    data = {"building": "9", "unit": "9", "room": "909", "members": "2", "status": "moved_out"}
    return [
        Case("GET", f"/manage/households/{hh.id}/edit"),
        Case("POST", f"/manage/households/{hh.id}/edit", data=data),
    ]


@foreign("households.import_result")
def _import_result(w: World) -> list[Case]:
    # A result page is readable by the account that imported only (tests/households/
    # test_import.py); a key it never made is unknown.
    return [Case("GET", "/manage/households/import/result/AAAAAAAAAAAAAAAAAAAAAA")]


@foreign("households.import_")
def _import(w: World) -> list[Case]:
    csv = "楼栋,单元,室,人数\n9,9,909,2\n".encode()
    return [
        Case("GET", f"/manage/households/import?community_id={w.a.id}"),
        Case("GET", "/manage/households/import", expect=(200,), absent=[w.a.name]),
        Case("POST", "/manage/households/import",
             data={"community_id": str(w.a.id), "file": (io.BytesIO(csv), "a.csv")}),
    ]


@foreign("households.revoke_card")
def _revoke(w: World) -> list[Case]:
    return [Case("POST", f"/manage/households/{w.households_a[0].id}/card/revoke")]


@foreign("households.reissue_card")
def _reissue(w: World) -> list[Case]:
    return [Case("POST", f"/manage/households/{w.households_a[0].id}/card/reissue")]


@foreign("households.card_png")
def _png(w: World) -> list[Case]:
    return [Case("GET", f"/manage/households/{w.households_a[0].id}/card.png")]


@foreign("households.card_svg")
def _svg(w: World) -> list[Case]:
    return [Case("GET", f"/manage/households/{w.households_a[0].id}/card.svg")]


@foreign("households.cards_pdf")
def _pdf(w: World) -> list[Case]:
    return [
        Case("GET", f"/manage/households/cards.pdf?community_id={w.a.id}"),
        Case("GET", f"/manage/households/cards.pdf?community_id={w.a.id}&building=1"),
    ]
