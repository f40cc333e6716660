"""Stewards' hours on both backends: approval credits the ledger exactly once (also under 16
concurrent approvals on PostgreSQL), corrections need a reason and a range, approving twice
is refused and changes nothing, bulk approval, the steward's own page, the certificate's QR
round trip and forged tokens, the hours report against hand-computed figures, its exports,
and the pure hours arithmetic."""
from __future__ import annotations

import csv
import io
import re
import threading
from dataclasses import fields
from datetime import date, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium
import pytest
import zxingcpp
from flask import Flask
from flask_babel import force_locale
from itsdangerous import URLSafeSerializer
from openpyxl import load_workbook
from sqlalchemy import func
from sqlmodel import Session, col, select

from community import clock
from community.audit.models import AuditEntry
from community.auth import services as auth_services
from community.auth.models import Account
from community.db import get_engine
from community.errors import Forbidden, InvalidInput, NotFound, OwnDecision
from community.inbox.models import Notification
from community.points import services as points_services
from community.points.models import LedgerEntry, PointsAccount
from community.points.rules import RuleSet
from community.points.schemas import RulesIn
from community.volunteers.hours import certificate
from community.volunteers.hours import queries as hours_queries
from community.volunteers.hours import rules as hr
from community.volunteers.hours import services as hours
from community.volunteers.hours.schemas import ApproveIn, BulkApproveIn, MinutesOutOfRange
from community.volunteers.models import ShiftAssignment, Steward
from tests import builders
from tests.stations.helpers import english, read
from tests.volunteers.hours.builders import steward, worked

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 10, 20, 10, 0, tzinfo=SH)
SECRET = "test-only-secret-key-not-used-anywhere-else"  # the app's SECRET_KEY in tests
THREADS = 16


@pytest.fixture(autouse=True)
def _frozen():
    """Every page and service sees 2026-10-20 10:00 in Shanghai."""
    with clock.freeze(NOW):
        yield


def _actor(session: Session, account):
    who = auth_services.load_actor(session, account.id)
    session.commit()
    return who


def _ledger(session: Session) -> list[tuple]:
    return [(e.account_id, e.amount, e.kind, e.source, e.reason, e.rule_version)
            for e in read(session, select(LedgerEntry).order_by(col(LedgerEntry.id)))]


def _state(session: Session, assignment_id: int) -> tuple:
    a = read(session, select(ShiftAssignment).where(ShiftAssignment.id == assignment_id))[0]
    return (a.hours_status, a.approved_minutes, a.approved_by, a.approved_at,
            a.correction_reason)


def _account_of(session: Session, stw: Steward) -> Account:
    acct = session.get(Account, stw.account_id)
    session.commit()
    return acct  # type: ignore[return-value]


# --- Pure arithmetic ------------------------------------------------------------------------

@pytest.mark.parametrize(("minutes", "rate", "points"), [
    (150, 10, 25), (59, 10, 9), (60, 10, 10), (1, 59, 0), (61, 59, 59), (90, 7, 10),
    (100, 7, 11), (0, 10, 0), (100, 0, 0), (1440, 1000, 24000)])
def test_points_for_minutes_rounds_down(minutes: int, rate: int, points: int) -> None:
    assert hr.points_for_minutes(minutes, rate) == points


def test_points_for_negative_minutes_or_rate_is_refused() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        hr.points_for_minutes(-1, 10)
    with pytest.raises(ValueError, match=">= 0"):
        hr.points_for_minutes(10, -1)


def _valid_minutes(minutes: object) -> bool:
    """The minutes rule lives in ApproveIn only (None there means "as recorded")."""
    if minutes is None:
        return False
    try:
        ApproveIn.parse(minutes=minutes)
    except MinutesOutOfRange:
        return False
    return True


def test_valid_minutes_and_hours_for_people() -> None:
    assert [_valid_minutes(m) for m in (0, 1, 1440)] == [True, True, True]
    assert not any(_valid_minutes(m) for m in (-1, 1441, True, 1.5, "90", None))
    assert [hr.format_hours(m) for m in (150, 100, 120, 0, 1, 45)] == [
        "2.5", "1.67", "2", "0", "0.02", "0.75"]


def test_periods_and_masked_names() -> None:
    assert hr.parse_month("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert hr.parse_month("2028-02") == (date(2028, 2, 1), date(2028, 2, 29))
    assert [hr.parse_month(t) for t in ("2026-13", "2026-00", "abc", "", None)] == [None] * 5
    assert hr.valid_period(date(2026, 1, 1), date(2026, 1, 1))
    assert not hr.valid_period(date(2026, 1, 2), date(2026, 1, 1))
    assert not hr.valid_period(None, date(2026, 1, 1))
    assert not hr.valid_period(date(2000, 1, 1), date(2026, 1, 1))  # beyond ten years
    assert [hr.mask_name(n) for n in ("张三", "欧阳娜娜", "Alice", " ", "")] == [
        "张*", "欧*", "A*", "*", "*"]


def test_ruleset_carries_the_steward_rate_last_with_its_range() -> None:
    assert fields(RuleSet)[-1].name == "steward_points_per_hour"
    assert RuleSet().steward_points_per_hour == 10
    assert RuleSet(steward_points_per_hour=0).problems() == []
    assert RuleSet(steward_points_per_hour=1000).problems() == []
    assert RuleSet(steward_points_per_hour=-1).problems() == ["steward_points_per_hour"]
    assert RuleSet(steward_points_per_hour=1001).problems() == ["steward_points_per_hour"]


def test_certificate_token_round_trip_and_forgeries() -> None:
    claim = certificate.Claim(7, date(2026, 10, 1), date(2026, 10, 31))
    token = certificate.sign_claim(SECRET, claim)
    assert certificate.read_claim(SECRET, token) == claim
    payload, sig = token.split(".")
    other = certificate.sign_claim(SECRET, certificate.Claim(8, date(2020, 1, 1),
                                                             date(2026, 12, 31)))
    forged = [
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # one character of the signature
        other.split(".")[0] + "." + sig,                    # another claim, this signature
        certificate.sign_claim("another-secret-key", claim),
        URLSafeSerializer(SECRET).dumps([7, "2026-10-01", "2026-10-31"]),  # unsalted
        URLSafeSerializer(SECRET, salt=certificate.SALT).dumps([7, "2026-10-31"]),
        URLSafeSerializer(SECRET, salt=certificate.SALT).dumps([7, "x", "2026-10-31"]),
        certificate.sign_claim(SECRET, certificate.Claim(7, date(2026, 11, 1),
                                                         date(2026, 10, 1))),
        "", "abc", payload,
    ]
    assert [certificate.read_claim(SECRET, t) for t in forged] == [None] * len(forged)


def test_describe_steward_hours_in_both_languages(app: Flask) -> None:
    with app.test_request_context("/"):
        with force_locale("zh"):
            assert points_services.describe("earn", 25, "hours:150") == "志愿服务 2.5 小时 +25"
        with force_locale("en"):
            assert points_services.describe("earn", 25, "hours:150") == \
                "Volunteer service 2.5 hours +25"
            assert points_services.describe("earn", 2, "drop:kitchen") == \
                "Kitchen waste sorted correctly +2"


# --- Approval (services) --------------------------------------------------------------------

def test_approval_as_recorded_credits_the_ledger_exactly_once(session: Session,
                                                              world: builders.World) -> None:
    st = builders.station(session, world.a)
    stw = steward(session, world.a, name="张三")
    a = worked(session, st, stw, date(2026, 10, 12), minutes=150)
    session.commit()
    manager = _actor(session, world.manager_a)
    done = hours.approve_hours(session, actor=manager, assignment_id=a.id)  # type: ignore
    session.commit()
    assert (done.minutes, done.points, done.corrected) == (150, 25, False)
    account = read(session, select(PointsAccount).where(PointsAccount.steward_id == stw.id))[0]
    assert (account.owner_type, account.household_id, account.community_id, account.balance) \
        == ("steward", None, world.a.id, 25)
    assert _ledger(session) == [(account.id, 25, "earn", f"shift:{a.id}", "hours:150", 0)]
    entry = read(session, select(LedgerEntry))[0]
    assert (entry.local_date, entry.actor_id) == (date(2026, 10, 20), world.manager_a.id)
    assert _state(session, a.id) == ("approved", 150, world.manager_a.id,  # type: ignore
                                     NOW.astimezone(SH), "")
    assert points_services.steward_balance(session, stw.id) == 25  # type: ignore[arg-type]
    audits = read(session, select(AuditEntry).where(
        AuditEntry.action == "volunteers.hours_approved"))
    assert [(x.target_id, x.detail["points"], x.area_id) for x in audits] == [
        (a.id, 25, world.a.id)]
    notes = read(session, select(Notification))
    assert [(n.account_id, n.kind, n.params, n.link) for n in notes] == [
        (stw.account_id, "hours_approved", {"minutes": 150, "points": 25}, "/steward/hours")]

    # A second approval is refused and changes nothing.
    before = (_ledger(session), _state(session, a.id))  # type: ignore[arg-type]
    with pytest.raises(hours.HoursAlreadyApproved):
        hours.approve_hours(session, actor=manager, assignment_id=a.id)  # type: ignore
    session.rollback()
    with pytest.raises(hours.HoursAlreadyApproved):
        hours.approve_hours(session, actor=manager, assignment_id=a.id,  # type: ignore
                            data=ApproveIn.parse(minutes=10, reason="再来一次"))
    session.rollback()
    assert (_ledger(session), _state(session, a.id)) == before  # type: ignore[arg-type]
    # The ledger itself refuses a second credit of the same source.
    assert points_services.credit_steward(
        session, steward_id=stw.id, community_id=world.a.id, amount=25,  # type: ignore
        source=f"shift:{a.id}", reason="hours:150", actor_id=None, now=NOW) == 0
    session.commit()
    assert _ledger(session) == before[0]
    assert points_services.verify(session) == []


def test_credit_steward_refuses_negative_and_skips_zero(session: Session,
                                                        world: builders.World) -> None:
    stw = steward(session, world.a)
    session.commit()
    for bad in (-1, True, 1.5):
        with pytest.raises(InvalidInput):
            points_services.credit_steward(session, steward_id=stw.id,  # type: ignore
                                           community_id=world.a.id, amount=bad,  # type: ignore
                                           source="test:x", reason="r", actor_id=None, now=NOW)
        session.rollback()
    assert points_services.credit_steward(session, steward_id=stw.id,  # type: ignore
                                          community_id=world.a.id, amount=0, source="test:0",
                                          reason="r", actor_id=None, now=NOW) == 0
    session.commit()
    assert _ledger(session) == []
    assert points_services.steward_balance(session, stw.id) == 0  # type: ignore[arg-type]
    assert points_services.verify(session) == []


@pytest.mark.parametrize(("minutes", "reason", "error"), [
    (90, "", hours.CorrectionReasonRequired),
    (90, "   ", hours.CorrectionReasonRequired),
    (90, "长" * 201, hours.CorrectionReasonRequired),
    (-5, "少算", hours.MinutesOutOfRange),
    (1441, "多算", hours.MinutesOutOfRange),
    (True, "布尔", hours.MinutesOutOfRange),
])
def test_bad_corrections_are_refused_and_change_nothing(session: Session, world: builders.World,
                                                        minutes, reason: str, error) -> None:
    st = builders.station(session, world.a)
    a = worked(session, st, steward(session, world.a), date(2026, 10, 12), minutes=150)
    session.commit()
    manager = _actor(session, world.manager_a)
    with pytest.raises(error):
        hours.approve_hours(session, actor=manager, assignment_id=a.id,  # type: ignore
                            data=ApproveIn.parse(minutes=minutes, reason=reason))
    session.rollback()
    assert _state(session, a.id) == ("pending", None, None, None, "")  # type: ignore
    assert _ledger(session) == []


def test_correction_with_a_reason_credits_the_corrected_minutes(session: Session,
                                                               world: builders.World) -> None:
    st = builders.station(session, world.a)
    stw = steward(session, world.a)
    a = worked(session, st, stw, date(2026, 10, 12), minutes=150)
    same = worked(session, st, stw, date(2026, 10, 13), minutes=150)
    session.commit()
    manager = _actor(session, world.manager_a)
    done = hours.approve_hours(session, actor=manager, assignment_id=a.id,  # type: ignore
                               data=ApproveIn.parse(minutes=90, reason="  提前离开  "))
    # The recorded minutes typed again are no correction: no reason needed, none stored.
    also = hours.approve_hours(session, actor=manager, assignment_id=same.id,  # type: ignore
                               data=ApproveIn.parse(minutes=150, reason=""))
    session.commit()
    assert (done.minutes, done.points, done.corrected) == (90, 15, True)
    assert (also.points, also.corrected) == (25, False)
    assert _state(session, a.id)[:2] + _state(session, a.id)[4:] == (  # type: ignore
        "approved", 90, "提前离开")
    assert [(x[1], x[4]) for x in _ledger(session)] == [(15, "hours:90"), (25, "hours:150")]
    assert points_services.verify(session) == []


def test_zero_minutes_approve_without_points(session: Session, world: builders.World) -> None:
    st = builders.station(session, world.a)
    a = worked(session, st, steward(session, world.a), date(2026, 10, 12), minutes=150)
    session.commit()
    manager = _actor(session, world.manager_a)
    done = hours.approve_hours(session, actor=manager, assignment_id=a.id,  # type: ignore
                               data=ApproveIn.parse(minutes=0, reason="未到岗"))
    session.commit()
    assert (done.minutes, done.points) == (0, 0)
    assert _state(session, a.id)[:2] == ("approved", 0)  # type: ignore[arg-type]
    assert _ledger(session) == []


def test_rate_is_the_one_in_force_on_the_shift_day(session: Session,
                                                   world: builders.World) -> None:
    st = builders.station(session, world.a)
    stw = steward(session, world.a)
    early = worked(session, st, stw, date(2026, 10, 5), minutes=100)
    late = worked(session, st, stw, date(2026, 10, 12), minutes=100)
    session.commit()
    manager = _actor(session, world.manager_a)
    points_services.publish_rules(session, actor=manager, community_id=world.a.id,  # type: ignore
                                  data=RulesIn.parse(steward_points_per_hour=7,
                                                     effective_from=date(2026, 10, 10)))
    session.commit()
    got = [hours.approve_hours(session, actor=manager, assignment_id=x.id).points  # type: ignore
           for x in (early, late)]
    session.commit()
    assert got == [16, 11]  # floor(100 × 10 / 60), floor(100 × 7 / 60)
    assert [(x[1], x[5]) for x in _ledger(session)] == [(16, 0), (11, 1)]


def test_not_pending_and_missing_minutes(session: Session, world: builders.World) -> None:
    st = builders.station(session, world.a)
    stw = steward(session, world.a)
    signed = worked(session, st, stw, date(2026, 10, 21), status="signed_up")
    no_minutes = worked(session, st, stw, date(2026, 10, 12))
    no_minutes.minutes = None
    session.add(no_minutes)
    session.commit()
    manager = _actor(session, world.manager_a)
    with pytest.raises(hours.HoursNotPending):
        hours.approve_hours(session, actor=manager, assignment_id=signed.id)  # type: ignore
    session.rollback()
    with pytest.raises(hours.MinutesMissing):
        hours.approve_hours(session, actor=manager, assignment_id=no_minutes.id)  # type: ignore
    session.rollback()
    with pytest.raises(NotFound):
        hours.approve_hours(session, actor=manager, assignment_id=999999)
    session.rollback()
    assert _ledger(session) == []
    done = hours.approve_hours(session, actor=manager, assignment_id=no_minutes.id,  # type: ignore
                               data=ApproveIn.parse(minutes=60, reason="忘记签退"))
    session.commit()
    assert done.points == 10


def test_foreign_manager_cannot_approve(session: Session, world: builders.World) -> None:
    st = builders.station(session, world.a)
    a = worked(session, st, steward(session, world.a), date(2026, 10, 12))
    session.commit()
    foreign = _actor(session, world.manager_b)
    chief = builders.account(session, "station_chief", world.a)
    session.commit()
    # A station chief reads stewards (steward:read) but does not approve hours.
    for who in (foreign, _actor(session, chief)):
        with pytest.raises(Forbidden):
            hours.approve_hours(session, actor=who, assignment_id=a.id)  # type: ignore
        session.rollback()
    assert _state(session, a.id)[0] == "pending"  # type: ignore[arg-type]


def test_bulk_approval_skips_approved_and_refuses_foreign_ids(session: Session,
                                                               world: builders.World) -> None:
    st = builders.station(session, world.a)
    s1, s2 = steward(session, world.a), steward(session, world.a)
    a1 = worked(session, st, s1, date(2026, 10, 12), minutes=150)
    a2 = worked(session, st, s1, date(2026, 10, 13), minutes=90)
    b1 = worked(session, st, s2, date(2026, 10, 12), minutes=100)
    old = worked(session, st, s2, date(2026, 10, 1), minutes=60)
    foreign = worked(session, builders.station(session, world.b), steward(session, world.b),
                     date(2026, 10, 12))
    session.commit()
    manager = _actor(session, world.manager_a)
    hours.approve_hours(session, actor=manager, assignment_id=old.id)  # type: ignore
    session.commit()
    before = _ledger(session)
    for ids, error in (([a1.id, foreign.id], NotFound), ([], InvalidInput),
                       ([999999], NotFound)):
        with pytest.raises(error):
            hours.approve_many(session, actor=manager, community_id=world.a.id,  # type: ignore
                               data=BulkApproveIn.parse(ids=ids))
        session.rollback()
    with pytest.raises(Forbidden):
        hours.approve_many(session, actor=_actor(session, world.manager_b),
                           community_id=world.a.id,  # type: ignore
                           data=BulkApproveIn.parse(ids=[a1.id]))
    session.rollback()
    assert _ledger(session) == before
    result = hours.approve_many(session, actor=manager, community_id=world.a.id,  # type: ignore
                                data=BulkApproveIn.parse(  # type: ignore
                                    ids=[b1.id, a1.id, old.id, a2.id, a1.id]))
    session.commit()
    assert sorted(x.assignment_id for x in result.approved) == sorted([a1.id, a2.id, b1.id])
    assert result.skipped == [old.id]
    assert result.points == 25 + 15 + 16
    assert points_services.steward_balance(session, s1.id) == 40  # type: ignore[arg-type]
    assert points_services.steward_balance(session, s2.id) == 16 + 10  # type: ignore
    assert _state(session, foreign.id)[0] == "pending"  # type: ignore[arg-type]
    assert points_services.verify(session) == []


@pytest.mark.postgres_only
@pytest.mark.real_db
def test_16_concurrent_approvals_credit_once(app: Flask, db_url: str, session: Session,
                                             world: builders.World) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrency is tested on PostgreSQL (SQLite serializes writers)")
    st = builders.station(session, world.a)
    stw = steward(session, world.a)
    a = worked(session, st, stw, date(2026, 10, 12), minutes=150)
    session.commit()
    manager = _actor(session, world.manager_a)
    engine = get_engine(app)
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    errors: list[str] = []

    def worker(i: int) -> None:
        with app.test_request_context(), Session(engine) as s:
            barrier.wait()
            try:
                # Half approve as recorded, half correct: only one may ever win.
                hours.approve_hours(s, actor=manager, assignment_id=a.id,  # type: ignore
                                    data=ApproveIn.parse(minutes=None if i % 2 else 120,
                                                         reason="并发"))
                s.commit()
                outcomes.append("ok")
            except hours.HoursAlreadyApproved:
                s.rollback()
                outcomes.append("refused")
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sorted(outcomes) == ["ok"] + ["refused"] * (THREADS - 1)
    session.expire_all()
    entries = _ledger(session)
    assert len(entries) == 1
    assert entries[0][1] in (25, 20)
    assert points_services.steward_balance(session, stw.id) == entries[0][1]  # type: ignore
    assert read(session, select(func.count()).select_from(Notification)) == [1]
    assert points_services.verify(session) == []


# --- Manager pages --------------------------------------------------------------------------

def test_pending_page_approve_and_approving_twice_is_refused(client, session: Session,
                                                             world: builders.World) -> None:
    st = builders.station(session, world.a, "东门投放点")
    stw = steward(session, world.a, name="张三", phone="13900000011")
    a = worked(session, st, stw, date(2026, 10, 12), minutes=150)
    session.commit()
    builders.login(client, world.manager_a)
    page = client.get("/manage/volunteers/hours").get_data(as_text=True)
    assert f"待审核工时 · {world.a.name}" in page
    assert f'data-assignment-id="{a.id}"' in page
    assert "张三" in page
    assert "139****0011" in page
    assert "13900000011" not in page
    assert "东门投放点" in page
    resp = client.post(f"/manage/volunteers/hours/{a.id}/approve",
                       data={"next": f"/manage/volunteers/hours?community_id={world.a.id}"})
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已审核 2.5 小时，为督导员记入 25 积分。" in page
    assert f'data-assignment-id="{a.id}"' not in page
    assert "没有待审核的工时。" in page
    before = (_ledger(session), _state(session, a.id))  # type: ignore[arg-type]
    resp = client.post(f"/manage/volunteers/hours/{a.id}/approve", data={})
    assert resp.status_code == 409
    assert "这些工时已经审核过，未作任何更改。" in resp.get_data(as_text=True)
    english(client)
    resp = client.post(f"/manage/volunteers/hours/{a.id}/approve",
                       data={"minutes": "30", "reason": "again"})
    assert resp.status_code == 409
    assert "These hours were already approved. Nothing was changed." in resp.get_data(
        as_text=True)
    assert (_ledger(session), _state(session, a.id)) == before  # type: ignore[arg-type]


@pytest.mark.parametrize(("data", "field", "zh", "en"), [
    ({"minutes": "90"}, "reason", "请填写更正分钟数的原因", "Please give a reason"),
    ({"minutes": "-5", "reason": "r"}, "minutes", "请输入 0 到 1440 之间的整数分钟数",
     "Enter the minutes as a whole number from 0 to 1440."),
    ({"minutes": "1441", "reason": "r"}, "minutes", "请输入 0 到 1440 之间的整数分钟数",
     "Enter the minutes as a whole number from 0 to 1440."),
    ({"minutes": "一小时", "reason": "r"}, "minutes", "请输入 0 到 1440 之间的整数分钟数",
     "Enter the minutes as a whole number from 0 to 1440."),
    ({"minutes": "90", "reason": "长" * 201}, "reason", "最多 200 个字",
     "At most 200 characters."),
])
def test_correction_form_refusals_change_nothing(client, session: Session,
                                                 world: builders.World, data: dict, field: str,
                                                 zh: str, en: str) -> None:
    st = builders.station(session, world.a)
    a = worked(session, st, steward(session, world.a), date(2026, 10, 12), minutes=150)
    session.commit()
    builders.login(client, world.manager_a)
    url = f"/manage/volunteers/hours/{a.id}/approve"

    def block(resp) -> str:
        assert resp.status_code == 422
        return resp.get_data(as_text=True).split(f'name="{field}"', 1)[1].split("</div>", 1)[0]

    assert zh in block(client.post(url, data=data))
    english(client)
    assert en in block(client.post(url, data=data))
    assert _state(session, a.id) == ("pending", None, None, None, "")  # type: ignore
    assert _ledger(session) == []


def test_correction_form_approves_corrected_minutes(client, session: Session,
                                                    world: builders.World) -> None:
    st = builders.station(session, world.a)
    a = worked(session, st, steward(session, world.a), date(2026, 10, 12), minutes=150)
    session.commit()
    builders.login(client, world.manager_a)
    page = client.get(f"/manage/volunteers/hours/{a.id}").get_data(as_text=True)
    assert 'data-testid="hours-recorded">150<' in page
    resp = client.post(f"/manage/volunteers/hours/{a.id}/approve",
                       data={"minutes": "90", "reason": "提前离开"})
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已审核 1.5 小时，为督导员记入 15 积分。" in page
    assert 'data-testid="hours-approved-minutes">90<' in page
    assert 'data-testid="hours-reason">提前离开<' in page
    assert 'data-testid="hours-points">15<' in page
    assert [(x[1], x[4]) for x in _ledger(session)] == [(15, "hours:90")]


def test_bulk_form_approves_the_selection(client, session: Session,
                                          world: builders.World) -> None:
    st = builders.station(session, world.a)
    s1, s2 = steward(session, world.a), steward(session, world.a)
    a1 = worked(session, st, s1, date(2026, 10, 12), minutes=150)
    b1 = worked(session, st, s2, date(2026, 10, 12), minutes=100)
    left = worked(session, st, s2, date(2026, 10, 13), minutes=60)
    session.commit()
    builders.login(client, world.manager_a)
    url = "/manage/volunteers/hours/approve"
    resp = client.post(url, data={"community_id": str(world.a.id)})
    assert resp.status_code == 302
    assert "请至少选择一个班次" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert _ledger(session) == []
    resp = client.post(url, data={"community_id": str(world.a.id),
                                  "ids": [str(a1.id), str(b1.id)]})
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已审核 2 个班次，记入 41 积分。" in page
    assert f'data-assignment-id="{left.id}"' in page
    assert f'data-assignment-id="{a1.id}"' not in page
    resp = client.post(url, data={"community_id": str(world.a.id),
                                  "ids": [str(a1.id), str(left.id)]})
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已审核 1 个班次，记入 10 积分。" in page
    assert "有 1 个所选班次被跳过" in page
    assert sorted(x[1] for x in _ledger(session)) == [10, 16, 25]


# --- The steward's own page -----------------------------------------------------------------

def test_steward_page_shows_month_year_all_points_and_pending(client, session: Session,
                                                              world: builders.World) -> None:
    st = builders.station(session, world.a, "东门投放点")
    stw = steward(session, world.a, name="张三")
    other = steward(session, world.a, name="李四")
    approved = [worked(session, st, stw, date(2026, 10, 12), minutes=150),   # 25 points
                worked(session, st, stw, date(2026, 9, 28), minutes=60),     # 10 points
                worked(session, st, stw, date(2025, 12, 30), minutes=120)]   # 20 points
    worked(session, st, stw, date(2026, 10, 13), minutes=45)  # pending
    worked(session, st, other, date(2026, 10, 12), minutes=300)
    session.commit()
    manager = _actor(session, world.manager_a)
    for a in approved:
        hours.approve_hours(session, actor=manager, assignment_id=a.id)  # type: ignore
    session.commit()
    builders.login(client, _account_of(session, stw))
    page = client.get("/steward/hours").get_data(as_text=True)
    figures = dict(re.findall(r'data-testid="hours-(month|year|all|balance)">([^<]*)<', page))
    assert figures == {"month": "2.5", "year": "3.5", "all": "5.5", "balance": "55"}
    # The way back leads to the steward's start page (their role's landing: the scan page),
    # not the resident's home (QA: /me/ said the account had no household).
    back = re.search(r'<a href="([^"]*)"[^>]*data-testid="back-home"', page)
    assert back is not None
    assert urlsplit(client.get(back.group(1)).headers["Location"]).path == "/steward/scan"
    assert "志愿服务 2.5 小时 +25" in page
    assert "志愿服务 2 小时 +20" in page
    assert page.count('data-testid="hours-entry"') == 3
    assert page.count('data-testid="hours-pending-row"') == 1
    pending = re.findall(r'data-testid="hours-pending-row">(.*?)</li>', page, re.S)
    assert "0.75 小时" in pending[0]
    assert "2026-10-13" in pending[0]
    english(client, "/steward/hours")
    page = client.get("/steward/hours").get_data(as_text=True)
    assert "Volunteer service 2.5 hours +25" in page
    assert "hours this month" in page
    # Another steward's records are never shown here.
    assert client.get(f"/steward/hours?steward_id={other.id}").status_code == 404
    assert client.get(f"/steward/hours/certificate.pdf?steward_id={other.id}"
                      "&day_from=2026-10-01&day_to=2026-10-31").status_code == 404


def test_a_non_steward_sees_how_to_become_one(client, world: builders.World) -> None:
    builders.login(client, world.resident_a)
    resp = client.get("/steward/hours")
    assert resp.status_code == 200
    assert 'data-testid="hours-not-steward"' in resp.get_data(as_text=True)
    assert client.get("/steward/hours/certificate.pdf?day_from=2026-10-01"
                      "&day_to=2026-10-31").status_code == 404


# --- Certificate and verification -----------------------------------------------------------

def _decode(pdf: bytes) -> tuple[list[list[str]], list[str]]:
    """Every QR code and the text of each page (rasterised at 200 dpi)."""
    doc = pdfium.PdfDocument(pdf)
    try:
        codes = [[r.text for r in zxingcpp.read_barcodes(page.render(scale=200 / 72).to_pil())]
                 for page in doc]
        texts = [page.get_textpage().get_text_range() for page in doc]
    finally:
        doc.close()
    return codes, texts


def test_certificate_qr_opens_a_verification_recomputed_from_the_database(
        client, session: Session, world: builders.World) -> None:
    st = builders.station(session, world.a, "东门投放点")
    stw = steward(session, world.a, name="张三")
    first = worked(session, st, stw, date(2026, 10, 12), minutes=150)
    second = worked(session, st, stw, date(2026, 10, 15), minutes=90)
    outside = worked(session, st, stw, date(2026, 9, 28), minutes=60)
    later = worked(session, st, stw, date(2026, 10, 16), minutes=45)  # pending for now
    session.commit()
    manager = _actor(session, world.manager_a)
    for a in (first, second, outside):
        hours.approve_hours(session, actor=manager, assignment_id=a.id)  # type: ignore
    session.commit()
    builders.login(client, _account_of(session, stw))
    resp = client.get(f"/steward/hours/certificate.pdf?steward_id={stw.id}"
                      "&day_from=2026-10-01&day_to=2026-10-31")
    assert resp.status_code == 200
    assert resp.mimetype == "application/pdf"
    assert resp.headers["Cache-Control"] == "no-store"
    codes, texts = _decode(resp.data)
    assert len(codes) == 1
    assert len(codes[0]) == 1
    url = codes[0][0]
    assert url.startswith("http://localhost/verify/hours/")
    text = texts[0]
    for needle in ("志愿服务时长证明", "张三", world.a.name, "2026-10-12", "2026-10-15",
                   "东门投放点", "合计", "累计 4 小时", "2026年10月1日", "2026年10月31日",
                   "开具日期：2026年10月20日"):
        assert needle in text, needle
    assert "2026-09-28" not in text
    assert "2026-10-16" not in text

    client.post("/logout")
    path = urlsplit(url).path
    resp = client.get(path)
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert 'data-testid="verify-name">张*<' in page
    assert "张三" not in page
    assert world.a.name in page
    assert "2026-10-01" in page
    assert "2026-10-31" in page
    assert 'data-testid="verify-hours">4<' in page
    assert "共 2 个经审核的班次" in page
    # The page recomputes: hours approved later in the period count, the PDF cannot add any.
    hours.approve_hours(session, actor=manager, assignment_id=later.id)  # type: ignore
    session.commit()
    page = client.get(path).get_data(as_text=True)
    assert 'data-testid="verify-hours">4.75<' in page
    english(client, path)
    page = client.get(path).get_data(as_text=True)
    assert "Genuine certificate" in page
    assert "hours approved" in page

    # Forged or edited tokens get a clear "not valid" and no figures.
    token = path.rsplit("/", 1)[1]
    payload, sig = token.split(".")
    stretched = certificate.sign_claim("not-the-secret", certificate.Claim(
        stw.id, date(2020, 1, 1), date(2026, 12, 31)))  # type: ignore[arg-type]
    edited = URLSafeSerializer("x", salt=certificate.SALT).dumps(
        [stw.id, "2020-01-01", "2026-12-31"]).split(".")[0] + "." + sig
    for bad in (stretched, edited, token[:-2], "abc"):
        resp = client.get(f"/verify/hours/{bad}")
        assert resp.status_code == 404
        body = resp.get_data(as_text=True)
        assert "This certificate is not valid." in body
        assert "verify-hours" not in body
    client.post("/lang", data={"lang": "zh", "next": "/"})
    assert "此证明无效。" in client.get(f"/verify/hours/{token[:-2]}").get_data(as_text=True)


def test_certificate_period_must_be_valid(client, session: Session,
                                          world: builders.World) -> None:
    stw = steward(session, world.a, name="张三")
    session.commit()
    builders.login(client, _account_of(session, stw))
    for query in ("day_from=2026-10-31&day_to=2026-10-01", "day_from=2026-10-01", ""):
        resp = client.get(f"/steward/hours/certificate.pdf?{query}")
        assert resp.status_code == 302
        page = client.get(resp.headers["Location"]).get_data(as_text=True)
        assert "请选择开始和结束日期" in page


def test_manager_certificate_of_a_steward(client, session: Session,
                                          world: builders.World) -> None:
    st = builders.station(session, world.a)
    stw = steward(session, world.a, name="张三")
    a = worked(session, st, stw, date(2026, 10, 12), minutes=150)
    session.commit()
    hours.approve_hours(session, actor=_actor(session, world.manager_a),
                        assignment_id=a.id)  # type: ignore[arg-type]
    session.commit()
    builders.login(client, world.manager_a)
    url = f"/manage/volunteers/hours/stewards/{stw.id}/certificate.pdf"
    resp = client.get(f"{url}?day_from=2026-10-01&day_to=2026-10-31")
    assert resp.status_code == 200
    codes, texts = _decode(resp.data)
    assert "累计 2.5 小时" in texts[0]
    claim = certificate.read_claim(SECRET, urlsplit(codes[0][0]).path.rsplit("/", 1)[1])
    assert claim == certificate.Claim(stw.id, date(2026, 10, 1), date(2026, 10, 31))  # type: ignore
    assert client.get(url).status_code == 422
    assert client.get("/manage/volunteers/hours/stewards/999999/certificate.pdf"
                      "?day_from=2026-10-01&day_to=2026-10-31").status_code == 404


# --- Report and exports ---------------------------------------------------------------------

@pytest.fixture
def report_scene(session: Session, world: builders.World) -> dict[str, Steward]:
    """October in A, by hand (points at the default 10 per hour):

    张三: 10-12 07:00 150 min approved (25 points), 10-12 18:00 90 min pending,
          10-05 no-show, 10-06 cancelled, 09-28 60 min approved (outside October)
    李四: 10-12 07:00 100 min corrected to 80 (13 points), 10-13 signed up (no hours)
    赵六: approved, nothing in October (listed with zeros); 王五: retired, nothing (absent)
    B's steward with an October shift (never in A's report)
    """
    st = builders.station(session, world.a)
    s1 = steward(session, world.a, name="张三")
    s2 = steward(session, world.a, name="李四")
    s4 = steward(session, world.a, name="赵六")
    steward(session, world.a, name="王五", status="retired")
    oct12 = worked(session, st, s1, date(2026, 10, 12), start=7, minutes=150)
    worked(session, st, s1, date(2026, 10, 12), start=18, minutes=90)
    worked(session, st, s1, date(2026, 10, 5), status="no_show")
    worked(session, st, s1, date(2026, 10, 6), status="cancelled")
    sep = worked(session, st, s1, date(2026, 9, 28), minutes=60)
    corrected = worked(session, st, s2, date(2026, 10, 12), start=7, minutes=100)
    worked(session, st, s2, date(2026, 10, 13), status="signed_up")
    worked(session, builders.station(session, world.b), steward(session, world.b, name="乙督导"),
           date(2026, 10, 12), minutes=200)
    session.commit()
    manager = _actor(session, world.manager_a)
    hours.approve_hours(session, actor=manager, assignment_id=oct12.id)  # type: ignore
    hours.approve_hours(session, actor=manager, assignment_id=sep.id)  # type: ignore
    hours.approve_hours(session, actor=manager, assignment_id=corrected.id,  # type: ignore
                        data=ApproveIn.parse(minutes=80, reason="迟到"))
    session.commit()
    return {"张三": s1, "李四": s2, "赵六": s4}


def test_report_figures_match_the_hand_computed_ones(client, session: Session,
                                                     world: builders.World,
                                                     report_scene: dict[str, Steward]) -> None:
    manager = _actor(session, world.manager_a)
    report = hours_queries.hours_report(session, actor=manager, community_id=world.a.id,
                                        day_from=date(2026, 10, 1), day_to=date(2026, 10, 31))
    session.commit()
    got = {r.name: (r.shifts, r.done, r.no_shows, r.approved_minutes, r.pending_minutes,
                    r.points) for r in report.rows}
    assert got == {"张三": (3, 2, 1, 150, 90, 25), "李四": (2, 1, 0, 80, 0, 13),
                   "赵六": (0, 0, 0, 0, 0, 0)}
    t = report.total
    assert (t.shifts, t.done, t.no_shows, t.approved_minutes, t.pending_minutes, t.points) == (
        5, 3, 1, 230, 90, 38)
    september = hours_queries.hours_report(session, actor=manager, community_id=world.a.id,
                                           day_from=date(2026, 9, 1), day_to=date(2026, 9, 30))
    session.commit()
    assert {r.name: (r.shifts, r.approved_minutes, r.points) for r in september.rows} == {
        "张三": (1, 60, 10), "李四": (0, 0, 0), "赵六": (0, 0, 0)}

    builders.login(client, world.manager_a)
    page = client.get(f"/manage/volunteers/hours/report?community_id={world.a.id}"
                      "&month=2026-10").get_data(as_text=True)
    assert f"工时报表 · {world.a.name}" in page
    rows = {}
    for sid, body in re.findall(r'data-testid="report-row" data-steward-id="(\d+)">(.*?)</tr>',
                                page, re.S):
        cells = dict(re.findall(r'data-col="(\w+)">(?:<span[^>]*>)?([^<]*)<', body))
        rows[int(sid)] = (cells["shifts"], cells["no_shows"], cells["approved"],
                          cells["pending"], cells["points"])
    s = report_scene
    assert rows == {s["张三"].id: ("3", "1", "2.5", "1.5", "25"),
                    s["李四"].id: ("2", "0", "1.33", "0", "13"),
                    s["赵六"].id: ("0", "0", "0", "0", "0")}
    total = re.search(r'data-testid="report-total">(.*?)</tr>', page, re.S).group(1)  # type: ignore
    assert dict(re.findall(r'data-col="(\w+)">([^<]*)<', total)) == {
        "shifts": "5", "done": "3", "no_shows": "1", "approved": "3.83", "pending": "1.5",
        "points": "38"}
    assert "王五" not in page
    assert "乙督导" not in page
    # No period: the current month (October); a reversed one is refused with a message.
    page = client.get("/manage/volunteers/hours/report").get_data(as_text=True)
    assert 'value="2026-10-01"' in page
    assert 'value="2026-10-31"' in page
    page = client.get("/manage/volunteers/hours/report?day_from=2026-10-31"
                      "&day_to=2026-10-01").get_data(as_text=True)
    assert "请选择开始和结束日期" in page
    assert 'value="2026-10-01"' in page


def test_exports_parse_back_with_escaped_names(client, session: Session, world: builders.World,
                                               report_scene: dict[str, Steward]) -> None:
    acct = session.get(Account, report_scene["赵六"].account_id)
    acct.display_name = "=HYPERLINK(\"x\")"  # type: ignore[union-attr]
    session.add(acct)
    session.commit()
    builders.login(client, world.manager_a)
    query = f"community_id={world.a.id}&day_from=2026-10-01&day_to=2026-10-31"
    resp = client.get(f"/manage/volunteers/hours/report.csv?{query}")
    assert resp.status_code == 200
    assert resp.data.startswith(b"\xef\xbb\xbf")
    assert "attachment" in resp.headers["Content-Disposition"]
    assert f"steward-hours-{world.a.id}-2026-10-01-2026-10-31.csv" in resp.headers[
        "Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows[0] == ["督导员", "电话", "状态", "班次", "已完成", "缺勤记录", "已审核小时",
                       "待审核小时", "记入积分"]
    by_name = {r[0]: r[2:] for r in rows[1:]}
    assert by_name["张三"] == ["正常", "3", "2", "1", "2.5", "1.5", "25"]
    assert by_name["李四"] == ["正常", "2", "1", "0", "1.33", "0", "13"]
    assert by_name["'=HYPERLINK(\"x\")"] == ["正常", "0", "0", "0", "0", "0", "0"]
    assert by_name["合计"] == ["", "5", "3", "1", "3.83", "1.5", "38"]

    resp = client.get(f"/manage/volunteers/hours/report.xlsx?{query}")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    assert values[0][0] == "督导员"
    by_name = {r[0]: r[3:] for r in values[1:]}
    assert by_name["张三"] == [3, 2, 1, 2.5, 1.5, 25]
    assert by_name["=HYPERLINK(\"x\")"] == [0, 0, 0, 0, 0, 0]  # text, not a formula
    assert ws.cell(row=4, column=1).data_type == "s"
    assert by_name["合计"] == [5, 3, 1, 3.83, 1.5, 38]
    english(client)
    rows = list(csv.reader(io.StringIO(client.get(
        f"/manage/volunteers/hours/report.csv?{query}").data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Steward", "Phone", "Status"]
    assert rows[-1][0] == "Total"
    audits = read(session, select(AuditEntry).where(
        AuditEntry.action == "volunteers.hours_exported"))
    assert [x.detail["fmt"] for x in audits] == ["csv", "xlsx", "csv"]


def test_rules_form_sets_the_steward_rate(client, session: Session,
                                          world: builders.World) -> None:
    builders.login(client, world.manager_a)
    url = f"/manage/points/rules?community_id={world.a.id}"
    page = client.get(url).get_data(as_text=True)
    assert re.search(r'name="steward_points_per_hour"[^>]*value="10"', page)
    form = {"points_kitchen": "2", "points_recyclable": "2", "points_hazardous": "3",
            "points_other": "1", "ungraded_earns": "y", "daily_cap": "6", "strike_limit": "3",
            "strike_window_days": "30", "strike_penalty": "5", "streak_days": "7",
            "streak_bonus": "5", "expiry_years": "1", "steward_points_per_hour": "12",
            "effective_from": "2026-10-20"}
    resp = client.post(url, data=form | {"steward_points_per_hour": "1001"})
    assert resp.status_code == 422
    assert client.post(url, data=form).status_code == 302
    assert points_services.current_rules(session, world.a.id,  # type: ignore[arg-type]
                                         date(2026, 10, 20)).steward_points_per_hour == 12
    session.commit()


def test_a_manager_never_approves_their_own_hours(session: Session,
                                                  world: builders.World) -> None:
    """Separation of duties: a manager who also stood a shift gets their hours approved by
    another manager; one by one it is refused, in bulk it is skipped."""
    st = builders.station(session, world.a)
    own = worked(session, st, steward(session, world.a, account=world.manager_a),
                 date(2026, 10, 12))
    theirs = worked(session, st, steward(session, world.a), date(2026, 10, 12))
    other_manager = builders.account(session, "manager", world.a)
    session.commit()
    manager = _actor(session, world.manager_a)
    with pytest.raises(OwnDecision):
        hours.approve_hours(session, actor=manager, assignment_id=own.id)  # type: ignore
    session.rollback()
    result = hours.approve_many(session, actor=manager, community_id=world.a.id,  # type: ignore
                                data=BulkApproveIn.parse(ids=[own.id, theirs.id]))
    session.commit()
    assert [a.assignment_id for a in result.approved] == [theirs.id]
    assert result.skipped == [own.id]
    assert _state(session, own.id)[0] == "pending"  # type: ignore[arg-type]
    hours.approve_hours(session, actor=_actor(session, other_manager),
                        assignment_id=own.id)  # type: ignore
    session.commit()
    assert _state(session, own.id)[0] == "approved"  # type: ignore[arg-type]


def test_my_points_page_older_entries_by_keyset(session: Session, world) -> None:
    """The steward's points list pages newest written first with the (time, id) cursor:
    entries of one moment split across pages, none lost or shown twice."""
    stw = steward(session, world.a)
    times = [datetime(2026, 10, 1, 9, 0, tzinfo=SH), NOW, NOW, NOW,
             datetime(2026, 10, 5, 9, 0, tzinfo=SH)]
    for n, at in enumerate(times):
        points_services.credit_steward(session, steward_id=stw.id, community_id=world.a.id,
                                       amount=n + 1, source=f"test:{n}", reason=f"hours:{60}",
                                       actor_id=None, now=at)
    session.commit()
    seen, before, pages = [], None, 0
    while True:
        data = hours_queries.my_hours(session, account_id=stw.account_id, before=before,
                                      limit=2)
        assert data is not None
        seen += [e.amount for e in data.entries]
        pages += 1
        before = data.next_before
        if before is None:
            break
    assert pages == 3
    assert seen == [4, 3, 2, 5, 1]  # NOW's three by id, then 10-05, then 10-01
