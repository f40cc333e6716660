"""Shift services on both databases: generation, schedule changes, sign-up and its refusals,
managers' assignments, coverage around window edges, and (PostgreSQL) racing sign-ups."""
from __future__ import annotations

import random
import threading
from datetime import date, datetime, time, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlmodel import Session, col

from community.auth import policy
from community.auth import services as auth_services
from community.db import get_engine
from community.errors import Forbidden, InvalidInput, NotFound
from community.stations.manage import services as stations_management
from community.stations.models import Station
from community.stations.schemas import ExceptionIn
from community.volunteers.models import Shift, ShiftAssignment, Steward
from community.volunteers.shifts import queries as shift_pages
from community.volunteers.shifts import services as shifts
from community.volunteers.shifts.schemas import AssignIn, GenerateIn, NeededIn
from tests import builders
from tests.volunteers.shifts import builders as rb
from tests.volunteers.shifts.builders import SH

# A Wednesday morning in Shanghai; the station builder's windows are 07-09 and 18-20 daily.
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=SH)
TODAY = NOW.date()


def at(day: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=SH)


def actor(session: Session, account) -> object:
    return auth_services.load_actor(session, account.id)


def table(session: Session, model) -> list[tuple]:
    """Every row of a table, for "nothing changed" checks."""
    session.expire_all()
    t = model.__table__
    return [tuple(r) for r in session.execute(select(t).order_by(*t.primary_key.columns)).all()]


def snapshot(session: Session) -> tuple[list, list, list]:
    return table(session, Shift), table(session, ShiftAssignment), table(session, Steward)


def generate(session: Session, world: builders.World, weeks: int = 1, now: datetime = NOW,
             **kw) -> shifts.GenerateReport:
    report = shifts.generate_shifts(session, actor=actor(session, world.manager_a),
                                    community_id=world.a.id, now=now,
                                    data=GenerateIn.parse(weeks=weeks, **kw))
    session.commit()
    return report


def open_shifts(session: Session, station: Station) -> list[Shift]:
    session.expire_all()
    return list(session.execute(select(Shift).where(
        col(Shift.station_id) == station.id, col(Shift.status) == "open")
        .order_by(col(Shift.starts_at))).scalars())


# --- Generation ----------------------------------------------------------------------------

def test_generation_creates_future_window_shifts_and_is_idempotent(
        session: Session, world: builders.World) -> None:
    st = builders.station(session, world.a)
    session.commit()
    report = generate(session, world)
    # Wed 07-09 has started: Wed evening plus six more days of two windows.
    assert report == shifts.GenerateReport(created=13)
    rows = open_shifts(session, st)
    assert len(rows) == 13
    assert rows[0].starts_at == at(TODAY, 18)
    assert rows[0].ends_at == at(TODAY, 20)
    assert rows[0].local_date == TODAY
    assert rows[0].window_id is not None
    assert all(r.needed == 1 and r.community_id == world.a.id for r in rows)
    before = table(session, Shift)
    again = generate(session, world)
    assert again == shifts.GenerateReport(kept=13)
    assert table(session, Shift) == before
    # A longer horizon adds only the new days.
    assert generate(session, world, weeks=2).created == 14


def test_generation_uses_the_needed_count_for_new_shifts_only(
        session: Session, world: builders.World) -> None:
    st = builders.station(session, world.a)
    session.commit()
    generate(session, world, needed=2)
    generate(session, world, weeks=2, needed=3)
    needs = [s.needed for s in open_shifts(session, st)]
    assert needs[:13] == [2] * 13
    assert needs[13:] == [3] * 14


def test_generation_ignores_other_communities(session: Session, world: builders.World) -> None:
    builders.station(session, world.a)
    other = builders.station(session, world.b)
    session.commit()
    generate(session, world)
    assert open_shifts(session, other) == []


def test_generation_refusals(session: Session, world: builders.World) -> None:
    builders.station(session, world.a)
    session.commit()
    with pytest.raises(Forbidden):
        shifts.generate_shifts(session, actor=actor(session, world.manager_b),
                               community_id=world.a.id, data=GenerateIn.parse(weeks=1), now=NOW)
    with pytest.raises(Forbidden):
        shifts.generate_shifts(session, actor=actor(session, world.steward_a),
                               community_id=world.a.id, data=GenerateIn.parse(weeks=1), now=NOW)
    for weeks, needed in ((0, 1), (13, 1), (1, 0), (1, 21)):
        with pytest.raises(InvalidInput):
            shifts.generate_shifts(session, actor=actor(session, world.manager_a),
                                   community_id=world.a.id, now=NOW,
                                   data=GenerateIn.parse(weeks=weeks, needed=needed))
    with pytest.raises(NotFound):
        shifts.generate_shifts(session, actor=actor(session, world.city_admin),
                               community_id=world.street_a.id, data=GenerateIn.parse(weeks=1),
                               now=NOW)
    session.rollback()
    assert table(session, Shift) == []


def test_schedule_change_moves_and_cancels_only_future_unfilled_shifts(
        session: Session, world: builders.World) -> None:
    st = builders.station(session, world.a)
    past = rb.shift(session, st, at(TODAY, 7))  # today's morning shift, already running
    sw = rb.steward(session, world.a)
    session.commit()
    generate(session, world)
    thursday = TODAY + timedelta(days=1)
    held = session.execute(select(Shift).where(col(Shift.starts_at) == at(thursday, 7))
                           ).scalar_one()
    rb.assignment(session, held, sw)
    session.commit()
    manager = actor(session, world.manager_a)
    # Mornings move to 07:30-09:30, evenings go away, a noon window appears.
    stations_management.set_weekly_windows(
        session, actor=manager, station_id=st.id,
        week=builders.week({d: [(time(7, 30), time(9, 30)), (time(12), time(13))]
                            for d in range(7)}), now=NOW)  # a version from today on
    session.commit()
    report = generate(session, world)
    # 5 mornings moved (today's has begun, Thursday's is held); 7 evenings gone; 7 noons new.
    assert report == shifts.GenerateReport(created=7, updated=5, cancelled=7, kept=0, held=1)
    session.expire_all()
    assert session.get(Shift, held.id).starts_at == at(thursday, 7)  # type: ignore[union-attr]
    assert session.get(Shift, held.id).status == "open"  # type: ignore[union-attr]
    assert session.get(Shift, past.id).starts_at == at(TODAY, 7)  # type: ignore[union-attr]
    opened = [(s.starts_at, s.ends_at) for s in open_shifts(session, st)]
    friday = TODAY + timedelta(days=2)
    assert (at(friday, 7, 30), at(friday, 9, 30)) in opened
    assert (at(friday, 12), at(friday, 13)) in opened
    assert not any(s.astimezone(SH).hour == 18 for s, _e in opened)
    # Running it again changes nothing.
    before = table(session, Shift)
    assert generate(session, world) == shifts.GenerateReport(kept=12, held=1)
    assert table(session, Shift) == before


def test_closed_day_cancels_and_reopening_restores(session: Session,
                                                   world: builders.World) -> None:
    st = builders.station(session, world.a)
    session.commit()
    generate(session, world)
    friday = TODAY + timedelta(days=2)
    manager = actor(session, world.manager_a)
    exc = stations_management.add_exception(session, actor=manager, station_id=st.id,
                                            data=ExceptionIn.parse(day=friday), now=NOW)
    session.commit()
    assert generate(session, world) == shifts.GenerateReport(cancelled=2, kept=11)
    cancelled = session.execute(select(Shift).where(col(Shift.local_date) == friday)).scalars()
    assert {s.status for s in cancelled} == {"cancelled"}
    stations_management.remove_exception(session, actor=manager, exception_id=exc.id,
                                       now=NOW)
    session.commit()
    assert generate(session, world) == shifts.GenerateReport(updated=2, kept=11)
    assert len(open_shifts(session, st)) == 13
    assert session.execute(select(func.count()).select_from(Shift)).scalar_one() == 13


def test_special_hours_replace_that_days_shifts(session: Session,
                                                world: builders.World) -> None:
    st = builders.station(session, world.a)
    session.commit()
    generate(session, world)
    friday = TODAY + timedelta(days=2)
    stations_management.add_exception(session, actor=actor(session, world.manager_a),
                                      station_id=st.id, now=NOW, data=ExceptionIn.parse(
                                          day=friday, start=time(8), end=time(11)))
    session.commit()
    report = generate(session, world)
    # 08-11 overlaps 07-09 the most: that shift moves; 18-20 is cancelled.
    assert report == shifts.GenerateReport(updated=1, cancelled=1, kept=11)
    day = [s for s in open_shifts(session, st) if s.local_date == friday]
    assert [(s.starts_at, s.ends_at, s.window_id) for s in day] == [
        (at(friday, 8), at(friday, 11), None)]


def test_suspended_station_loses_its_unfilled_future_shifts(
        session: Session, world: builders.World) -> None:
    st = builders.station(session, world.a)
    sw = rb.steward(session, world.a)
    session.commit()
    generate(session, world)
    first = open_shifts(session, st)[0]
    rb.assignment(session, first, sw)
    stations_management.set_station_status(session, actor=actor(session, world.manager_a),
                                           station_id=st.id, status="suspended")
    session.commit()
    assert generate(session, world) == shifts.GenerateReport(cancelled=12, held=1)
    assert [s.id for s in open_shifts(session, st)] == [first.id]


def test_generate_all_covers_every_community_with_stations(
        session: Session, world: builders.World) -> None:
    builders.station(session, world.a)
    builders.station(session, world.b, ranges=((8, 10),))
    session.commit()
    report = shifts.generate_all(session, now=NOW, weeks=1)
    session.commit()
    assert report.created == 13 + 6  # B: 08-10 daily, today's has begun
    again = shifts.generate_all(session, now=NOW, weeks=1)
    assert again == shifts.GenerateReport(kept=19)


# --- Sign-up, cancel ------------------------------------------------------------------------

@pytest.fixture
def setup(session: Session, world: builders.World):
    """A station of A with one shift tomorrow 07:00-09:00 and an approved steward."""
    st = builders.station(session, world.a, "东门投放亭")
    sh = rb.shift(session, st, at(TODAY + timedelta(days=1), 7))
    sw = rb.steward(session, world.a)
    session.commit()
    return st, sh, sw


def steward_actor(session: Session, sw: Steward):
    return auth_services.load_actor(session, sw.account_id)


def test_sign_up_then_cancel_then_sign_up_again_reuses_the_row(session: Session, setup) -> None:
    _st, sh, sw = setup
    who = steward_actor(session, sw)
    row = shifts.sign_up(session, actor=who, shift_id=sh.id, now=NOW)
    session.commit()
    assert (row.status, row.assigned_by) == ("signed_up", None)
    cancelled = shifts.cancel_signup(session, actor=who, shift_id=sh.id, now=NOW)
    session.commit()
    assert cancelled.status == "cancelled"
    assert cancelled.cancelled_at == NOW
    again = shifts.sign_up(session, actor=who, shift_id=sh.id, now=NOW)
    session.commit()
    assert again.id == row.id
    assert again.status == "signed_up"
    assert again.cancelled_at is None
    assert session.execute(select(func.count()).select_from(ShiftAssignment)).scalar_one() == 1


def test_cut_off_is_two_hours_before_the_start(session: Session, setup) -> None:
    _st, sh, sw = setup
    who = steward_actor(session, sw)
    last_moment = sh.starts_at - timedelta(hours=2, seconds=1)
    shifts.sign_up(session, actor=who, shift_id=sh.id, now=last_moment)
    shifts.cancel_signup(session, actor=who, shift_id=sh.id, now=last_moment)
    session.commit()
    before = snapshot(session)
    with pytest.raises(shifts.SignupClosed):
        shifts.sign_up(session, actor=who, shift_id=sh.id, now=sh.starts_at - timedelta(hours=2))
    session.rollback()
    assert snapshot(session) == before


def refused(session: Session, exc: type[Exception], fn, **kw) -> None:
    """`fn` raises `exc` and leaves every shift, assignment and steward row as it was."""
    before = snapshot(session)
    with pytest.raises(exc):
        fn(session, **kw)
    session.rollback()
    assert snapshot(session) == before


def test_every_sign_up_refusal_changes_nothing(session: Session, world: builders.World,
                                               setup) -> None:
    st, sh, sw = setup
    who = steward_actor(session, sw)
    tomorrow = TODAY + timedelta(days=1)
    other_station = builders.station(session, world.a, "西门投放亭")
    overlapping = rb.shift(session, other_station, at(tomorrow, 8))
    back_to_back = rb.shift(session, other_station, at(tomorrow, 9))
    cancelled = rb.shift(session, st, at(tomorrow, 12), status="cancelled")
    full = rb.shift(session, st, at(tomorrow, 14))
    rb.assignment(session, full, rb.steward(session, world.a))
    pending = rb.steward(session, world.a, status="pending")
    foreign = rb.steward(session, world.b)
    session.commit()
    shifts.sign_up(session, actor=who, shift_id=sh.id, now=NOW)
    session.commit()

    def sign(session: Session, who, shift_id: int, now: datetime = NOW):
        return shifts.sign_up(session, actor=who, shift_id=shift_id, now=now)

    refused(session, shifts.OverlappingShift, sign, who=who, shift_id=overlapping.id)
    refused(session, shifts.AlreadySignedUp, sign, who=who, shift_id=sh.id)
    refused(session, shifts.ShiftFull, sign, who=who, shift_id=full.id)
    refused(session, shifts.ShiftCancelled, sign, who=who, shift_id=cancelled.id)
    refused(session, shifts.ShiftOver, sign, who=who, shift_id=sh.id,
            now=sh.ends_at + timedelta(minutes=1))
    refused(session, shifts.NotSteward, sign, who=steward_actor(session, pending),
            shift_id=sh.id)
    refused(session, shifts.NotSteward, sign, who=steward_actor(session, foreign),
            shift_id=overlapping.id)
    refused(session, shifts.NotSteward, sign, who=actor(session, world.manager_a),
            shift_id=overlapping.id)
    refused(session, NotFound, sign, who=who, shift_id=999_999)
    # Touching is not overlapping: 07-09 then 09-11 is fine.
    shifts.sign_up(session, actor=who, shift_id=back_to_back.id, now=NOW)
    session.commit()


def test_cancel_refusals_change_nothing(session: Session, world: builders.World, setup) -> None:
    st, sh, sw = setup
    who = steward_actor(session, sw)
    shifts.sign_up(session, actor=who, shift_id=sh.id, now=NOW)
    unsigned = rb.shift(session, st, at(TODAY + timedelta(days=2), 7))
    session.commit()

    def cancel(session: Session, shift_id: int, now: datetime = NOW, who=who):
        return shifts.cancel_signup(session, actor=who, shift_id=shift_id, now=now)

    refused(session, shifts.SignupClosed, cancel, shift_id=sh.id,
            now=sh.starts_at - timedelta(minutes=90))
    refused(session, shifts.NotSignedUp, cancel, shift_id=unsigned.id)
    refused(session, shifts.NotSteward, cancel, shift_id=sh.id,
            who=actor(session, world.manager_b))
    row = session.execute(select(ShiftAssignment)).scalar_one()
    row.checked_in_at = sh.starts_at - timedelta(minutes=10)
    session.commit()
    refused(session, shifts.AlreadyCheckedIn, cancel, shift_id=sh.id,
            now=sh.starts_at - timedelta(hours=3))


# --- Managers ------------------------------------------------------------------------------

def test_manager_assigns_past_the_cut_off_but_not_beyond_needed_or_overlap(
        session: Session, world: builders.World, setup) -> None:
    st, sh, sw = setup
    manager = actor(session, world.manager_a)
    late = sh.starts_at - timedelta(minutes=30)
    row = shifts.assign(session, actor=manager, shift_id=sh.id,
                        data=AssignIn.parse(steward_id=sw.id), now=late)
    session.commit()
    assert row.assigned_by == world.manager_a.id
    second = rb.steward(session, world.a)
    overlapping = rb.shift(session, st, sh.starts_at + timedelta(hours=1))
    pending = rb.steward(session, world.a, status="pending")
    foreign = rb.steward(session, world.b)
    session.commit()

    def assign(session: Session, shift_id: int, steward_id: int, who=manager):
        return shifts.assign(session, actor=who, shift_id=shift_id,
                             data=AssignIn.parse(steward_id=steward_id), now=late)

    refused(session, shifts.ShiftFull, assign, shift_id=sh.id, steward_id=second.id)
    refused(session, shifts.OverlappingShift, assign, shift_id=overlapping.id,
            steward_id=sw.id)
    refused(session, shifts.StewardNotApproved, assign, shift_id=overlapping.id,
            steward_id=pending.id)
    refused(session, shifts.StewardNotApproved, assign, shift_id=overlapping.id,
            steward_id=foreign.id)
    refused(session, Forbidden, assign, shift_id=sh.id, steward_id=second.id,
            who=actor(session, world.manager_b))
    refused(session, shifts.ShiftOver, lambda s, **kw: shifts.assign(
        s, actor=manager, shift_id=overlapping.id, data=AssignIn.parse(steward_id=second.id),
        now=overlapping.ends_at))
    # Raising `needed` makes room.
    shifts.set_needed(session, actor=manager, shift_id=sh.id, data=NeededIn.parse(needed=2),
                      now=late)
    shifts.assign(session, actor=manager, shift_id=sh.id,
                  data=AssignIn.parse(steward_id=second.id), now=late)
    session.commit()
    assert shifts.active_count(session, sh.id) == 2


def test_unassign_and_needed_rules(session: Session, world: builders.World, setup) -> None:
    _st, sh, sw = setup
    manager = actor(session, world.manager_a)
    row = shifts.assign(session, actor=manager, shift_id=sh.id,
                        data=AssignIn.parse(steward_id=sw.id), now=NOW)
    session.commit()

    def needed(session: Session, n: int, now: datetime = NOW, who=manager):
        return shifts.set_needed(session, actor=who, shift_id=sh.id,
                                 data=NeededIn.parse(needed=n), now=now)

    def unassign(session: Session, now: datetime = NOW, who=manager):
        return shifts.unassign(session, actor=who, assignment_id=row.id, now=now)

    refused(session, InvalidInput, needed, n=0)
    refused(session, InvalidInput, needed, n=21)
    refused(session, Forbidden, needed, n=3, who=actor(session, world.manager_b))
    refused(session, shifts.ShiftOver, needed, n=3, now=sh.ends_at)
    refused(session, Forbidden, unassign, who=actor(session, world.manager_b))
    refused(session, shifts.ShiftOver, unassign, now=sh.ends_at)
    shifts.set_needed(session, actor=manager, shift_id=sh.id, data=NeededIn.parse(needed=3),
                      now=NOW)
    session.commit()
    shifts.unassign(session, actor=manager, assignment_id=row.id,
                    now=sh.starts_at - timedelta(minutes=5))  # no cut-off for managers
    session.commit()
    refused(session, shifts.NotSignedUp, unassign)
    shifts.assign(session, actor=manager, shift_id=sh.id,
                  data=AssignIn.parse(steward_id=sw.id), now=NOW)
    session.commit()
    row2 = session.execute(select(ShiftAssignment).where(
        col(ShiftAssignment.steward_id) == sw.id)).scalar_one()
    row2.checked_in_at = sh.starts_at
    session.commit()
    refused(session, shifts.AlreadyCheckedIn, unassign, now=sh.starts_at + timedelta(minutes=5))


def test_needed_cannot_drop_below_the_stewards_on_the_shift(
        session: Session, world: builders.World, setup) -> None:
    _st, sh, sw = setup
    manager = actor(session, world.manager_a)
    shifts.set_needed(session, actor=manager, shift_id=sh.id, data=NeededIn.parse(needed=2),
                      now=NOW)
    rb.assignment(session, sh, sw)
    rb.assignment(session, sh, rb.steward(session, world.a))
    session.commit()
    refused(session, shifts.NeededBelowSignups, lambda s, **kw: shifts.set_needed(
        s, actor=manager, shift_id=sh.id, data=NeededIn.parse(needed=1), now=NOW))


# --- Coverage on stored shifts ------------------------------------------------------------

def test_coverage_week_around_window_edges(session: Session, world: builders.World) -> None:
    st = builders.station(session, world.a, "南门投放亭")
    monday = date(2026, 11, 16)
    s_start = rb.shift(session, st, at(monday, 7))                 # check-in exactly at start
    s_end = rb.shift(session, st, at(monday, 18))                  # exactly at the end
    s_night = rb.shift(session, st, at(monday, 22), minutes=180)   # 22:00-01:00, in at 00:30
    s_early_left = rb.shift(session, st, at(TODAY - timedelta(days=1), 7))  # left at start
    s_future = rb.shift(session, st, at(TODAY + timedelta(days=1), 7), needed=2)
    rb.shift(session, st, at(TODAY + timedelta(days=1), 18), status="cancelled")
    a, b = rb.steward(session, world.a), rb.steward(session, world.a)
    rb.assignment(session, s_start, a, status="done", checked_in_at=at(monday, 7),
                  checked_out_at=at(monday, 9))
    rb.assignment(session, s_end, a, checked_in_at=at(monday, 20))
    rb.assignment(session, s_night, b, status="done",
                  checked_in_at=at(monday + timedelta(days=1), 0, 30))
    rb.assignment(session, s_early_left, a, checked_in_at=at(TODAY - timedelta(days=1), 6, 40),
                  checked_out_at=at(TODAY - timedelta(days=1), 7))
    rb.assignment(session, s_future, b)
    session.commit()
    week = shift_pages.coverage_week(session, actor=actor(session, world.manager_a),
                                     community_id=world.a.id, week=TODAY, now=NOW)
    assert week.week == monday
    (row,) = week.rows
    states = {s.id: st_.state for cell in row.cells for s, st_ in cell.shifts}
    assert states == {s_start.id: "staffed", s_end.id: "unstaffed", s_night.id: "staffed",
                      s_early_left.id: "unstaffed", s_future.id: "short"}
    assert (week.rate.numerator, week.rate.denominator) == (2, 4)
    # The night shift sits in Monday's column (its start date).
    assert [s.id for s, _ in row.cells[0].shifts] == [s_start.id, s_end.id, s_night.id]


def test_at_risk_lists_short_shifts_in_the_next_48_hours(session: Session,
                                                         world: builders.World) -> None:
    st = builders.station(session, world.a)
    soon_empty = rb.shift(session, st, NOW + timedelta(hours=3))
    soon_short = rb.shift(session, st, NOW + timedelta(hours=24), needed=2)
    soon_full = rb.shift(session, st, NOW + timedelta(hours=30))
    rb.shift(session, st, NOW + timedelta(hours=49))                       # too far
    rb.shift(session, st, NOW + timedelta(hours=5), status="cancelled")    # cancelled
    rb.shift(session, st, NOW - timedelta(hours=1))                        # started
    sw = rb.steward(session, world.a)
    rb.assignment(session, soon_short, sw)
    rb.assignment(session, soon_full, sw)
    session.commit()
    data = shift_pages.at_risk(session, actor=actor(session, world.manager_a),
                               community_id=world.a.id, now=NOW)
    assert [(s.id, st_.state) for s, _n, st_ in data.rows] == [
        (soon_empty.id, "empty"), (soon_short.id, "short")]
    with pytest.raises(Forbidden):
        shift_pages.at_risk(session, actor=actor(session, world.manager_b),
                            community_id=world.a.id, now=NOW)


# --- Calendar key --------------------------------------------------------------------------

def test_calendar_key_made_once_and_replaced_on_request(session: Session,
                                                        world: builders.World, setup) -> None:
    _st, _sh, sw = setup
    ((row, _area),) = shifts.calendar_keys(session, account_id=sw.account_id)
    session.commit()
    key = row.calendar_key
    assert key
    assert len(key) == 32
    ((again, _area),) = shifts.calendar_keys(session, account_id=sw.account_id)
    assert again.calendar_key == key
    assert shift_pages.steward_by_key(session, key)[0].id == sw.id
    shifts.new_calendar_key(session, actor=steward_actor(session, sw), steward_id=sw.id)
    session.commit()
    with pytest.raises(NotFound):
        shift_pages.steward_by_key(session, key)
    for other in (actor(session, world.manager_a), policy.Actor(None, [])):
        with pytest.raises(NotFound):
            shifts.new_calendar_key(session, actor=other, steward_id=sw.id)


# --- Concurrency (PostgreSQL: SQLite serializes writers) ----------------------------------

THREADS = 8


def _race(app: Flask, calls: list) -> tuple[list, list[str]]:
    """Run the calls in threads released together; (successes, refusal names)."""
    engine = get_engine(app)
    barrier = threading.Barrier(len(calls))
    ok: list = []
    errors: list[str] = []
    crashes: list[str] = []

    def worker(fn) -> None:
        with Session(engine, expire_on_commit=False) as s:
            barrier.wait()
            try:
                fn(s)
                s.commit()
                ok.append(fn)
            except (shifts.ShiftFull, shifts.OverlappingShift, shifts.AlreadySignedUp) as exc:
                s.rollback()
                errors.append(type(exc).__name__)
            except Exception as exc:  # noqa: BLE001 - reported below
                crashes.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(fn,)) for fn in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert crashes == []
    return ok, errors


@pytest.mark.real_db
def test_stewards_racing_for_a_shift_needing_two_get_exactly_two(
        app: Flask, db_url: str, session: Session, world: builders.World) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrency is tested on PostgreSQL (SQLite serializes writers)")
    seed = random.randrange(1 << 30)
    print(f"seed={seed}")  # noqa: T201 - reproduce the thread order
    rng = random.Random(seed)
    st = builders.station(session, world.a)
    sh = rb.shift(session, st, at(TODAY + timedelta(days=1), 7), needed=2)
    people = [rb.steward(session, world.a) for _ in range(THREADS)]
    session.commit()
    rng.shuffle(people)
    actors = [steward_actor(session, p) for p in people]
    calls = [lambda s, who=who: shifts.sign_up(s, actor=who, shift_id=sh.id, now=NOW)
             for who in actors]
    ok, errors = _race(app, calls)
    assert len(ok) == 2
    assert errors == ["ShiftFull"] * (THREADS - 2)
    session.expire_all()
    assert shifts.active_count(session, sh.id) == 2


@pytest.mark.real_db
def test_one_steward_racing_for_two_overlapping_shifts_gets_one(
        app: Flask, db_url: str, session: Session, world: builders.World) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrency is tested on PostgreSQL (SQLite serializes writers)")
    st = builders.station(session, world.a)
    other = builders.station(session, world.a)
    first = rb.shift(session, st, at(TODAY + timedelta(days=1), 7), needed=5)
    second = rb.shift(session, other, at(TODAY + timedelta(days=1), 8), needed=5)
    sw = rb.steward(session, world.a)
    session.commit()
    who = steward_actor(session, sw)
    calls = [lambda s, i=i: shifts.sign_up(s, actor=who, shift_id=(first, second)[i % 2].id,
                                           now=NOW) for i in range(THREADS)]
    ok, errors = _race(app, calls)
    session.expire_all()
    held = session.execute(select(func.count()).select_from(ShiftAssignment).where(
        col(ShiftAssignment.status) == "signed_up")).scalar_one()
    assert held == 1
    assert len(ok) == 1
    assert len(errors) == THREADS - 1
    # Threads on the other shift see the overlap; those on the same one, their own place.
    assert errors.count("OverlappingShift") == THREADS // 2
