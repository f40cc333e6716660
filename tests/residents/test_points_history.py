"""The resident's points history: device-time order (a late upload sorts at its drop's
time, not at the top), grouped by local month with each month's total and a chart, stable
keyset paging; the "how points work" page from the rule version in force; English plurals."""
from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlmodel import Session, col

from community import clock
from community.auth import services as auth_services
from community.points import history
from community.points import services as points_services
from community.points.rules import DropFacts
from community.points.schemas import AdjustIn, RulesIn
from community.stations.models import Drop
from tests import builders
from tests.residents.helpers import link, to_english

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 20, 0, tzinfo=SH)


def _drop(session: Session, world: builders.World, hh, drop_id: int, at: datetime,
          category: str = "kitchen", received: datetime | None = None) -> None:
    """Score one correct in-window drop of `hh` that happened at `at` (device time) and
    reached the server at `received` (default: at once)."""
    facts = DropFacts(drop_id, hh.id, category, "correct", True, at.date(),
                      at.astimezone(ZoneInfo("UTC")))
    builders.store_facts(session, [facts])
    if received is not None:  # a late upload: its row (its own earn) is written now
        session.execute(update(Drop).where(col(Drop.id) == drop_id).values(received_at=received))
    builders.award(session, [facts], community_id=world.a.id, now=received or at)
    session.commit()


@pytest.fixture
def scored(app: Flask, session: Session, world: builders.World):
    """Entries written in this order: a drop of 10 Nov, a manager's +7 on 15 Nov, a late
    upload of a 5 Nov drop (received on 20 Nov: written last), an October drop."""
    hh = world.households_a[0]
    link(session, world.resident_a.id, builders.active_card(session, hh))
    with app.test_request_context(), clock.freeze(NOW):
        _drop(session, world, hh, 9_001, datetime(2026, 11, 10, 9, 0, tzinfo=SH))
        manager = auth_services.load_actor(session, world.manager_a.id)
        points_services.adjust(session, actor=manager, household_id=hh.id,
                               data=AdjustIn.parse(amount=7, reason="活动奖励"),
                               now=datetime(2026, 11, 15, 10, 0, tzinfo=SH))
        session.commit()
        _drop(session, world, hh, 9_002, datetime(2026, 11, 5, 19, 30, tzinfo=SH), "hazardous",
              received=NOW)
        _drop(session, world, hh, 9_003, datetime(2026, 10, 28, 8, 0, tzinfo=SH))
    return world, hh


def test_history_is_in_device_time_order_grouped_by_month(session: Session, scored) -> None:
    _world, hh = scored
    page = history.household_history(session, household_id=hh.id, today=date(2026, 11, 20))
    rows = [(g.month, i.row.kind, i.row.amount, i.day) for g in page.months for i in g.items]
    assert rows == [
        (date(2026, 11, 1), "adjust", 7, date(2026, 11, 15)),
        (date(2026, 11, 1), "earn", 2, date(2026, 11, 10)),
        (date(2026, 11, 1), "earn", 3, date(2026, 11, 5)),   # the late upload
        (date(2026, 10, 1), "earn", 2, date(2026, 10, 28)),
    ]
    ids = [i.row.id for g in page.months for i in g.items]
    written = [r.id for r in reversed(builders.ledger(session, household=hh))]
    assert sorted(ids) == sorted(written)
    assert ids != written  # the order entries were written in would differ: the test bites
    assert [(g.month, g.total) for g in page.months] == [(date(2026, 11, 1), 12),
                                                          (date(2026, 10, 1), 2)]
    assert page.next_before is None
    assert page.chart[-2:] == [(date(2026, 10, 1), 2), (date(2026, 11, 1), 12)]
    assert len(page.chart) == history.CHART_MONTHS


def test_keyset_pages_follow_device_time_without_gaps(session: Session, scored) -> None:
    _world, hh = scored
    seen, before = [], None
    for _ in range(4):
        page = history.household_history(session, household_id=hh.id, limit=1, before=before)
        seen += [i.row.kind + str(i.day) for g in page.months for i in g.items]
        before = page.next_before
        if before is None:
            break
    assert seen == ["adjust2026-11-15", "earn2026-11-10", "earn2026-11-05", "earn2026-10-28"]
    assert history.decode_cursor("nonsense") is None  # a tampered cursor: the first page


def test_points_page_shows_months_totals_and_chart(client: FlaskClient, scored) -> None:
    world, hh = scored
    builders.login(client, world.resident_a)
    with clock.freeze(NOW):
        page = client.get("/me/points").get_data(as_text=True)
        months = 'data-testid="points-month" data-month="2026-'
        assert page.index(months + '11"') < page.index(months + '10"')
        assert "本月合计：+12" in page
        assert 'data-testid="points-chart"' in page
        assert 'data-total="12"' in page
        assert "2026-11-05 19:30" in page  # the late upload at its device time
        assert page.index("2026-11-10 09:00") < page.index("2026-11-05 19:30")
        assert f'/me/points/rules?household_id={hh.id}' in page


def test_a_negative_month_stays_above_the_month_labels(
        app: Flask, client: FlaskClient, session: Session, scored) -> None:
    """QA: a red bar of a month in the minus covered the newest month's label ("26-12")."""
    world, hh = scored
    with app.test_request_context():
        manager = auth_services.load_actor(session, world.manager_a.id)
        points_services.adjust(session, actor=manager, household_id=hh.id,
                               data=AdjustIn.parse(amount=50, reason="活动奖励"),
                               now=datetime(2026, 10, 29, 10, 0, tzinfo=SH))
        points_services.adjust(session, actor=manager, household_id=hh.id,
                               data=AdjustIn.parse(amount=-40, reason="扣分"),
                               now=datetime(2026, 11, 18, 10, 0, tzinfo=SH))
        session.commit()
    builders.login(client, world.resident_a)
    with clock.freeze(NOW):
        page = client.get("/me/points").get_data(as_text=True)
    bars = re.findall(r'<rect x="[\d.]+" y="([\d.]+)" width="14" height="([\d.]+)"', page)
    assert 'data-total="-28"' in page
    assert 'data-total="52"' in page
    assert bars
    assert max(float(y) + float(h) for y, h in bars) <= 64.05
    assert min(float(y) for y, _h in bars) >= 1.95
    labels = [float(y) for y in
              re.findall(r'<text x="[\d.]+" y="([\d.]+)" class="points-chart-label"', page)]
    assert labels
    assert min(labels) >= 70  # 7 px text: its top stays below the bars' area


def test_how_points_work_follows_the_version_in_force(
        app: Flask, client: FlaskClient, session: Session, scored) -> None:
    world, hh = scored
    manager = auth_services.load_actor(session, world.manager_a.id)
    with app.test_request_context():
        points_services.publish_rules(
            session, actor=manager, community_id=world.a.id,
            data=RulesIn.parse(effective_from=date(2026, 11, 1), strike_penalty=1, daily_cap=8))
        session.commit()
    builders.login(client, world.resident_a)
    with clock.freeze(NOW):
        page = client.get("/me/points/rules").get_data(as_text=True)
        assert "规则第 1 版，自 2026-11-01 起生效" in page
        assert "每户每天通过投放最多获得 8 积分。" in page
        to_english(client, "/me/points/rules")
        page = client.get("/me/points/rules").get_data(as_text=True)
        assert "at most 8 points a day" in page
        assert "it loses 1 point;" in page  # singular
        assert "1 points" not in page
