"""The demo's volunteers (community/demo/volunteers.py): stewards and station chiefs in every
community, a rota history with a realistic share of no-shows, supervision logs, approved
hours credited exactly once, sign-ups ahead with some shifts at risk, inbox messages, and
the steward and chief logins' pages. A second run changing no table at all is checked by
tests/test_demo.py (the volunteers steps are part of `demo.STEPS`)."""
from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlmodel import Session

from community import clock, demo
from community.auth.models import Account, RoleGrant
from community.casework.models import MisdropCase
from community.db import open_session
from community.demo import context as demo_context
from community.demo import volunteers as demo_volunteers
from community.inbox.models import Notification
from community.points import services as points_services
from community.points.models import LedgerEntry, PointsAccount
from community.stations.models import Station
from community.volunteers.checkins.rules import minutes_between
from community.volunteers.hours import rules as hours_rules
from community.volunteers.models import (
    Shift,
    ShiftAssignment,
    Steward,
    SupervisionLog,
)
from community.volunteers.shifts import rules as rota

DEMO = pytest.mark.demo_db  # the demo city, built once per worker: see tests/conftest.py

SEED = 7
DAYS = 4  # the CLI builds 60; a few days keep the suite fast
SH = ZoneInfo("Asia/Shanghai")


def _build(app: Flask) -> datetime:
    """Build the demo; returns a moment taken just before (every past shift started by it)."""
    started = clock.now()
    with open_session(app) as session:
        demo.build(session, seed=SEED, echo=lambda _line: None, days=DAYS)
    return started


def _rows(session: Session) -> list[tuple[ShiftAssignment, Shift]]:
    return [(a, s) for a, s in session.execute(
        select(ShiftAssignment, Shift).join(Shift, Shift.id == ShiftAssignment.shift_id)).all()]


@DEMO
def test_stewards_and_station_chiefs_in_every_community(app: Flask, session: Session) -> None:
    """6–10 stewards a community (approved, one retired, pending), roles to match, a chief
    per station; the printed chief logins chief one station, printed stewards none."""
    _build(app)
    stewards = list(session.execute(select(Steward)).scalars())
    communities = {s.community_id for s in session.execute(select(Station)).scalars()}
    assert {s.community_id for s in stewards} == communities
    assert len(communities) == 8
    grants = set(session.execute(select(RoleGrant.account_id, RoleGrant.area_id,
                                        RoleGrant.role)).all())
    for community_id in communities:
        mine = [s for s in stewards if s.community_id == community_id]
        statuses = Counter(s.status for s in mine)
        assert 6 <= len(mine) <= 10
        assert statuses["approved"] >= 4
        assert statuses["retired"] == 1
        assert 1 <= statuses["pending"] <= 2
    for s in stewards:
        # Only approved stewards hold the role (the scan page), as approve/retire leave it.
        assert ((s.account_id, s.community_id, "steward") in grants) == (s.status == "approved")
        assert (s.decided_at is None) == (s.status == "pending")
        if s.status == "approved":
            assert s.availability
            assert s.training in ("trained", "in_training")
        if s.training == "trained":
            assert s.trained_on is not None
    approved = {(s.account_id, s.community_id) for s in stewards if s.status == "approved"}
    for station in session.execute(select(Station)).scalars():
        assert (station.chief_id, station.community_id) in approved, station.name
        assert (station.chief_id, station.community_id, "station_chief") in grants
    account_of = {a.username: a.id for a in session.execute(select(Account)).scalars()}
    chiefs = Counter(session.execute(select(Station.chief_id)).scalars())
    for slug in demo_context.STAFFED:
        assert chiefs[account_of[f"{slug}.chief"]] == 1
        for n in (1, 2):
            assert chiefs[account_of[f"{slug}.steward{n}"]] == 0


@DEMO
def test_rota_history_no_shows_logs_and_hours(app: Flask, session: Session) -> None:
    """Past and future shifts everywhere; most staffed; ~8% no-shows; check-ins a little
    early or late; logs on about 60% of done shifts; hours approved for all but the last
    few days, each credited exactly once at the community's rate; no drift."""
    before = _build(app)
    now = clock.now()
    today = clock.local(now, "Asia/Shanghai").date()
    shifts = list(session.execute(select(Shift)).scalars())
    for community_id in {s.community_id for s in shifts}:
        mine = [s for s in shifts if s.community_id == community_id]
        assert any(s.ends_at <= before for s in mine)
        assert max(s.local_date for s in mine) >= today + timedelta(days=27)
        assert min(s.local_date for s in mine) == today - timedelta(days=DAYS)
    rows = _rows(session)
    held = [(a, s) for a, s in rows if a.status != "cancelled"]
    # Nobody holds two overlapping shifts, and no shift has more stewards than it needs.
    by_steward: dict[int, list[Shift]] = {}
    for a, s in held:
        by_steward.setdefault(a.steward_id, []).append(s)
    for mine in by_steward.values():
        mine.sort(key=lambda s: s.starts_at)
        assert all(b.starts_at >= a.ends_at for a, b in zip(mine, mine[1:], strict=False))
    per_shift = Counter(a.shift_id for a, _s in held)
    needed = {s.id: s.needed for s in shifts}
    assert all(n <= needed[i] for i, n in per_shift.items())
    ended = [(a, s) for a, s in held if s.ends_at <= before]
    statuses = Counter(a.status for a, _s in ended)
    assert set(statuses) == {"done", "no_show"}
    assert 0.03 <= statuses["no_show"] / len(ended) <= 0.15
    # Most past shifts had someone checked in (DOMAIN.md's coverage), not all.
    past = [s for s in shifts if s.ends_at <= before]
    covered = {s.id for a, s in ended if a.checked_in_at is not None}
    assert 0.75 <= len(covered) / len(past) < 1
    done = [(a, s) for a, s in ended if a.status == "done"]
    methods = Counter(a.check_in_method for a, _s in done)
    assert methods["code"] > methods["chief"] > 0
    assert all((a.confirmed_by is not None) == (a.check_in_method == "chief") for a, _s in done)
    outs = Counter(a.check_out_method for a, _s in done)
    assert outs["code"] > outs["auto"] > 0
    for a, s in done:
        assert -25 * 60 <= (a.checked_in_at - s.starts_at).total_seconds() <= 35 * 60
        assert a.checked_out_at >= a.checked_in_at
        assert a.minutes == minutes_between(a.checked_in_at, a.checked_out_at)
        if a.check_out_method == "auto":
            assert a.checked_out_at == s.ends_at
    assert all(a.checked_in_at is None and a.minutes is None
               for a, _s in ended if a.status == "no_show")
    # A retired steward worked only before leaving.
    retired = {s.id: s for s in session.execute(
        select(Steward).where(Steward.status == "retired")).scalars()}
    for a, s in held:
        if a.steward_id in retired:
            assert s.starts_at < retired[a.steward_id].decided_at
    # Supervision logs only on done assignments, on about 60% of them.
    logs = {g.assignment_id: g for g in session.execute(select(SupervisionLog)).scalars()}
    status_of = {a.id: a.status for a, _s in rows}
    assert {status_of[i] for i in logs} == {"done"}
    assert 0.4 <= len(logs) / len(done) <= 0.8
    assert any(g.incidents for g in logs.values())
    # Hours: approved only for shifts older than the last few days, which all wait.
    recent = today - timedelta(days=demo_volunteers.PENDING_DAYS)
    approved = [(a, s) for a, s in done if a.hours_status == "approved"]
    assert len(approved) > 0.8 * len([1 for _a, s in done if s.local_date <= recent])
    assert all(s.local_date <= recent for _a, s in approved)
    assert all(a.hours_status == "pending" for a, s in done if s.local_date > recent)
    assert any(s.local_date > recent for _a, s in done)
    assert all(a.approved_at <= now and a.approved_by is not None for a, _s in approved)
    assert all((a.approved_minutes != a.minutes) == bool(a.correction_reason)
               for a, _s in approved)
    # Each approval credited once, at the rate in force on the shift's date; no drift.
    credits = Counter()
    amounts: dict[str, int] = {}
    for source, amount in session.execute(select(LedgerEntry.source, LedgerEntry.amount)
                                          .where(LedgerEntry.source.like("shift:%"))):
        credits[source] += 1
        amounts[source] = amount
    for a, s in approved:
        rate = points_services.current_rules(session, s.community_id,
                                             s.local_date).steward_points_per_hour
        points = hours_rules.points_for_minutes(a.approved_minutes, rate)
        assert credits[f"shift:{a.id}"] == (points > 0)  # zero points append nothing
        assert amounts.get(f"shift:{a.id}", 0) == points
    assert sum(credits.values()) > 0.9 * len(approved)
    steward_points = session.execute(select(func.sum(PointsAccount.balance)).where(
        PointsAccount.owner_type == "steward")).scalar_one()
    assert steward_points == sum(amounts.values()) > 0
    assert points_services.verify(session) == []
    session.rollback()


@DEMO
def test_sign_ups_ahead_leave_some_shifts_at_risk(app: Flask, session: Session) -> None:
    """Within the next 48 hours some shifts have stewards and some are short (at risk)."""
    before = _build(app)
    soon = list(session.execute(select(Shift).where(
        Shift.starts_at > before, Shift.starts_at <= before + timedelta(hours=48))).scalars())
    signed = Counter(a.shift_id for a, s in _rows(session) if s.starts_at > before
                     and a.status == "signed_up")
    states = [rota.shift_state(s.starts_at, s.ends_at, s.needed, signed[s.id], [], before)
              for s in soon]
    assert any(st.state == "filled" for st in states)
    assert any(rota.needs_help(st) for st in states)
    # The main station's evening shifts need two stewards.
    assert {s.needed for s in soon} == {1, 2}
    session.rollback()


@DEMO
def test_steward_and_chief_logins_open_their_pages(app: Flask, session: Session,
                                                   client: FlaskClient) -> None:
    """The printed steward and chief logins (and an unprinted steward) open My shifts and
    check-in, each with an upcoming shift and a reminder, hours approved in the inbox, and a
    task message for each case assigned to them."""
    before = _build(app)
    for login in ("yulong.steward1", "jinpu.chief", "tongxin.steward1"):
        resp = client.post("/login", data={"login": login, "password": demo_context.DEMO_PASSWORD})
        assert resp.status_code == 302, login
        shifts_page = client.get("/steward/shifts")
        assert shifts_page.status_code == 200
        assert client.get("/steward/check-in").status_code == 200
        assert client.get("/me/inbox").status_code == 200
        client.post("/logout")
        account = session.execute(select(Account).where(Account.username == login)).scalar_one()
        steward = session.execute(select(Steward).where(
            Steward.account_id == account.id)).scalar_one()
        upcoming = session.execute(
            select(Station.name).join(Shift, Shift.station_id == Station.id)
            .join(ShiftAssignment, ShiftAssignment.shift_id == Shift.id)
            .where(ShiftAssignment.steward_id == steward.id, Shift.starts_at > before,
                   ShiftAssignment.status == "signed_up")).scalars().first()
        kinds = Counter(session.execute(select(Notification.kind).where(
            Notification.account_id == account.id)).scalars())
        # Casework tells the steward who recorded a case's trigger drop of its task (any
        # steward, printed or not): one message per case, with the case's own due date
        # (its dating and reading: tests/casework/test_demo.py).
        tasks = {n.link: n.params["due"] for n in session.execute(select(Notification).where(
            Notification.account_id == account.id,
            Notification.kind == "case_task")).scalars()}
        cases = {f"/casework/cases/{c.id}": c.due_on.isoformat()
                 for c in session.execute(select(MisdropCase).where(
                     MisdropCase.assignee_id == account.id)).scalars()}
        assert tasks == cases, login
        del kinds["case_task"]
        # The chief has the day's digest (the demo runs the digest job), a steward none.
        assert kinds.pop("chief_digest", 0) == (login == "jinpu.chief"), login
        if login == "tongxin.steward1":
            assert kinds == {}  # only the printed logins get the volunteers' messages
            continue
        assert upcoming is not None, login
        assert upcoming in shifts_page.get_data(as_text=True)
        approvals = session.execute(select(func.count()).select_from(ShiftAssignment).where(
            ShiftAssignment.steward_id == steward.id,
            ShiftAssignment.hours_status == "approved")).scalar_one()
        assert kinds == {"steward_approved": 1, "hours_approved": min(2, approvals),
                         "shift_reminder": 1}
    session.rollback()


def test_plan_stewards_is_deterministic_and_shaped() -> None:
    """Pure: the same seed gives the same stewards; the printed chief comes first, on duty
    daily; two approved per station, one retired, one or two pending."""
    print("seed 11")
    a = demo_volunteers.plan_stewards(random.Random(11), "yulong", 1, 3, staffed=True, days=60)
    assert a == demo_volunteers.plan_stewards(random.Random(11), "yulong", 1, 3, staffed=True,
                                              days=60)
    assert a[0].username == "yulong.chief"
    assert {d for d, _s, _e in a[0].slots} == set(range(7))
    assert [s.username for s in a[1:]] == [f"yulong.steward{n}" for n in range(1, len(a))]
    statuses = Counter(s.status for s in a)
    assert statuses["approved"] in (6, 7)
    assert statuses["retired"] == 1
    assert statuses["pending"] in (1, 2)
    assert all(s.joined_days_ago > 60 for s in a if s.status != "pending")
    assert len({s.phone for s in a}) == len(a)
    b = demo_volunteers.plan_stewards(random.Random(11), "tongxin", 2, 2, staffed=False, days=60)
    assert b[0].username == "tongxin.steward1"
    assert 6 <= len(b) <= 10


def _slots(days: int, stations: int = 2) -> list[demo_volunteers.Slot]:
    """Daily 07–09 and 18–20 shifts (UTC times for Shanghai); evenings at station 1 need 2."""
    out = []
    first = datetime(2026, 3, 2, tzinfo=SH)
    for d in range(days):
        for hour in (7, 18):
            for k in range(1, stations + 1):
                start = (first + timedelta(days=d, hours=hour)).astimezone(UTC)
                out.append(demo_volunteers.Slot(len(out) + 1, k, (first + timedelta(days=d))
                                                .date(), start, start + timedelta(hours=2),
                                                2 if k == 1 and hour == 18 else 1))
    return out


def test_covers_reads_weekly_availability() -> None:
    """Pure: a Monday morning range covers Monday 07–09, not Tuesday, not the evening."""
    member = demo_volunteers.Member(1, 1, ((0, time(6, 30), time(9, 30)),))
    monday_morning, _b, monday_evening, _d, tuesday_morning, *_ = _slots(2)
    assert demo_volunteers.covers(member, monday_morning, SH)
    assert not demo_volunteers.covers(member, monday_evening, SH)
    assert not demo_volunteers.covers(member, tuesday_morning, SH)


def test_plan_history_is_deterministic_and_keeps_the_rules() -> None:
    """Pure: the same seed plans the same history; nobody holds overlapping shifts or more
    than needed; ~8% no-shows; the retired steward stops; recent hours wait."""
    print("seed 5")
    slots = _slots(30)
    crew = [demo_volunteers.Member(i, 100 + i, tuple((d, time(6, 30), time(20, 30))
                                                     for d in range(7)))
            for i in range(1, 6)]
    crew.append(demo_volunteers.Member(6, 106, (), until=slots[0].local_date
                                       + timedelta(days=9)))
    now = slots[-1].ends_at + timedelta(hours=1)
    today = now.astimezone(SH).date()

    def plan() -> demo_volunteers.History:
        return demo_volunteers.plan_history(random.Random(5), slots, crew, now=now,
                                            today=today, tz="Asia/Shanghai", manager_id=1)

    history = plan()
    assert history == plan()
    by_id = {s.shift_id: s for s in slots}
    held = [r for r in history.assignments if r["status"] != "cancelled"]
    per_shift = Counter(r["shift_id"] for r in held)
    assert all(n <= by_id[i].needed for i, n in per_shift.items())
    assert len(per_shift) > 0.85 * len(slots)
    for steward_id in {r["steward_id"] for r in held}:
        mine = sorted((by_id[r["shift_id"]] for r in held if r["steward_id"] == steward_id),
                      key=lambda s: s.starts_at)
        assert all(b.starts_at >= a.ends_at for a, b in zip(mine, mine[1:], strict=False))
    assert all(by_id[r["shift_id"]].local_date <= crew[-1].until
               for r in held if r["steward_id"] == 6)
    shares = Counter(r["status"] for r in held)
    assert 0.04 <= shares["no_show"] / len(held) <= 0.13
    recent = today - timedelta(days=demo_volunteers.PENDING_DAYS)
    assert {r["hours_status"] for r in held if by_id[r["shift_id"]].local_date > recent
            and r["status"] == "done"} == {"pending"}
    assert set(history.logs) <= {(r["shift_id"], r["steward_id"]) for r in held
                                 if r["status"] == "done"}
