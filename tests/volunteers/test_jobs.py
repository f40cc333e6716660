"""The end-of-shift job: auto check-out at the shift's end, no-show marking, idempotent."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from community.volunteers import jobs
from tests import builders
from tests.volunteers import builders_checkin as bc
from tests.volunteers.builders_checkin import END, START


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
