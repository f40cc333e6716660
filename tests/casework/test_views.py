"""Casework pages: the manager's board in both languages, a case and its task, the blind
audit (nothing of the original before grading), refusals across communities."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from community import clock
from community.auth import services as auth_services
from community.casework import services
from community.casework.models import MisdropCase, VerdictAudit
from community.stations.appeals.models import DropAppeal
from community.stations.models import Drop
from community.volunteers.models import Steward
from tests import builders
from tests.casework.test_services import DAY0, NOW, _scan


@pytest.fixture
def opened(session: Session, world: builders.World):
    st = builders.station(session, world.a)
    chief = builders.account(session, "station_chief", world.a)
    session.add(Steward(community_id=world.a.id, account_id=chief.id, status="approved"))
    session.flush()
    actor = auth_services.load_actor(session, chief.id)
    card = builders.active_card(session, world.households_a[0]).token
    for d in range(3):
        out = _scan(session, st, actor, card, DAY0 + timedelta(days=d), "incorrect", d,
                    reason="kitchen_plastic_bag")
        drop = session.get(Drop, out.id)
        drop.photo, drop.note = "x/1.jpg", "袋子没破"
        session.add(drop)
    services.evaluate_all(session, now=NOW)
    services.draw_week(session, world.a.id, date(2026, 11, 2), now=NOW)
    session.commit()
    case = session.exec(select(MisdropCase)).one()
    return case, chief


def test_board_in_chinese_and_english(client, session, world, opened):
    case, _chief = opened
    drops = session.exec(select(Drop).order_by(Drop.id)).all()
    session.add_all([
        DropAppeal(drop_id=drops[0].id, community_id=world.a.id, household_id=case.household_id,
                   filed_by=world.resident_a.id, note="我家没有放塑料袋"),
        DropAppeal(drop_id=drops[1].id, community_id=world.a.id, household_id=case.household_id,
                   filed_by=world.resident_a.id, note="看错了", status="upheld",
                   decided_at=NOW, decided_by=world.manager_a.id, decision_reason="照片清楚")])
    session.commit()
    builders.login(client, world.manager_a)
    with clock.freeze(NOW):
        html = client.get(f"/casework?community_id={world.a.id}").get_data(as_text=True)
        assert "教育纠正" in html
        assert 'data-testid="case-row"' in html
        assert "厨余混有塑料袋" in html
        assert 'data-testid="watchlist"' in html
        assert 'data-testid="appeals-count">1<' in html
        assert "我家没有放塑料袋" in html
        assert ">1 / 0</td>" in html  # the recorder's upheld appeal, by the calibration
        client.post("/lang", data={"lang": "en"})
        en = client.get(f"/casework?community_id={world.a.id}").get_data(as_text=True)
    assert "Mis-drop casework" in en
    assert "Kitchen waste mixed with plastic bags" in en
    assert "教育纠正" not in en


def test_case_task_recorded_by_the_assignee_and_refused_elsewhere(client, world, opened):
    case, chief = opened
    builders.login(client, world.manager_b)
    assert client.get(f"/casework/cases/{case.id}").status_code == 403
    resp = client.post(f"/casework/cases/{case.id}/task", data={"task": "home_visit",
                                                                 "note": "上门"})
    assert resp.status_code == 403
    client.post("/logout")
    builders.login(client, chief)
    assert client.post(f"/casework/cases/{case.id}/task",
                       data={"task": "home_visit", "note": ""}).status_code == 422
    resp = client.post(f"/casework/cases/{case.id}/task",
                       data={"task": "home_visit", "note": "上门讲解破袋"})
    assert resp.status_code == 302
    page = client.get(f"/casework/cases/{case.id}").get_data(as_text=True)
    assert "上门讲解破袋" in page
    assert 'data-testid="my-tasks"' in client.get("/casework/tasks").get_data(as_text=True)


def test_audit_is_blind_until_graded_and_never_of_ones_own(client, session, world, opened):
    _case, chief = opened
    builders.login(client, chief)  # the recorder: nothing of their own to grade
    html = client.get(f"/casework/audits?community_id={world.a.id}").get_data(as_text=True)
    assert 'data-testid="audit-empty"' in html
    audit_id = session.exec(select(VerdictAudit)).first().id
    resp = client.post(f"/casework/audits/{audit_id}", data={"verdict": "correct"})
    assert resp.status_code == 403
    client.post("/logout")
    builders.login(client, world.manager_a)
    html = client.get(f"/casework/audits?community_id={world.a.id}").get_data(as_text=True)
    assert 'data-testid="grade-form"' in html
    for secret in ("袋子没破", "厨余混有塑料袋", 'data-testid="audit-original"'):
        assert secret not in html
    first = int(html.split('action="/casework/audits/')[1].split('"')[0])
    assert client.get(f"/casework/audits/{first}").status_code == 302  # not revealed yet
    resp = client.post(f"/casework/audits/{first}", data={"verdict": "correct"})
    assert resp.status_code == 302
    shown = client.get(f"/casework/audits/{first}").get_data(as_text=True)
    assert "袋子没破" in shown
    assert 'data-testid="audit-original"' in shown
    assert session.get(Drop, session.get(VerdictAudit, first).drop_id).quality == "incorrect"


def test_kappa_without_information_reads_n_a_with_the_reason(client, session, world, opened):
    """A steward who never marked "correct" in the sample (or full agreement) has no kappa:
    the board says n/a and why, never "1.00 (1.00–1.00)" or "0.00 (−1.00–1.00)"."""
    from community.casework.schemas import GradeIn

    manager = auth_services.load_actor(session, world.manager_a.id)
    for row in session.exec(select(VerdictAudit)).all():
        services.grade(session, actor=manager, audit_id=row.id,
                       data=GradeIn.parse(verdict="incorrect"), now=NOW)
    session.commit()
    builders.login(client, world.manager_a)
    with clock.freeze(NOW):
        html = client.get(f"/casework?community_id={world.a.id}").get_data(as_text=True)
        assert 'data-testid="kappa-na">无法计算<' in html
        assert "只用了一种评判" in html
        assert "1.00 <span" not in html
        client.post("/lang", data={"lang": "en", "next": "/casework"})
        html = client.get(f"/casework?community_id={world.a.id}").get_data(as_text=True)
        assert 'data-testid="kappa-na">n/a (cannot be computed)<' in html
        assert "gave only one verdict" in html
