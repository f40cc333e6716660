"""Casework services on both backends: a case opens on the third incorrect drop (in device
time, whatever the upload order), closes after five correct ones with a refund the ledger
check accepts, withdraws after a regrade; tasks, assignment and audits refuse bad input and
change nothing."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlmodel import Session, col

from community import clock
from community.auth import services as auth_services
from community.casework import queries, services
from community.casework.models import MisdropCase, VerdictAudit
from community.casework.schemas import AssignIn, CaseRulesIn, GradeIn, TaskDoneIn
from community.errors import Forbidden
from community.points import services as points_services
from community.points.models import LedgerEntry
from community.stations import services as stations_services
from community.stations.models import Drop
from community.stations.schemas import DropIn, RegradeIn
from community.volunteers.models import Steward
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
DAY0 = datetime(2026, 11, 2, 7, 30, tzinfo=SH)  # a Monday, inside the 7-9 window
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=SH)
CATS = ("kitchen", "recyclable", "other", "hazardous")


@pytest.fixture
def setup(session: Session, world: builders.World):
    st = builders.station(session, world.a)
    chief = builders.account(session, "station_chief", world.a)
    session.add(Steward(community_id=world.a.id, account_id=chief.id, status="approved"))
    session.flush()
    actor = auth_services.load_actor(session, chief.id)
    hh = world.households_a[0]
    return st, chief, actor, hh, builders.active_card(session, hh).token


def _scan(session, st, actor, card, at, quality, n, now=NOW, reason=None, category="kitchen"):
    item = DropIn.model_validate({"client_id": f"casework-{st.id}-{n:04d}", "station_id": st.id,
                                  "category": category, "quality": quality,
                                  "happened_at": at, "card": card,
                                  # An incorrect verdict always names its reason.
                                  **({"reason_code": reason or "kitchen_plastic_bag"}
                                     if quality == "incorrect" else {})}, strict=False)
    return stations_services.record_drop(session, actor=actor, item=item, now=now)


def _cases(session, hh):
    return list(session.execute(select(MisdropCase).where(
        col(MisdropCase.household_id) == hh.id).order_by(col(MisdropCase.id))).scalars())


def _consistent(session):
    assert points_services.verify(session) == []
    assert points_services.misdated_reversals(session) == []


def test_third_incorrect_opens_one_case_whatever_the_upload_order(session, setup):
    st, chief, actor, hh, card = setup
    times = [DAY0, DAY0 + timedelta(days=3), DAY0 + timedelta(days=9)]
    # The latest first, the earliest last (an offline queue): one case, at the third drop in
    # device time, and re-running changes nothing.
    ids = {}
    for n in (2, 0, 1):
        ids[n] = _scan(session, st, actor, card, times[n], "incorrect", n).id
        services.evaluate_all(session, now=NOW)
    services.evaluate_all(session, now=NOW)
    (case,) = _cases(session, hh)
    assert (case.status, case.trigger_drop_id, case.strikes) == ("open", ids[2], 3)
    assert case.window_start == times[2].date() - timedelta(days=29)
    assert case.assignee_id == chief.id
    assert case.task == "bin_side"
    assert case.due_on == clock.local_today("Asia/Shanghai", NOW) + timedelta(days=7)
    board = queries.board(session, builders_area(session, st), now=NOW, lang="zh",
                          show_watchlist=True, auditor_id=None)
    assert [c.id for c in board.open_cases] == [case.id]


def builders_area(session, st):
    from community.areas.models import Area

    return session.get(Area, st.community_id)


def test_five_correct_in_a_row_close_the_case_and_refund_its_penalties(session, setup, world):
    st, chief, actor, hh, card = setup
    services.publish_rules(session, actor=auth_services.load_actor(session, world.manager_a.id),
                           community_id=world.a.id,
                           data=CaseRulesIn.parse(refund=True, effective_from=date(2026, 1, 1)))
    n = 0
    for d in range(3):  # three strikes: the third costs 5 points (there are some to take)
        _scan(session, st, actor, card, DAY0 + timedelta(days=d, minutes=1), "correct", n,
              category="recyclable")
        _scan(session, st, actor, card, DAY0 + timedelta(days=d, minutes=5), "incorrect", n + 1)
        n += 2
    services.evaluate_all(session, now=NOW)
    (case,) = _cases(session, hh)
    assert case.refund
    before = points_services.balance(session, hh.id)
    penalty = session.execute(select(func.sum(LedgerEntry.amount)).where(
        col(LedgerEntry.kind) == "penalty")).scalar_one()
    assert penalty == -5
    for k in range(4):
        _scan(session, st, actor, card, DAY0 + timedelta(days=4 + k), "correct", n + k)
    services.evaluate_all(session, now=NOW)
    assert _cases(session, hh)[0].status == "open"
    last = _scan(session, st, actor, card, DAY0 + timedelta(days=9), "correct", n + 9)
    earned = points_services.balance(session, hh.id) - before
    got = services.evaluate_all(session, now=NOW)
    assert got["closed"] == 1
    assert got["refunded"] == 5
    (case,) = _cases(session, hh)
    assert (case.status, case.close_drop_id, case.refunded) == ("closed", last.id, 5)
    assert points_services.balance(session, hh.id) == before + earned + 5
    refund = session.execute(select(LedgerEntry).where(
        col(LedgerEntry.source) == f"case:{case.id}")).scalar_one()
    assert (refund.kind, refund.amount) == ("refund", 5)
    _consistent(session)
    # Re-running refunds nothing more and opens nothing new.
    assert services.evaluate_all(session, now=NOW)["refunded"] == 0
    assert len(_cases(session, hh)) == 1
    # A late correct drop and a later drop keep the ledger consistent.
    _scan(session, st, actor, card, DAY0 + timedelta(days=10), "incorrect", 99)
    services.evaluate_all(session, now=NOW)
    _consistent(session)


def test_a_regrade_below_the_threshold_withdraws_the_case(session, setup, world):
    st, chief, actor, hh, card = setup
    drops = [_scan(session, st, actor, card, DAY0 + timedelta(days=d), "incorrect", d)
             for d in range(3)]
    services.evaluate_all(session, now=NOW)
    manager = auth_services.load_actor(session, world.manager_a.id)
    stations_services.regrade_drop(session, actor=manager, drop_id=drops[0].id,
                                   data=RegradeIn.parse(quality="correct", reason="申诉成立"))
    assert services.evaluate_all(session, now=NOW)["withdrawn"] == 1
    assert _cases(session, hh)[0].status == "withdrawn"


def test_task_record_and_assignment_refuse_bad_input(session, setup, world):
    st, chief, actor, hh, card = setup
    for d in range(3):
        _scan(session, st, actor, card, DAY0 + timedelta(days=d), "incorrect", d)
    services.evaluate_all(session, now=NOW)
    (case,) = _cases(session, hh)
    other = builders.account(session, "steward", world.a)
    session.add(Steward(community_id=world.a.id, account_id=other.id, status="approved"))
    session.flush()
    stranger = auth_services.load_actor(session, other.id)
    with pytest.raises(services.NotYourTask):
        services.record_task(session, actor=stranger, case_id=case.id,
                             data=TaskDoneIn.parse(task="home_visit", note="上门"))
    manager_b = auth_services.load_actor(session, world.manager_b.id)
    with pytest.raises(Forbidden):  # another community's manager
        services.assign(session, actor=manager_b, case_id=case.id,
                        data=AssignIn.parse(assignee_id=other.id, task="home_visit",
                                            due_on=date(2026, 12, 1)), now=NOW)
    with pytest.raises(Forbidden):
        services.record_task(session, actor=manager_b, case_id=case.id,
                             data=TaskDoneIn.parse(task="home_visit", note="上门"))
    manager = auth_services.load_actor(session, world.manager_a.id)
    with pytest.raises(services.NotAssignable):
        services.assign(session, actor=manager, case_id=case.id,
                        data=AssignIn.parse(assignee_id=world.resident_a.id, task="home_visit",
                                            due_on=date(2026, 12, 1)), now=NOW)
    session.refresh(case)
    assert (case.assignee_id, case.done_at) == (chief.id, None)
    services.assign(session, actor=manager, case_id=case.id,
                    data=AssignIn.parse(assignee_id=other.id, task="home_visit",
                                        due_on=date(2026, 12, 1)), now=NOW)
    services.record_task(session, actor=stranger, case_id=case.id,
                         data=TaskDoneIn.parse(task="home_visit", note="上门讲解了破袋投放"),
                         now=NOW)
    session.refresh(case)
    assert (case.assignee_id, case.task, case.done_by) == (other.id, "home_visit", other.id)


def test_overdue_cases_escalate_once(session, setup):
    st, chief, actor, hh, card = setup
    for d in range(3):
        _scan(session, st, actor, card, DAY0 + timedelta(days=d), "incorrect", d)
    services.evaluate_all(session, now=NOW)
    assert services.escalate_overdue(session, now=NOW + timedelta(days=7)) == 0
    assert services.escalate_overdue(session, now=NOW + timedelta(days=8)) == 1
    assert services.escalate_overdue(session, now=NOW + timedelta(days=9)) == 0
    assert _cases(session, hh)[0].escalated_at is not None


def test_audit_sample_blind_grading_and_no_audit_of_ones_own(session, setup, world):
    st, chief, actor, hh, card = setup
    for d in range(12):
        out = _scan(session, st, actor, card, DAY0 + timedelta(days=d // 3, minutes=d),
                    "correct" if d % 4 else "incorrect", d, category=CATS[d % 4])
        drop = session.get(Drop, out.id)
        drop.photo = f"drops/{d}.jpg"
        session.add(drop)
    session.flush()
    week = date(2026, 11, 2)
    assert services.draw_week(session, world.a.id, week, now=NOW) == 10
    assert services.draw_week(session, world.a.id, week, now=NOW) == 0  # idempotent
    own = auth_services.load_actor(session, chief.id)
    assert queries.pending_for(session, world.a.id, chief.id) == []  # nothing of one's own
    first = queries.pending_for(session, world.a.id, None)[0]
    with pytest.raises(services.OwnVerdict):
        services.grade(session, actor=own, audit_id=first.id, data=GradeIn.parse(
            verdict="correct"))
    manager = auth_services.load_actor(session, world.manager_a.id)
    card_before = queries.audit_card(session, first, world.a, "zh")
    assert card_before.original is None
    assert card_before.steward is None
    drop_quality = session.execute(select(col(LedgerEntry.id))).all()
    services.grade(session, actor=manager, audit_id=first.id,
                   data=GradeIn.parse(verdict="incorrect"), now=NOW)
    assert session.execute(select(col(LedgerEntry.id))).all() == drop_quality  # evidence only
    with pytest.raises(services.AlreadyGraded):
        services.grade(session, actor=manager, audit_id=first.id,
                       data=GradeIn.parse(verdict="correct"))
    with pytest.raises(Forbidden):
        services.grade(session, actor=auth_services.load_actor(session, world.manager_b.id),
                       audit_id=queries.pending_for(session, world.a.id, None)[0].id,
                       data=GradeIn.parse(verdict="correct"))
    revealed = queries.audit_card(session, session.get(VerdictAudit, first.id), world.a, "zh")
    assert revealed.original in ("correct", "incorrect")
    assert revealed.steward


def test_the_job_reads_new_rows_only_and_the_nightly_sweep_sees_voids(session, setup):
    st, chief, actor, hh, card = setup
    late = DAY0 + timedelta(days=17)  # recorded "now": a void within 5 minutes is allowed
    for d in range(2):
        _scan(session, st, actor, card, DAY0 + timedelta(days=d), "incorrect", d)
    _scan(session, st, actor, card, late, "incorrect", 2, now=late + timedelta(minutes=1))
    later = NOW + timedelta(hours=1)  # every drop settled: the cursor moves past them all
    assert services.evaluate_all(session, now=later)["opened"] == 1
    stations_services.void_drop(session, actor=actor, client_id=f"casework-{st.id}-0002",
                                now=late + timedelta(minutes=3))
    assert services.evaluate_all(session, now=later)["households"] == 0  # nothing new
    assert _cases(session, hh)[0].status == "open"
    assert services.evaluate_all(session, now=later, every_open=True)["withdrawn"] == 1
    assert _cases(session, hh)[0].status == "withdrawn"


def test_the_nightly_job_draws_last_weeks_sample_after_a_sunday_only(session, setup, world):
    from community.casework import jobs

    st, chief, actor, hh, card = setup
    for d in range(3):
        out = _scan(session, st, actor, card, DAY0 + timedelta(days=d), "correct", d,
                    category=CATS[d])
        session.get(Drop, out.id).photo = "x.jpg"
    session.flush()
    assert jobs.nightly(session, day=date(2026, 11, 7), now=NOW)["drawn"] == 0  # a Saturday
    assert jobs.nightly(session, day=date(2026, 11, 8), now=NOW)["drawn"] == 3
    assert jobs.nightly(session, day=date(2026, 11, 8), now=NOW)["drawn"] == 0


def _task_notes(session, account_id):
    from community.inbox.models import Notification

    return list(session.execute(select(Notification).where(
        col(Notification.account_id) == account_id, col(Notification.kind) == "case_task")
    ).scalars())


def test_the_assignee_is_told_of_an_open_case_only(session, setup, world):
    """A case that stays open tells its steward (task, due date); late data that opens and
    closes a case in one evaluation tells nobody of a task already over."""
    st, chief, actor, hh, card = setup
    for d in range(3):
        _scan(session, st, actor, card, DAY0 + timedelta(days=d), "incorrect", d)
    services.evaluate_all(session, now=NOW)
    (case,) = _cases(session, hh)
    (note,) = _task_notes(session, chief.id)
    assert note.params["due"] == case.due_on.isoformat()
    assert note.link == f"/casework/cases/{case.id}"
    # Another household: three strikes and five correct drops, all arriving at once.
    other = world.households_a[1]
    card2 = builders.active_card(session, other).token
    for d in range(8):
        _scan(session, st, actor, card2, DAY0 + timedelta(days=d, hours=1),
              "incorrect" if d < 3 else "correct", 100 + d, category=CATS[d % 4])
    got = services.evaluate_all(session, now=NOW)
    assert (got["opened"], got["closed"]) == (1, 1)
    assert [n.id for n in _task_notes(session, chief.id)] == [note.id]
