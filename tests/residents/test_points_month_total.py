"""A month's total on /me/points: a month that lost points reads in the negative (red)
style, a month that gained in the positive one (QA: "本月合计 -36" was green)."""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from community import clock
from community.auth import services as auth_services
from community.points import services as points_services
from community.points.schemas import AdjustIn
from tests import builders
from tests.residents.helpers import link

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 20, 0, tzinfo=SH)


def test_a_negative_month_total_uses_the_negative_style(
        app: Flask, client: FlaskClient, session: Session, world: builders.World) -> None:
    hh = world.households_a[0]
    link(session, world.resident_a.id, builders.active_card(session, hh))
    with app.test_request_context():
        manager = auth_services.load_actor(session, world.manager_a.id)
        for amount, at in ((50, datetime(2026, 10, 20, 10, 0, tzinfo=SH)),
                           (-36, datetime(2026, 11, 18, 10, 0, tzinfo=SH))):
            points_services.adjust(session, actor=manager, household_id=hh.id,
                                   data=AdjustIn.parse(amount=amount, reason="调整"), now=at)
        session.commit()
    builders.login(client, world.resident_a)
    with clock.freeze(NOW):
        page = client.get("/me/points").get_data(as_text=True)
    totals = dict(re.findall(r'data-month="(\d{4}-\d\d)">[^<]*<span class="([^"]+)" '
                             r'data-testid="points-month-total"', page))
    assert totals["2026-11"] == "points-month-total points-month-total-neg"
    assert totals["2026-10"] == "points-month-total"
    css = (Path(str(app.static_folder)) / "css" / "app.css").read_text(encoding="utf-8")
    assert re.search(r"\.points-month-total-neg \{ color: var\(--red\)", css)
