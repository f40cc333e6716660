"""Entries taken back are marked undone in every history: a drop's own earn (its row, no
ledger row) whose reversal "reversal:d<drop>" is in the ledger, as a ledger entry a reversal
names; kept entries are not. The resident's points page, the manager's household ledger and
the history readers (`points.services.history`, `points.history.household_history`)."""
from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from community import clock
from community.points import facts as drop_rows
from community.points import history
from community.points import services as points_services
from community.points.rules import DropFacts
from tests import builders
from tests.residents.helpers import link, to_english

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 20, 0, tzinfo=SH)
KEPT, VOIDED, REGRADED = 9_201, 9_202, 9_203


def _facts(hh, drop_id: int, at: datetime, quality: str = "correct") -> DropFacts:
    return DropFacts(drop_id, hh.id, "kitchen", quality, True, at.date(),
                     at.astimezone(ZoneInfo("UTC")))


@pytest.fixture
def scene(app: Flask, session: Session, world: builders.World):
    """Three correct drops: one kept, one voided by its steward (its own earn taken back),
    one regraded incorrect, correct again (a ledger earn) and incorrect again (that ledger
    earn reversed too)."""
    hh = world.households_a[0]
    link(session, world.resident_a.id, builders.active_card(session, hh))
    community = world.a.id
    with app.test_request_context(), clock.freeze(NOW):
        kept = _facts(hh, KEPT, datetime(2026, 11, 16, 8, 0, tzinfo=SH))
        voided = _facts(hh, VOIDED, datetime(2026, 11, 17, 8, 0, tzinfo=SH))
        regraded = _facts(hh, REGRADED, datetime(2026, 11, 18, 8, 0, tzinfo=SH))
        for f in (kept, voided, regraded):
            builders.award(session, [f], community_id=community, now=f.happened_at)
        builders.void(session, voided, community_id=community,
                      now=datetime(2026, 11, 17, 8, 3, tzinfo=SH))
        for n, quality in enumerate(("incorrect", "correct", "incorrect"), start=1):
            builders.regrade(session, _facts(hh, REGRADED, regraded.happened_at, quality),
                             community_id=community, regrade_id=n,
                             now=datetime(2026, 11, 19, 9, n, tzinfo=SH))
        session.commit()
    return world, hh


def _ledger_earn(session: Session, hh) -> int:
    """The id of the ledger earn the regrade back to correct wrote (a positive id)."""
    [entry_id] = [r.id for r in builders.ledger(session, household=hh)
                  if r.kind == "earn" and r.id > 0 and r.drop_id == REGRADED]
    return entry_id


def test_history_readers_mark_what_was_taken_back(session: Session, scene) -> None:
    _world, hh = scene
    ledger_earn = _ledger_earn(session, hh)
    undone = {drop_rows.earn_id(VOIDED), drop_rows.earn_id(REGRADED), ledger_earn}
    written = points_services.history(session, household_id=hh.id, limit=100)
    assert {r.id for r in written if r.undone} == undone
    assert drop_rows.earn_id(KEPT) in {r.id for r in written}
    page = history.household_history(session, household_id=hh.id, limit=100,
                                     today=date(2026, 11, 20))
    rows = [i.row for g in page.months for i in g.items]
    assert {r.id for r in rows if r.undone} == undone
    # The reversals themselves, strikes and the kept earn are not marked.
    assert all(not r.undone for r in rows if r.kind in ("reversal", "strike"))


def _marked(page: str, testid: str) -> set[int]:
    return {int(m) for m in re.findall(
        rf'data-testid="{testid}" data-kind="\w+" data-entry-id="(-?\d+)" data-undone="1"', page)}


def test_pages_show_the_undone_earns(client: FlaskClient, session: Session, scene) -> None:
    world, hh = scene
    undone = {drop_rows.earn_id(VOIDED), drop_rows.earn_id(REGRADED), _ledger_earn(session, hh)}
    with clock.freeze(NOW):
        builders.login(client, world.resident_a)
        page = client.get("/me/points").get_data(as_text=True)
        assert _marked(page, "points-entry") == undone
        assert page.count('data-testid="entry-undone"') == 3
        assert "已撤销" in page
        client.post("/logout")
        builders.login(client, world.manager_a)
        page = client.get(f"/manage/points/households/{hh.id}").get_data(as_text=True)
        assert _marked(page, "ledger-row") == undone
        assert page.count('data-testid="entry-undone"') == 3
        to_english(client, f"/manage/points/households/{hh.id}")
        page = client.get(f"/manage/points/households/{hh.id}").get_data(as_text=True)
        assert ">Undone<" in page
