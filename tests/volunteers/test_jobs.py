"""The volunteer jobs: the end of shifts (auto check-out at the shift's end, no-show marking)
and shift reminders (one per assignment), both idempotent."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import url_for
from sqlmodel import Session, select

from community.inbox.models import Notification
from community.volunteers import jobs
from tests import builders
from tests.builders import World
from tests.volunteers.checkins import builders as bc
from tests.volunteers.checkins.builders import END, START
from tests.volunteers.stewards import builders as sb

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai


def _notes(session: Session, account_id: int | None = None) -> list[Notification]:
    sb.fresh(session)
    stmt = select(Notification).order_by(Notification.id)
    if account_id is not None:
        stmt = stmt.where(Notification.account_id == account_id)
    return list(session.exec(stmt).all())


def _stewards(session: Session, world: builders.World, n: int):
    return [bc.steward(session, builders.account(session, "steward", world.a), world.a)
            for _ in range(n)]


def run(session: Session, now) -> dict[str, int]:
    counts = jobs.close_finished_shifts(session, now=now)
    session.commit()
    return counts


def test_closes_ended_shift(session: Session, world: builders.World) -> None:
    st = builders.station(session, world.a)
    ended = bc.shift(session, st)
    running = bc.shift(session, st, END + timedelta(hours=1), END + timedelta(hours=3))
    in_only, in_out, absent, cancelled, later = _stewards(session, world, 5)
    a_in = bc.assign(session, ended, in_only, checked_in_at=START + timedelta(minutes=4),
                     check_in_method="code")
    out_at = START + timedelta(minutes=90)
    a_out = bc.assign(session, ended, in_out, checked_in_at=START - timedelta(minutes=10),
                      check_in_method="chief", checked_out_at=out_at, check_out_method="code",
                      status="done", minutes=100, hours_status="pending")
    a_absent = bc.assign(session, ended, absent)
    a_cancel = bc.assign(session, ended, cancelled, status="cancelled")
    a_later = bc.assign(session, running, later)
    a_later_in = bc.assign(session, running, in_only, checked_in_at=END + timedelta(hours=1),
                           check_in_method="code")
    session.commit()
    before_later = [bc.assignment(session, a.id) for a in (a_later, a_later_in, a_cancel)]

    counts = run(session, END + timedelta(minutes=1))
    assert counts == {"closed": 1, "auto_checked_out": 1, "no_shows": 1}

    auto = bc.assignment(session, a_in.id)
    assert auto.status == "done"
    assert auto.checked_out_at == END
    assert auto.check_out_method == "auto"
    assert auto.minutes == 116
    assert auto.hours_status == "pending"
    assert auto.check_in_method == "code"
    kept = bc.assignment(session, a_out.id)
    assert (kept.checked_out_at, kept.check_out_method, kept.minutes) == (out_at, "code", 100)
    assert bc.assignment(session, a_absent.id).status == "no_show"
    assert bc.assignment(session, a_absent.id).hours_status is None
    # Cancelled sign-ups and shifts still running are left alone.
    assert [bc.assignment(session, a.id) for a in (a_later, a_later_in, a_cancel)] == \
        before_later


def test_idempotent(session: Session, world: builders.World) -> None:
    st = builders.station(session, world.a)
    on = bc.shift(session, st)
    present, absent = _stewards(session, world, 2)
    bc.assign(session, on, present, checked_in_at=START, check_in_method="code")
    bc.assign(session, on, absent)
    session.commit()
    first = run(session, END + timedelta(hours=1))
    assert first == {"closed": 1, "auto_checked_out": 1, "no_shows": 1}
    state = bc.assignments(session)
    assert run(session, END + timedelta(hours=2)) == {"closed": 0, "auto_checked_out": 0,
                                                       "no_shows": 0}
    assert bc.assignments(session) == state


def test_not_ended_yet(session: Session, world: builders.World) -> None:
    """At the very end the shift is closed; a second earlier nothing happens."""
    st = builders.station(session, world.a)
    on = bc.shift(session, st)
    (absent,) = _stewards(session, world, 1)
    a = bc.assign(session, on, absent)
    session.commit()
    assert run(session, END - timedelta(seconds=1))["no_shows"] == 0
    assert bc.assignment(session, a.id).status == "signed_up"
    assert run(session, END)["no_shows"] == 1
    assert bc.assignment(session, a.id).status == "no_show"


def test_cancelled_shift_left_alone(session: Session, world: builders.World) -> None:
    st = builders.station(session, world.a)
    on = bc.shift(session, st, status="cancelled")
    (absent,) = _stewards(session, world, 1)
    a = bc.assign(session, on, absent)
    session.commit()
    assert run(session, END + timedelta(hours=1)) == {"closed": 0, "auto_checked_out": 0,
                                                       "no_shows": 0}
    assert bc.assignment(session, a.id).status == "signed_up"


def test_checked_out_but_open_assignment_is_closed(session: Session,
                                                   world: builders.World) -> None:
    """An assignment with a check-out but still open (e.g. an old import) is closed with its
    own check-out time, not the shift's end."""
    st = builders.station(session, world.a)
    on = bc.shift(session, st)
    (who,) = _stewards(session, world, 1)
    out = START + timedelta(minutes=45)
    a = bc.assign(session, on, who, checked_in_at=START, check_in_method="code",
                  checked_out_at=out, check_out_method="code")
    session.commit()
    assert run(session, END) == {"closed": 1, "auto_checked_out": 0, "no_shows": 0}
    fresh = bc.assignment(session, a.id)
    assert (fresh.status, fresh.checked_out_at, fresh.check_out_method, fresh.minutes) == \
        ("done", out, "code", 45)


# --- Reminders ------------------------------------------------------------------------------

def test_reminders_once_per_assignment(app, session: Session, world: World) -> None:
    station = builders.station(session, world.a, "玉龙东门")
    steward = sb.steward(session, world.a)
    other = sb.steward(session, world.a)
    soon = sb.shift(session, station, NOW + timedelta(minutes=90))
    mine = sb.assignment(session, soon, steward)
    sb.assignment(session, soon, other, status="cancelled")
    session.commit()

    assert jobs.remind_upcoming_shifts(session, now=NOW) == {"due": 1, "sent": 1}
    session.commit()
    assert jobs.remind_upcoming_shifts(session, now=NOW) == {"due": 1, "sent": 0}
    later = NOW + timedelta(minutes=30)
    assert jobs.remind_upcoming_shifts(session, now=later) == {"due": 1, "sent": 0}
    session.commit()
    notes = _notes(session)
    assert len(notes) == 1
    note = notes[0]
    assert note.account_id == steward.account_id
    assert note.kind == "shift_reminder"
    assert note.dedupe_key == f"shift_reminder:{mine.id}"
    # Local time of the community (Shanghai): 09:00 UTC + 90 min = 18:30 +08:00.
    assert note.params == {"station": "玉龙东门", "starts_at": "2026-05-04T18:30+08:00",
                           "shift_id": soon.id}
    with app.test_request_context("/"):
        assert note.link == url_for("shifts.mine")  # the steward's "my shifts" page


def test_no_reminders_for_cancelled_past_or_far_shifts(session: Session, world: World) -> None:
    station = builders.station(session, world.a)
    steward = sb.steward(session, world.a)
    retired = sb.steward(session, world.a, status="retired")
    cancelled = sb.shift(session, station, NOW + timedelta(hours=1), status="cancelled")
    started = sb.shift(session, station, NOW - timedelta(minutes=10))
    at_now = sb.shift(session, station, NOW)
    far = sb.shift(session, station, NOW + timedelta(hours=2, minutes=1))
    edge = sb.shift(session, station, NOW + timedelta(hours=2))
    for s in (cancelled, started, at_now, far):
        sb.assignment(session, s, steward)
    sb.assignment(session, edge, steward, status="no_show")
    sb.assignment(session, edge, retired)
    session.commit()
    assert jobs.remind_upcoming_shifts(session, now=NOW) == {"due": 0, "sent": 0}
    assert _notes(session) == []
    # The window's far edge is included: a signed-up steward on it is reminded.
    sb.assignment(session, edge, sb.steward(session, world.a))
    session.commit()
    assert jobs.remind_upcoming_shifts(session, now=NOW) == {"due": 1, "sent": 1}
