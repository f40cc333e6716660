"""A closed case's refund follows the facts (both backends): when an appeal later regrades a
drop of the case period to correct, the penalty it had caused is reversed by the points and
the case's refund of it is reversed too (no double credit); a regrade back to incorrect
brings both back; voids, appeal regrades and refunds keep the ledger check clean."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from community.auth import services as auth_services
from community.casework import services
from community.casework.schemas import CaseRulesIn
from community.points import services as points_services
from community.points.models import LedgerEntry
from community.stations import services as stations_services
from community.stations.appeals import services as appeals
from community.stations.appeals.schemas import AppealDecisionIn, AppealIn
from community.stations.schemas import RegradeIn
from tests import builders
from tests.casework.test_services import DAY0, NOW, _cases, _scan, setup
from tests.residents.helpers import link

__all__ = ["setup"]  # the fixture, used by name


def _clean(session: Session) -> None:
    assert points_services.verify(session) == []
    assert points_services.verify_runs(session) == []
    assert points_services.misdated_reversals(session) == []


def test_an_appeal_after_the_refund_does_not_pay_twice(session: Session, setup, world) -> None:
    st, _chief, actor, hh, card = setup
    manager = auth_services.load_actor(session, world.manager_a.id)
    services.publish_rules(session, actor=manager, community_id=world.a.id,
                           data=CaseRulesIn.parse(refund=True, effective_from=date(2026, 1, 1)))
    link(session, world.resident_a.id, builders.active_card(session, hh))
    n, wrong = 0, []
    for d in range(3):  # three strikes: the third costs 5 points
        _scan(session, st, actor, card, DAY0 + timedelta(days=d, minutes=1), "correct", n,
              category="recyclable")
        wrong.append(_scan(session, st, actor, card, DAY0 + timedelta(days=d, minutes=5),
                           "incorrect", n + 1, reason="kitchen_plastic_bag").id)
        n += 2
    services.evaluate_all(session, now=NOW)
    for k in range(5):
        _scan(session, st, actor, card, DAY0 + timedelta(days=4 + k), "correct", n + k)
    assert services.evaluate_all(session, now=NOW)["refunded"] == 5
    (case,) = _cases(session, hh)
    assert (case.status, case.refunded) == ("closed", 5)
    _clean(session)

    # A scan undone at once on a later day changes nothing of the case.
    late = _scan(session, st, actor, card, DAY0 + timedelta(days=10), "incorrect", 90,
                 now=DAY0 + timedelta(days=10), reason="kitchen_plastic_bag")
    stations_services.void_drop(session, actor=actor, client_id=late.client_id,
                                now=DAY0 + timedelta(days=10, minutes=2))
    assert _cases(session, hh)[0].refunded == 5
    _clean(session)

    # The resident appeals the third strike (the one that cost 5) and the chief regrades it.
    before = points_services.balance(session, hh.id)
    filed_at = DAY0 + timedelta(days=3)
    appeal = appeals.file_appeal(session, actor=auth_services.load_actor(
        session, world.resident_a.id), drop_id=wrong[2], now=filed_at,
        data=AppealIn.parse(note="袋子是可降解的"))
    appeals.decide_appeal(session, actor=actor, appeal_id=appeal.id, now=filed_at,
                          data=AppealDecisionIn.parse(outcome="regrade", reason="可降解袋"))
    # The drop now earns 2; the penalty (-5) is reversed by the points, and the case's refund
    # of it (+5) by casework: +2 in all, never +7.
    assert points_services.balance(session, hh.id) == before + 2
    assert _cases(session, hh)[0].refunded == 0
    live_refunds = session.execute(select(func.count()).select_from(LedgerEntry).where(
        col(LedgerEntry.kind) == "refund", col(LedgerEntry.reverses_id).is_(None),
        points_services.not_reversed())).scalar_one()
    assert live_refunds == 0
    history = points_services.history(session, household_id=hh.id)
    assert any(r.amount == -5 and r.kind == "reversal" for r in history)
    _clean(session)
    # The job agrees and changes nothing more.
    assert services.evaluate_all(session, now=NOW)["refunded"] == 0
    assert points_services.balance(session, hh.id) == before + 2

    # A manager regrades it back to incorrect: the penalty and its refund both come back.
    stations_services.regrade_drop(session, actor=manager, drop_id=wrong[2],
                                   data=RegradeIn(quality="incorrect",
                                                  reason_code=builders.MISDROP,
                                                  reason="复核：普通塑料袋"))
    assert points_services.balance(session, hh.id) == before
    assert _cases(session, hh)[0].refunded == 5
    _clean(session)
    assert services.evaluate_all(session, now=NOW, every_open=True)["refunded"] == 0
    assert points_services.balance(session, hh.id) == before
    _clean(session)
