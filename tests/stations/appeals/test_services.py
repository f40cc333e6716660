"""The mis-drop loop at the service level, both backends: an incorrect verdict tells the
household (reason, how-to, photo; in the reader's language), appeals are filed once within
7 days by members only, decided by the community's chief or manager with a reason, and an
upheld or regraded appeal is told to the household; the ledger stays consistent."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import update
from sqlmodel import Session, select

from community.auth import services as auth_services
from community.errors import Forbidden, InvalidInput, NotFound
from community.inbox import jobs as inbox_jobs
from community.inbox import services as notifications
from community.inbox.models import Notification, SmsOutbox
from community.points import jobs as points_jobs
from community.points import services as points_services
from community.sms.dev import DevSender
from community.stations import services
from community.stations.appeals import queries
from community.stations.appeals import services as appeals
from community.stations.appeals.models import DropAppeal
from community.stations.appeals.schemas import AppealDecisionIn, AppealIn
from community.stations.models import Drop, DropRegrade
from community.stations.schemas import DropIn, RegradeIn
from tests import builders
from tests.residents.helpers import link

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 8, 30, tzinfo=SH)  # a Friday, inside 07:00–09:00
REASON = "kitchen_plastic_bag"  # a city-wide default reason (seeded by its migration)


def actor(session: Session, acct):
    return auth_services.load_actor(session, acct.id)


@pytest.fixture
def loop(session: Session, world: builders.World):
    """Station in A, the steward on duty, resident A a member of household A0, a chief of A."""
    st = builders.station(session, world.a, "玉龙东门")
    builders.on_duty(session, world.steward_a, st, NOW - timedelta(hours=10),
                     NOW + timedelta(hours=14))
    hh = world.households_a[0]
    chief = builders.account(session, "station_chief", world.a, username="chiefa")
    session.commit()
    link(session, world.resident_a.id, builders.active_card(session, hh))
    return world, st, hh, chief


def scan(session: Session, world, st, hh, *, quality: str = "incorrect", n: int = 1,
         at: datetime = NOW, **kw) -> int:
    card = builders.active_card(session, hh)
    item = DropIn.model_validate({
        "client_id": f"appeal-{n:04d}", "station_id": st.id, "category": "kitchen",
        "quality": quality, "happened_at": at, "card": card.token,
        "reason_code": REASON if quality == "incorrect" else None} | kw, strict=False)
    out = services.record_drop(session, actor=actor(session, world.steward_a), item=item, now=at)
    session.commit()
    return out.id


def notes(session: Session, account_id: int) -> list[Notification]:
    session.expire_all()
    rows = list(session.exec(select(Notification).where(Notification.account_id == account_id)
                             .order_by(Notification.id)).all())
    session.commit()
    return rows


def test_an_incorrect_verdict_tells_the_household_in_the_readers_language(
        client, session: Session, loop) -> None:
    world, st, hh, _chief = loop
    scan(session, world, st, hh, quality="correct", n=1)
    assert notes(session, world.resident_a.id) == []  # a correct drop says nothing
    drop_id = scan(session, world, st, hh, n=2, at=NOW + timedelta(minutes=20))
    scan(session, world, st, world.households_a[1], n=3)  # another household: not ours
    mine = notes(session, world.resident_a.id)
    assert [(n.kind, n.params["drop"], n.params["reason"]) for n in mine] == [
        ("drop_incorrect", drop_id, REASON)]
    assert "厨余" not in str(mine[0].params)  # codes and names only, never worded text
    assert notes(session, world.manager_a.id) == []

    builders.login(client, world.resident_a)
    zh = client.get("/me/inbox").get_data(as_text=True)
    assert "玉龙东门" in zh
    assert "厨余垃圾被记录为分类错误：厨余混有塑料袋。" in zh
    assert "11-20 08:50" in zh
    assert "破袋投放" in zh  # the how-to text of the reason
    assert f'href="/me/drops/{drop_id}/appeal"' in zh
    client.post("/lang", data={"lang": "en", "next": "/me/inbox"})
    en = client.get("/me/inbox").get_data(as_text=True)
    assert ("Your drop of Kitchen waste at 玉龙东门 on 11-20 08:50 was recorded as not sorted "
            "correctly: Kitchen waste mixed with plastic bags.") in en
    assert "Open the bag" in en
    assert "破袋投放" not in en
    assert "厨余混有塑料袋" not in en
    # A message shown before (none is now: the scan above was undone too late to withdraw it)
    # says the scan was undone and offers no appeal any more.
    session.exec(update(Drop).where(Drop.id == drop_id).values(  # type: ignore[call-overload]
        voided_at=NOW + timedelta(minutes=30), voided_by=world.steward_a.id))
    session.commit()
    en = client.get("/me/inbox").get_data(as_text=True)
    assert 'data-testid="inbox-voided"' in en
    assert f'href="/me/drops/{drop_id}/appeal"' not in en


def test_file_once_uphold_with_reason_told_to_the_household(session: Session, loop) -> None:
    world, st, hh, chief = loop
    drop_id = scan(session, world, st, hh)
    resident = actor(session, world.resident_a)
    appeal = appeals.file_appeal(session, actor=resident, drop_id=drop_id, now=NOW,
                                 data=AppealIn.parse(note="袋子是可降解的"))
    session.commit()
    assert (appeal.status, appeal.note, appeal.household_id) == ("open", "袋子是可降解的", hh.id)
    with pytest.raises(appeals.AppealRefused) as twice:
        appeals.file_appeal(session, actor=resident, drop_id=drop_id, now=NOW,
                            data=AppealIn.parse(note="再申诉一次"))
    assert twice.value.details["reason"] == "appealed"
    with pytest.raises(InvalidInput):
        AppealIn.parse(note="  ")  # a note is required

    # The manager of another community may neither decide nor see the queue.
    with pytest.raises(Forbidden):
        appeals.decide_appeal(session, actor=actor(session, world.manager_b), appeal_id=appeal.id,
                              data=AppealDecisionIn.parse(outcome="regrade", reason="外来"))
    with pytest.raises(Forbidden):
        queries.queue(session, actor=actor(session, world.manager_b), community_id=world.a.id)
    for bad in ({"outcome": "uphold"}, {"outcome": "uphold", "reason": " "},
                {"outcome": "maybe", "reason": "x"}):
        with pytest.raises(InvalidInput):
            AppealDecisionIn.parse(bad)
    session.rollback()
    assert session.get(DropAppeal, appeal.id).status == "open"

    shown = queries.queue(session, actor=actor(session, chief), community_id=world.a.id)
    assert [(r.appeal.id, r.reason.label if r.reason else None) for r in shown.rows] == [
        (appeal.id, "厨余混有塑料袋")]
    decided = appeals.decide_appeal(session, actor=actor(session, chief), appeal_id=appeal.id,
                                    now=NOW, data=AppealDecisionIn.parse(
                                        outcome="uphold", reason="照片里是普通塑料袋"))
    session.commit()
    assert (decided.status, decided.decided_by, decided.decision_reason) == (
        "upheld", chief.id, "照片里是普通塑料袋")
    assert session.get(Drop, drop_id).quality == "incorrect"
    told = notes(session, world.resident_a.id)[-1]
    assert (told.kind, told.params["note"]) == ("appeal_upheld", "照片里是普通塑料袋")
    with pytest.raises(appeals.AppealDecided):
        appeals.decide_appeal(session, actor=actor(session, chief), appeal_id=appeal.id,
                              data=AppealDecisionIn.parse(outcome="regrade", reason="改主意"))
    assert [o.status for o in queries.outcomes(session, community_id=world.a.id)] == ["upheld"]


def test_regrade_through_an_appeal_restores_points(session: Session, loop) -> None:
    world, st, hh, _chief = loop
    drop_id = scan(session, world, st, hh)
    before = points_services.balance(session, hh.id)
    appeal = appeals.file_appeal(session, actor=actor(session, world.resident_a),
                                 drop_id=drop_id, data=AppealIn.parse(note="分得很干净"),
                                 now=NOW + timedelta(days=6))
    decided = appeals.decide_appeal(
        session, actor=actor(session, world.manager_a), appeal_id=appeal.id,
        data=AppealDecisionIn.parse(outcome="regrade", reason="照片看不清，按正确计"))
    session.commit()
    assert decided.status == "regraded"
    change = session.get(DropRegrade, decided.regrade_id)
    assert (change.from_quality, change.to_quality, change.reason) == (
        "incorrect", "correct", "照片看不清，按正确计")
    assert session.get(Drop, drop_id).quality == "correct"
    assert points_services.balance(session, hh.id) > before  # now earns as correct
    assert points_jobs.verify_ledger(session) == []
    kinds = [n.kind for n in notes(session, world.resident_a.id)]
    assert kinds == ["drop_incorrect", "appeal_regraded"]  # no second "regraded" message
    assert [o.status for o in queries.outcomes(session, community_id=world.a.id)] == [
        "regraded"]
    # A regrade outside an appeal is told too, with its reason.
    services.regrade_drop(session, actor=actor(session, world.manager_a), drop_id=drop_id,
                          data=RegradeIn.parse(quality="incorrect",
                                               reason_code=builders.MISDROP,
                                               reason="复核录像：确有塑料袋"))
    session.commit()
    told = notes(session, world.resident_a.id)[-1]
    assert (told.kind, told.params["quality"], told.params["note"]) == (
        "drop_regraded", "incorrect", "复核录像：确有塑料袋")
    assert points_jobs.verify_ledger(session) == []


def test_refused_appeals_change_nothing(session: Session, loop) -> None:
    world, st, hh, _chief = loop
    drop_id = scan(session, world, st, hh)
    correct = scan(session, world, st, hh, quality="correct", n=2, category="other")
    resident = actor(session, world.resident_a)
    data = AppealIn.parse(note="不服")
    with pytest.raises(appeals.AppealRefused) as late:
        appeals.file_appeal(session, actor=resident, drop_id=drop_id, data=data,
                            now=NOW + timedelta(days=7, minutes=1))
    assert late.value.details["reason"] == "too_late"
    with pytest.raises(appeals.AppealRefused):
        appeals.file_appeal(session, actor=resident, drop_id=correct, data=data, now=NOW)
    with pytest.raises(NotFound):  # not a member of that household
        appeals.file_appeal(session, actor=actor(session, world.resident_b), drop_id=drop_id,
                            data=data, now=NOW)
    session.rollback()
    assert session.exec(select(DropAppeal)).all() == []


def test_points_history_shows_the_verdict_and_only_own_photos(
        app: Flask, client, session: Session, loop) -> None:
    world, st, hh, _chief = loop
    drop_id = scan(session, world, st, hh)
    other = scan(session, world, st, world.households_a[1], n=2)
    for did in (drop_id, other):
        relative = f"{world.a.id}/{did}-test.jpg"
        path = Path(app.config["UPLOAD_DIR"]) / "photos" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
        session.get(Drop, did).photo = relative
    session.commit()
    builders.login(client, world.resident_a)
    page = client.get(f"/me/points?household_id={hh.id}").get_data(as_text=True)
    assert 'data-testid="points-verdict"' in page
    assert "厨余混有塑料袋" in page
    assert "破袋投放" in page
    assert "玉龙东门" in page
    assert f'src="/me/drops/{drop_id}/photo"' in page
    assert f'href="/me/drops/{drop_id}/appeal"' in page
    assert client.get(f"/me/drops/{drop_id}/photo").status_code == 200
    assert client.get(f"/me/drops/{other}/photo").status_code == 404  # another household's
    assert client.get(f"/me/drops/{other}/appeal").status_code == 404
    # The appeal form: a note is required, then it is filed once.
    assert client.post(f"/me/drops/{drop_id}/appeal", data={"note": " "}).status_code == 422
    filed = client.post(f"/me/drops/{drop_id}/appeal", data={"note": "袋子可降解"})
    assert filed.status_code == 302
    page = client.get(f"/me/drops/{drop_id}/appeal").get_data(as_text=True)
    assert 'data-status="open"' in page
    assert 'data-testid="appeal-form"' not in page


def test_the_text_message_words_the_reason(app: Flask, session: Session, loop) -> None:
    world, st, hh, _chief = loop
    notifications.set_sms(session, account_id=world.resident_a.id, on=True)
    scan(session, world, st, hh)
    due = session.exec(select(SmsOutbox.send_after)).one()  # queued with the scan
    sender, saved = DevSender(), app.extensions["community.sms"]
    app.extensions["community.sms"] = sender
    try:
        with app.app_context():
            assert list(inbox_jobs.send_sms(session, now=due)) == ["sent"]
    finally:
        app.extensions["community.sms"] = saved
    session.commit()
    assert [t for _p, t in sender.texts] == [
        "您于 11-20 08:30 在玉龙东门投放的厨余垃圾被记录为分类错误：厨余混有塑料袋。"]


def test_points_history_shows_a_managers_own_regrade_and_its_reason(
        client, session: Session, loop) -> None:
    """A regrade the manager makes without an appeal is shown on the drop's card too."""
    world, st, hh, _chief = loop
    drop_id = scan(session, world, st, hh)
    builders.login(client, world.resident_a)
    before = client.get(f"/me/points?household_id={hh.id}").get_data(as_text=True)
    assert 'data-testid="verdict-regrade"' not in before
    services.regrade_drop(session, actor=actor(session, world.manager_a), drop_id=drop_id,
                          data=RegradeIn.parse(quality="correct", reason="照片显示已破袋"))
    session.commit()
    page = client.get(f"/me/points?household_id={hh.id}").get_data(as_text=True)
    assert 'data-testid="verdict-regrade"' in page
    assert "由 错误 改判为 正确" in page
    assert "照片显示已破袋" in page
    assert points_services.verify(session) == []
