"""The daily digest: a manager's message counts what waits in the community (join
requests, shifts at risk in the next 48 hours named with their station, open cases,
overdue reports), a chief's names only their stations' shifts, nothing waiting sends
nothing, and a second run the same day sends nothing twice; worded in both languages."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select
from sqlmodel import Session, col

from community.dashboard import digest
from community.households.models import HouseholdMember
from community.inbox import services as notifications
from community.inbox import texts
from community.inbox.models import Notification, SmsOutbox
from community.volunteers.models import Shift
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 7, 30, tzinfo=SH)


def _shift(session: Session, station, hours_ahead: int) -> Shift:
    start = NOW + timedelta(hours=hours_ahead)
    shift = Shift(community_id=station.community_id, station_id=station.id,
                  local_date=start.date(), starts_at=start, ends_at=start + timedelta(hours=2),
                  needed=2)
    session.add(shift)
    return shift


def _notes(session: Session, account_id: int) -> list[Notification]:
    return list(session.execute(select(Notification).where(
        col(Notification.account_id) == account_id).order_by(col(Notification.id))).scalars())


def test_digest_for_managers_and_chiefs(app: Flask, session: Session,
                                        world: builders.World) -> None:
    east = builders.station(session, world.a, "东门投放点")
    west = builders.station(session, world.a, "西门投放点")
    chief = builders.account(session, "station_chief", world.a, username="chiefdigest")
    west.chief_id = chief.id
    _shift(session, east, 10)
    _shift(session, west, 30)
    _shift(session, west, 60)  # beyond 48 hours: not at risk yet
    applicant = builders.account(session, "resident", world.a, phone="13700009999")
    session.add(HouseholdMember(community_id=world.a.id, household_id=world.households_a[0].id,
                                account_id=applicant.id, status="pending"))
    session.flush()
    world.manager_a.phone = "13900001234"
    session.add(world.manager_a)
    notifications.set_sms(session, account_id=world.manager_a.id, on=True)  # opted in

    with app.test_request_context():
        counts = digest.send_digests(session, now=NOW)
        again = digest.send_digests(session, now=NOW + timedelta(minutes=5))
        mine = _notes(session, world.manager_a.id)
        theirs = _notes(session, chief.id)
        assert [n.kind for n in mine] == ["daily_digest"]
        assert [n.kind for n in theirs] == ["chief_digest"]
        assert _notes(session, world.manager_b.id) == []  # nothing waits in B
        assert counts["digests"] == 2
        assert again["digests"] == 0  # one per person per community per day
        params = mine[0].params
        assert (params["joins"], params["at_risk"], params["cases"]) == (1, 2, 0)
        assert params["shifts"] == " (11-20 17:30 东门投放点; 11-21 13:30 西门投放点)"
        assert theirs[0].params["shifts"] == " (11-21 13:30 西门投放点)"
        assert mine[0].link == "/dashboard/community"
        texted = session.execute(select(SmsOutbox.account_id)).scalars().all()
        assert texted == [world.manager_a.id]  # a text only where opted in
        with force_locale("zh"):
            text = str(texts.render(mine[0].kind, mine[0].params))
        assert text.startswith("玉龙社区 今日待办：待审核时长 0 条；入户申请 1 条；"
                               "未来 48 小时缺人班次 2 个 (11-20 17:30 东门投放点;")
        with force_locale("en"):
            text = str(texts.render(theirs[0].kind, theirs[0].params))
        assert "Shifts at risk in the next 48 hours: 1 (11-21 13:30 西门投放点)" in text
