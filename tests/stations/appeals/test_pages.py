"""The appeal pages as a phone shows them: a refused decision shows that one appeal with its
error at the top; a second appeal of a drop says why it was refused; the points history marks
an undone scan."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from community.stations import services
from community.stations.appeals import services as appeals
from community.stations.appeals.schemas import AppealIn
from tests import builders
from tests.stations.appeals.test_services import NOW, actor, loop, scan  # noqa: F401


def _appeal(session: Session, world, st, hh, n: int) -> int:
    drop_id = scan(session, world, st, hh, n=n)
    appeal = appeals.file_appeal(session, actor=actor(session, world.resident_a),
                                 drop_id=drop_id, now=NOW, data=AppealIn.parse(note="不服"))
    session.commit()
    return appeal.id


def test_a_decision_without_reason_shows_that_appeal_and_its_error_first(
        client, session: Session, loop) -> None:  # noqa: F811
    world, st, hh, chief = loop
    first, second = (_appeal(session, world, st, hh, n) for n in (1, 2))
    builders.login(client, chief)
    page = client.get(f"/manage/appeals?community_id={world.a.id}").get_data(as_text=True)
    assert page.count('data-testid="appeal-row"') == 2
    assert '<textarea id="reason-' in page  # a full-width box, not a bare input
    resp = client.post(f"/manage/appeals/{second}/decide", data={"outcome": "uphold",
                                                                 "reason": " "})
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    top = page.index('data-testid="decide-error-top"')
    assert "请填写处理原因" in page[top:page.index('data-testid="appeal-tabs"')]
    assert page.count('data-testid="appeal-row"') == 1
    assert f'id="appeal-{second}"' in page
    assert f'id="appeal-{first}"' not in page


def test_a_second_appeal_says_it_was_already_appealed(client, session: Session,
                                                      loop) -> None:  # noqa: F811
    world, st, hh, _chief = loop
    drop_id = scan(session, world, st, hh)
    builders.login(client, world.resident_a)
    first = client.post(f"/me/drops/{drop_id}/appeal", data={"note": "袋子可降解"})
    assert first.status_code == 302
    resp = client.post(f"/me/drops/{drop_id}/appeal", data={"note": "再来一次"})
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert 'data-testid="appeal-error"' in page
    assert "该投放已申诉过" in page


def test_the_points_history_says_an_undone_drop_was_undone(client, session: Session,
                                                          loop) -> None:  # noqa: F811
    world, st, hh, _chief = loop
    kept = scan(session, world, st, hh, n=1)
    undone = scan(session, world, st, hh, n=2, category="other")
    services.void_drop(session, actor=actor(session, world.steward_a), client_id="appeal-0002",
                       now=NOW + timedelta(minutes=1))
    session.commit()
    builders.login(client, world.resident_a)
    page = client.get(f"/me/points?household_id={hh.id}").get_data(as_text=True)
    card = page.split(f'id="drop-{undone}"')[1].split("</li>")[0]
    assert 'data-testid="verdict-voided"' in card
    assert "已撤销" in card
    assert page.count('data-testid="verdict-voided"') == 1
    assert f'href="/me/drops/{undone}/appeal"' not in page
    assert f'href="/me/drops/{kept}/appeal"' in page


def test_reason_other_tells_the_stewards_note_and_a_general_howto(
        client, session: Session, loop) -> None:  # noqa: F811
    world, st, hh, _chief = loop
    drop_id = scan(session, world, st, hh, reason_code="other", note="电池混在厨余里")
    builders.login(client, world.resident_a)
    page = client.get("/me/inbox").get_data(as_text=True)
    assert "其他（电池混在厨余里）" in page
    assert 'data-testid="inbox-howto"' in page
    assert "请问投放点的督导员" in page
    points = client.get(f"/me/points?household_id={hh.id}").get_data(as_text=True)
    card = points.split(f'id="drop-{drop_id}"')[1].split("</li>")[0]
    assert "请问投放点的督导员" in card


def test_the_verdict_page_tells_the_regrades_reason(client, session: Session,
                                                    loop) -> None:  # noqa: F811
    """DOMAIN (mis-drop loop): every regrade carries a reason the resident sees. The
    resident's verdict page ("why was my drop wrong") says when it was regraded, from what
    to what and why (escaped), beside the steward's earlier reason."""
    from community.stations.schemas import RegradeIn

    world, st, hh, chief = loop
    drop_id = scan(session, world, st, hh)
    services.regrade_drop(session, actor=actor(session, chief), drop_id=drop_id,
                          data=RegradeIn.parse(quality="correct",
                                               reason="<i>复核</i>照片：确为果皮"))
    session.commit()
    builders.login(client, world.resident_a)
    page = client.get(f"/me/drops/{drop_id}/appeal").get_data(as_text=True)
    line = page.split('data-testid="verdict-regrade">')[1].split("</p>")[0]
    assert "由 错误 改判为 正确" in line
    assert "&lt;i&gt;复核&lt;/i&gt;照片：确为果皮" in line
    assert "<i>复核</i>" not in page
    assert 'data-testid="verdict-earlier-reason"' in page
