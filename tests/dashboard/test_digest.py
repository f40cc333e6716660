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

from community import clock
from community.dashboard import digest
from community.households.models import HouseholdMember
from community.inbox import jobs as inbox_jobs
from community.inbox import services as notifications
from community.inbox import texts
from community.inbox.models import Notification, SmsOutbox
from community.sms.dev import DevSender
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


def _text(session: Session, note: Notification) -> str:
    """The message as the inbox and the text message word it (with its resolver)."""
    return str(texts.render(note.kind, note.params, texts.resolve(session, [note]).get(note.id)))


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
        assert params["shift_list"] == "11-20 17:30 东门投放点\n11-21 13:30 西门投放点"
        assert theirs[0].params["shift_list"] == "11-21 13:30 西门投放点"
        # View opens the page of what waits first: the join requests; a chief with no
        # open case, their stations.
        assert mine[0].link == "/manage/links"
        assert theirs[0].link == "/steward/stations"
        texted = session.execute(select(SmsOutbox.account_id)).scalars().all()
        assert texted == [world.manager_a.id]  # a text only where opted in
        with force_locale("zh"):
            text = _text(session, mine[0])
        # No hours wait: the count is not listed (nor the approval link offered); no open
        # case nor overdue report: not listed either. Chinese punctuation is full-width.
        assert text == ("玉龙社区 今日待办：入户申请 1 条；未来 48 小时缺人班次 2 个"
                        "（11-20 17:30 东门投放点；11-21 13:30 西门投放点）。")
        assert params["hours"] == 0
        assert texts.resolve(session, mine)[mine[0].id]["hours_url"] == ""
        with force_locale("en"):
            text = _text(session, theirs[0])
        assert text.endswith("Shifts at risk in the next 48 hours: 1 (11-21 13:30 西门投放点).")
        assert "cases" not in text
        assert "to approve" not in text


def _pending(session: Session, account, station, days_ago: int, status: str = "pending"):
    """A past shift of `account` at `station` with its hours recorded (`status`)."""
    start = NOW - timedelta(days=days_ago, hours=2)
    assignment = builders.on_duty(session, account, station, start, start + timedelta(hours=2))
    assignment.minutes, assignment.hours_status = 120, status
    session.add(assignment)
    session.flush()
    return assignment


def test_pending_hours_are_counted_for_those_who_may_approve_them_with_the_link(
        app: Flask, client, session: Session, world: builders.World) -> None:
    east = builders.station(session, world.a, "东门投放点")
    chief = builders.account(session, "station_chief", world.a, username="chiefhours")
    east.chief_id = chief.id
    other_manager = builders.account(session, "manager", world.a, username="managera2")
    helper = builders.account(session, "steward", world.a, username="stewarda2")
    _pending(session, world.steward_a, east, 1)
    _pending(session, world.steward_a, east, 2)
    _pending(session, helper, east, 1)
    _pending(session, world.steward_a, east, 3, status="approved")  # done: not counted
    _pending(session, world.manager_a, east, 2)  # the manager's own: another manager's to do
    _pending(session, chief, east, 1)
    # Community B's pending hours are B's managers' alone.
    b_station = builders.station(session, world.b, "B门投放点")
    _pending(session, builders.account(session, "steward", world.b), b_station, 1)
    _shift(session, east, 10)  # something for the chief's digest
    world.manager_a.phone = "13900001234"
    session.add(world.manager_a)
    notifications.set_sms(session, account_id=world.manager_a.id, on=True, now=NOW)

    with app.test_request_context(), clock.freeze(NOW):
        digest.send_digests(session, now=NOW)
    with app.test_request_context():
        (mine,) = _notes(session, world.manager_a.id)
        (second,) = _notes(session, other_manager.id)
        (theirs,) = _notes(session, chief.id)
        (b_note,) = _notes(session, world.manager_b.id)
        url = f"/manage/volunteers/hours?community_id={world.a.id}"
        assert (mine.params["hours"], mine.params["hours_url"]) == (4, url)
        assert second.params["hours"] == 5  # the first manager's own shift is theirs to approve
        assert theirs.params["hours"] == 0  # a chief does not approve hours
        assert (b_note.params["hours"], b_note.params["hours_url"]) == (
            1, f"/manage/volunteers/hours?community_id={world.b.id}")
        with force_locale("zh"):
            assert _text(session, mine).startswith(
                "玉龙社区 今日待办：待审核志愿时长 4 条；未来 48 小时缺人班次 1 个（")
            assert "时长" not in _text(session, theirs)
        with force_locale("en"):
            assert _text(session, mine).startswith(
                f"Today in {world.a.name}. Volunteer hours to approve: 4; shifts at risk")
        extra = texts.resolve(session, [mine, theirs])
        assert (extra[mine.id]["hours_url"], extra[theirs.id]["hours_url"]) == (url, "")
        # The link opens the approval page of that community.
        endpoint, _args = app.url_map.bind("localhost").match(url.split("?")[0])
        assert endpoint == "hours.pending"
    session.commit()
    # The text message (where opted in) counts them too, in the reader's language.
    saved, sender = app.extensions["community.sms"], DevSender()
    app.extensions["community.sms"] = sender
    try:
        with app.app_context():
            assert list(inbox_jobs.send_sms(session, now=NOW + timedelta(hours=1))) == ["sent"]
    finally:
        app.extensions["community.sms"] = saved
    ((phone, text),) = sender.texts
    assert phone == "13900001234"
    assert text.startswith("玉龙社区 今日待办：待审核志愿时长 4 条；")
    session.commit()
    builders.login(client, world.manager_a)
    inbox = client.get("/me/inbox").get_data(as_text=True)
    assert f'href="{url}" data-testid="inbox-approve-hours"' in inbox
    assert "待审核志愿时长 4 条" in inbox
    page = client.get(url)
    assert page.status_code == 200


def test_items_listed_only_when_some_wait_worded_per_language_with_links(
        app: Flask, world: builders.World) -> None:
    """Every item (not only hours) is left out at zero; more than three at-risk shifts end
    with "+N more"; Chinese has full-width brackets and semicolons; View leads to the page
    of what waits (a chief's open cases: the casework board, not their stations)."""
    at_risk = [(NOW + timedelta(hours=h), f"站{h}") for h in range(1, 6)]
    waiting = digest.Digest(world.a, open_cases=2, overdue_reports=1, at_risk=at_risk)
    note = Notification(id=1, account_id=1, kind="daily_digest", params=waiting.params())
    cases_only = digest.Digest(world.a, open_cases=2)
    chief = Notification(id=2, account_id=2, kind="chief_digest", params=cases_only.params())
    cid = world.a.id
    assert waiting.link("daily_digest") == f"/manage/rota/at-risk?community_id={cid}"
    assert cases_only.link("daily_digest") == f"/casework?community_id={cid}"
    assert cases_only.link("chief_digest") == f"/casework?community_id={cid}"
    assert digest.Digest(world.a, overdue_reports=3).link("daily_digest") == "/reports/board"
    assert digest.Digest(world.a).link("daily_digest") == (
        f"/dashboard/community?community_id={cid}")
    with app.test_request_context():
        with force_locale("zh"):
            words = digest.word(None, [note, chief])  # type: ignore[arg-type]
            assert words[1]["items"] == (
                "未来 48 小时缺人班次 5 个（11-20 08:30 站1；11-20 09:30 站2；"
                "11-20 10:30 站3；另 2 个）；未结错投个案 2 个；逾期未处置的随手拍 1 件")
            assert words[2]["items"] == "社区未结错投个案 2 个"
        with force_locale("en"):
            words = digest.word(None, [note, chief])  # type: ignore[arg-type]
            assert words[1]["items"] == (
                "Shifts at risk in the next 48 hours: 5 (11-20 08:30 站1; 11-20 09:30 站2; "
                "11-20 10:30 站3; +2 more); open mis-drop cases: 2; reports not handled by "
                "their deadline: 1")
            assert words[2]["items"] == "Open mis-drop cases in the community: 2"
