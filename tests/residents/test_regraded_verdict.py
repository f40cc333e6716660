"""A drop regraded away from "incorrect" keeps its steward's reason in the database; the
resident's pages show it only as history (QA: the appeal page said "Quality: Correct" next
to "Reason: residual waste in the kitchen bin" and "How to sort it right…"). Both pages that
show a drop's reason to its household: the appeal page and the points history."""
from __future__ import annotations

from sqlmodel import Session

from community.stations import services
from community.stations.schemas import RegradeIn
from tests import builders
from tests.residents.helpers import to_english
from tests.stations.appeals.test_services import actor, loop, scan  # noqa: F401

REASON_ZH = "厨余混有塑料袋"


def _regrade(session: Session, world, drop_id: int, quality: str, reason: str) -> None:
    services.regrade_drop(session, actor=actor(session, world.manager_a), drop_id=drop_id,
                          data=RegradeIn.parse(quality=quality, reason=reason))
    session.commit()


def _verdict(page: str) -> str:
    """The strike's verdict card of the points history (the page's one card)."""
    start = page.index('data-testid="points-verdict"')
    return page[start:page.index("</div>", start)]


def test_a_drop_regraded_to_correct_shows_its_reason_as_history_only(
        client, session: Session, loop) -> None:  # noqa: F811
    world, st, hh, _chief = loop
    drop_id = scan(session, world, st, hh)
    builders.login(client, world.resident_a)
    appeal_url, points_url = f"/me/drops/{drop_id}/appeal", f"/me/points?household_id={hh.id}"

    page = client.get(appeal_url).get_data(as_text=True)  # incorrect: the reason is current
    assert f'data-testid="verdict-reason">{REASON_ZH}</dd>' in page
    assert "如果您认为督导员判定有误" in page  # the steward's verdict
    assert 'data-testid="verdict-howto"' in page
    assert 'data-testid="verdict-regraded"' not in page
    card = _verdict(client.get(points_url).get_data(as_text=True))
    assert f'data-testid="verdict-reason">原因： {REASON_ZH}' in card
    assert 'data-testid="verdict-howto"' in card

    _regrade(session, world, drop_id, "correct", "照片显示已破袋")
    page = client.get(appeal_url).get_data(as_text=True)
    assert 'data-testid="verdict-quality">正确</dd>' in page
    assert 'data-testid="verdict-reason"' not in page
    assert 'data-testid="verdict-howto"' not in page
    assert "这次投放已改判为“正确”：原判定不再计入。" in page
    assert (f'<dt>原判原因</dt><dd class="muted" data-testid="verdict-earlier-reason">'
            f'{REASON_ZH} <span class="badge badge-grey">已不适用</span></dd>') in page
    card = _verdict(client.get(points_url).get_data(as_text=True))
    assert 'data-testid="verdict-reason"' not in card
    assert 'data-testid="verdict-howto"' not in card
    assert f'data-testid="verdict-earlier-reason">原判原因： {REASON_ZH}' in card
    assert "由 错误 改判为 正确" in card  # the regrade line says what it is now

    to_english(client, appeal_url)
    page = client.get(appeal_url).get_data(as_text=True)
    assert "This drop was regraded to Correct: the earlier verdict no longer counts." in page
    assert "<dt>Earlier reason</dt>" in page
    assert "How to sort it right" not in page
    card = _verdict(client.get(points_url).get_data(as_text=True))
    assert "Earlier reason:" in card
    assert "no longer applies" in card
    assert "How to sort it right" not in card


def test_a_drop_regraded_back_to_incorrect_shows_its_reason_as_current_again(
        client, session: Session, loop) -> None:  # noqa: F811
    world, st, hh, _chief = loop
    drop_id = scan(session, world, st, hh)
    _regrade(session, world, drop_id, "correct", "照片显示已破袋")
    _regrade(session, world, drop_id, "incorrect", "复核：确有塑料袋")
    builders.login(client, world.resident_a)
    page = client.get(f"/me/drops/{drop_id}/appeal").get_data(as_text=True)
    assert f'data-testid="verdict-reason">{REASON_ZH}</dd>' in page
    assert 'data-testid="verdict-howto"' in page
    assert 'data-testid="verdict-regraded"' not in page
    # The verdict is now the manager's regrade, not the steward's: the appeal says so.
    assert "如果您认为这次判定有误" in page
    assert "督导员判定有误" not in page
    assert 'data-testid="verdict-earlier-reason"' not in page
