"""Check-in and check-out with the rotating station code, the chief's hand confirmation, the
station code display and the steward's check-in page. Every refusal leaves the data as it
was."""
from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from community import clock
from community.auth import policy
from community.auth import services as auth_services
from community.auth.models import Account
from community.errors import Forbidden, NotFound, OwnDecision
from community.volunteers.checkins import codes
from community.volunteers.checkins import queries as checkin_queries
from community.volunteers.checkins import rules as checkin_rules
from community.volunteers.checkins import services as checkins
from tests import builders
from tests.residents.helpers import decode_png
from tests.stations.helpers import english
from tests.volunteers.checkins import builders as bc
from tests.volunteers.checkins.builders import END, KEY, START


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """Services raise translatable errors: give them a request context."""
    with app.test_request_context():
        yield


@pytest.fixture
def post(session: Session, world: builders.World) -> bc.Post:
    return bc.post(session, world)


def actor(session: Session, acct) -> policy.Actor:
    who = auth_services.load_actor(session, acct.id)
    session.commit()
    return who


def check_in(session: Session, p: bc.Post, text: str, at, who=None) -> checkin_queries.ShiftRow:
    row = checkins.check_in(session, actor=actor(session, who or p.steward_account), key=KEY,
                            text=text, now=at)
    session.commit()
    return row


def refused(session: Session, fn, exc: type[Exception], **kwargs) -> Exception:
    """Call a service expecting a refusal; roll back; return the error."""
    with pytest.raises(exc) as info:
        fn(session, **kwargs)
    session.rollback()
    return info.value


# --- Check-in ------------------------------------------------------------------------------

@pytest.mark.usefixtures("ctx")
def test_check_in_with_scanned_code(session: Session, post: bc.Post) -> None:
    at = START + timedelta(minutes=3)
    row = check_in(session, post, bc.code_text(post.station, at), at)
    assert row.assignment.id == post.assignment.id
    fresh = bc.assignment(session, post.assignment.id)
    assert fresh.checked_in_at == at
    assert fresh.check_in_method == "code"
    assert fresh.status == "signed_up"
    assert fresh.checked_out_at is None
    assert fresh.confirmed_by is None


@pytest.mark.usefixtures("ctx")
def test_check_in_with_typed_digits(session: Session, post: bc.Post) -> None:
    at = START + timedelta(minutes=5)
    check_in(session, post, bc.digits(post.station, at), at)
    assert bc.assignment(session, post.assignment.id).checked_in_at == at


@pytest.mark.usefixtures("ctx")
def test_code_of_previous_step_accepted(session: Session, post: bc.Post) -> None:
    shown = START + timedelta(minutes=1)
    at = shown + timedelta(seconds=codes.STEP_SECONDS)
    check_in(session, post, bc.code_text(post.station, shown), at)
    assert bc.assignment(session, post.assignment.id).checked_in_at == at


@pytest.mark.usefixtures("ctx")
@pytest.mark.parametrize(("minutes", "ok"), [(-31, False), (-30, True), (0, True), (119, True),
                                             (120, True), (121, False)])
def test_check_in_window(session: Session, post: bc.Post, minutes: int, ok: bool) -> None:
    """Check-in opens 30 minutes before the start and closes at the end."""
    at = START + timedelta(minutes=minutes)
    text = bc.code_text(post.station, at)
    if ok:
        check_in(session, post, text, at)
        assert bc.assignment(session, post.assignment.id).checked_in_at == at
    else:
        before = bc.assignments(session)
        refused(session, checkins.check_in, checkins.NoShiftNow,
                actor=actor(session, post.steward_account), key=KEY, text=text, now=at)
        assert bc.assignments(session) == before


@pytest.mark.usefixtures("ctx")
@pytest.mark.parametrize(("case", "exc"), [
    ("expired", checkins.CodeExpired),
    ("other_station", checkins.CodeForeign),
    ("foreign_community", checkins.CodeForeign),
    ("forged", checkins.CodeWrong),
    ("typed_wrong", checkins.CodeWrong),
    ("typed_expired", checkins.CodeExpired),
    ("malformed", checkins.CodeMalformed),
    ("future", checkins.CodeWrong),
])
def test_bad_codes_refused_and_nothing_changes(session: Session, post: bc.Post, case: str,
                                               exc: type[Exception]) -> None:
    at = START + timedelta(minutes=10)
    foreign = builders.station(session, post.world.b, "金浦亭")
    session.commit()
    old = at - timedelta(seconds=2 * codes.STEP_SECONDS)
    good = codes.current(KEY, post.station.id, at).digits  # type: ignore[arg-type]
    text = {
        "expired": bc.code_text(post.station, old),
        "other_station": bc.code_text(post.other_station, at),
        "foreign_community": bc.code_text(foreign, at),
        "forged": f"CHK:{post.station.id}:{(int(good) + 1) % 10**8:08d}",
        "typed_wrong": f"{(int(good) + 1) % 10**8:08d}",
        "typed_expired": bc.digits(post.station, old),
        "malformed": "not a code",
        "future": bc.code_text(post.station, at + timedelta(seconds=codes.STEP_SECONDS)),
    }[case]
    before = bc.assignments(session)
    err = refused(session, checkins.check_in, exc, actor=actor(session, post.steward_account),
                  key=KEY, text=text, now=at)
    assert str(err.message)  # a message the page shows
    assert bc.assignments(session) == before


@pytest.mark.usefixtures("ctx")
def test_no_shift_at_all(session: Session, post: bc.Post) -> None:
    """A steward with no shift now gets "no shift", even with a valid code of the station."""
    at = START + timedelta(days=1)
    before = bc.assignments(session)
    for text in (bc.code_text(post.station, at), bc.digits(post.station, at)):
        refused(session, checkins.check_in, checkins.NoShiftNow,
                actor=actor(session, post.steward_account), key=KEY, text=text, now=at)
    # Someone who is no steward at all (the chief) is refused the same way.
    refused(session, checkins.check_in, checkins.NoShiftNow, actor=actor(session, post.chief),
            key=KEY, text=bc.code_text(post.station, START), now=START)
    assert bc.assignments(session) == before


@pytest.mark.usefixtures("ctx")
def test_unapproved_steward_and_cancelled_shift_refused(session: Session, post: bc.Post) -> None:
    pending = bc.steward(session, builders.account(session, "steward", post.world.a),
                         post.world.a, status="pending")
    bc.assign(session, post.shift, pending)
    cancelled = bc.shift(session, post.other_station, status="cancelled")
    bc.assign(session, cancelled, post.steward)
    session.commit()
    pending_account = session.get(Account, pending.account_id)
    before = bc.assignments(session)
    refused(session, checkins.check_in, checkins.NoShiftNow, actor=actor(session, pending_account),
            key=KEY, text=bc.code_text(post.station, START), now=START)
    refused(session, checkins.check_in, checkins.CodeForeign,
            actor=actor(session, post.steward_account), key=KEY,
            text=bc.code_text(post.other_station, START), now=START)
    assert bc.assignments(session) == before


@pytest.mark.usefixtures("ctx")
def test_check_in_twice_refused(session: Session, post: bc.Post) -> None:
    check_in(session, post, bc.code_text(post.station, START), START)
    before = bc.assignments(session)
    later = START + timedelta(minutes=2)
    for text in (bc.code_text(post.station, later), bc.digits(post.station, later)):
        refused(session, checkins.check_in, checkins.AlreadyCheckedIn,
                actor=actor(session, post.steward_account), key=KEY, text=text, now=later)
    assert bc.assignments(session) == before


@pytest.mark.usefixtures("ctx")
def test_back_to_back_shifts_at_two_stations(session: Session, post: bc.Post) -> None:
    """Checked in at one station, the next shift at another is checked in with its own code."""
    nxt = bc.shift(session, post.other_station, END, END + timedelta(hours=1))
    second = bc.assign(session, nxt, post.steward)
    session.commit()
    check_in(session, post, bc.code_text(post.station, START), START)
    at = END - timedelta(minutes=10)
    check_in(session, post, bc.code_text(post.other_station, at), at)
    assert bc.assignment(session, second.id).checked_in_at == at
    assert bc.assignment(session, post.assignment.id).checked_in_at == START


# --- Check-out -----------------------------------------------------------------------------

@pytest.mark.usefixtures("ctx")
def test_check_out_records_minutes(session: Session, post: bc.Post) -> None:
    at_in = START - timedelta(minutes=5)
    check_in(session, post, bc.code_text(post.station, at_in), at_in)
    at_out = END + timedelta(minutes=4, seconds=50)
    row = checkins.check_out(session, actor=actor(session, post.steward_account), key=KEY,
                             text=bc.digits(post.station, at_out), now=at_out)
    session.commit()
    fresh = bc.assignment(session, row.assignment.id)
    assert fresh.checked_out_at == at_out
    assert fresh.check_out_method == "code"
    assert fresh.status == "done"
    assert fresh.hours_status == "pending"
    assert fresh.minutes == 129  # 17:55 to 20:04:50, whole minutes


@pytest.mark.usefixtures("ctx")
def test_check_out_refusals(session: Session, post: bc.Post) -> None:
    who = actor(session, post.steward_account)
    before = bc.assignments(session)
    # Not checked in.
    refused(session, checkins.check_out, checkins.NotCheckedIn, actor=who, key=KEY,
            text=bc.code_text(post.station, START), now=START)
    assert bc.assignments(session) == before
    check_in(session, post, bc.code_text(post.station, START), START)
    before = bc.assignments(session)
    at = START + timedelta(minutes=30)
    # Another station's code, an expired code, too late.
    refused(session, checkins.check_out, checkins.CodeForeign, actor=who, key=KEY,
            text=bc.code_text(post.other_station, at), now=at)
    refused(session, checkins.check_out, checkins.CodeExpired, actor=who, key=KEY,
            text=bc.code_text(post.station, at - timedelta(minutes=2)), now=at)
    late = END + checkin_rules.CHECK_OUT_LATE + timedelta(seconds=1)
    refused(session, checkins.check_out, checkins.NotCheckedIn, actor=who, key=KEY,
            text=bc.code_text(post.station, late), now=late)
    assert bc.assignments(session) == before
    # Checked out once; a second check-out finds nothing open.
    checkins.check_out(session, actor=who, key=KEY, text=bc.code_text(post.station, at), now=at)
    session.commit()
    before = bc.assignments(session)
    refused(session, checkins.check_out, checkins.NotCheckedIn, actor=who, key=KEY,
            text=bc.code_text(post.station, at), now=at)
    assert bc.assignments(session) == before


# --- The chief's hand confirmation ---------------------------------------------------------

@pytest.mark.usefixtures("ctx")
def test_chief_confirms_presence(session: Session, post: bc.Post) -> None:
    at = START + timedelta(minutes=7)
    row = checkins.confirm_presence(session, actor=actor(session, post.chief),
                                    assignment_id=post.assignment.id, now=at)
    session.commit()
    fresh = bc.assignment(session, row.assignment.id)
    assert fresh.checked_in_at == at
    assert fresh.check_in_method == "chief"
    assert fresh.confirmed_by == post.chief.id
    # The steward's own scan now says "already checked in", and changes nothing.
    before = bc.assignments(session)
    refused(session, checkins.check_in, checkins.AlreadyCheckedIn,
            actor=actor(session, post.steward_account), key=KEY,
            text=bc.code_text(post.station, at), now=at)
    assert bc.assignments(session) == before


@pytest.mark.usefixtures("ctx")
def test_manager_confirms_presence(session: Session, post: bc.Post) -> None:
    checkins.confirm_presence(session, actor=actor(session, post.world.manager_a),
                              assignment_id=post.assignment.id, now=START)
    session.commit()
    fresh = bc.assignment(session, post.assignment.id)
    assert (fresh.check_in_method, fresh.confirmed_by) == ("chief", post.world.manager_a.id)


@pytest.mark.usefixtures("ctx")
def test_confirm_refusals(session: Session, post: bc.Post) -> None:
    other_chief = builders.account(session, "station_chief", post.world.a)
    session.commit()
    before = bc.assignments(session)
    aid = post.assignment.id
    # Chief of no station here, the steward themself, a manager of B: not theirs to confirm.
    for who in (other_chief, post.steward_account, post.world.manager_b):
        refused(session, checkins.confirm_presence, Forbidden, actor=actor(session, who),
                assignment_id=aid, now=START)
    chief = actor(session, post.chief)
    refused(session, checkins.confirm_presence, NotFound, actor=chief, assignment_id=999999,
            now=START)
    for at in (START - timedelta(minutes=31), END + timedelta(seconds=1)):
        refused(session, checkins.confirm_presence, checkins.ConfirmNotNow, actor=chief,
                assignment_id=aid, now=at)
    assert bc.assignments(session) == before
    checkins.confirm_presence(session, actor=chief, assignment_id=aid, now=START)
    session.commit()
    before = bc.assignments(session)
    refused(session, checkins.confirm_presence, checkins.AlreadyCheckedIn, actor=chief,
            assignment_id=aid, now=START)
    assert bc.assignments(session) == before


# --- Station code and chief's pages ---------------------------------------------------------

@pytest.mark.usefixtures("ctx")
def test_station_code_access(session: Session, post: bc.Post) -> None:
    for who in (post.chief, post.world.manager_a, post.world.area_admin_a):
        view = checkin_queries.station_code(session, actor=actor(session, who),
                                            station_id=post.station.id, key=KEY, now=START)
        assert codes.verify(KEY, view.code.text, START, station_id=post.station.id).ok
    for who in (post.steward_account, post.world.manager_b, post.world.resident_a):
        refused(session, checkin_queries.station_code, Forbidden, actor=actor(session, who),
                station_id=post.station.id, key=KEY, now=START)
    # The chief of one station may not show another station's code.
    refused(session, checkin_queries.station_code, Forbidden, actor=actor(session, post.chief),
            station_id=post.other_station.id, key=KEY, now=START)


def test_station_code_page_and_json(client: FlaskClient, session: Session,
                                    post: bc.Post) -> None:
    builders.login(client, post.chief)
    page = client.get(f"/steward/stations/{post.station.id}/code")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "玉龙一号亭" in body
    assert 'data-testid="station-qr"' in body
    assert "<script>" not in body  # strict CSP: no inline code
    assert page.headers["Cache-Control"] == "no-store"
    resp = client.get(f"/steward/stations/{post.station.id}/code.json")
    assert resp.status_code == 200
    data = resp.get_json()
    assert 1 <= data["expires_in"] <= codes.STEP_SECONDS
    assert codes.verify(KEY, data["text"], clock.now(), station_id=post.station.id).ok
    png = base64.b64decode(data["qr"].split(",", 1)[1])
    assert decode_png(png) == [data["text"]]
    # A steward may not show the code (they would check themselves in).
    client.post("/logout")
    builders.login(client, post.steward_account)
    assert client.get(f"/steward/stations/{post.station.id}/code.json").status_code == 403
    assert client.get(f"/steward/stations/{post.station.id}/code").status_code == 403


def test_chief_page_and_confirm_view(client: FlaskClient, session: Session,
                                     post: bc.Post) -> None:
    builders.login(client, post.chief)
    stations = client.get("/steward/stations").get_data(as_text=True)
    assert "玉龙一号亭" in stations
    assert "玉龙二号亭" not in stations
    with clock.freeze(START + timedelta(minutes=1)):
        body = client.get(f"/steward/stations/{post.station.id}").get_data(as_text=True)
        assert "stewarda" in body
        assert 'data-testid="confirm-presence"' in body
        resp = client.post(f"/steward/assignments/{post.assignment.id}/confirm",
                           data={"next": f"/steward/stations/{post.station.id}"})
        assert resp.status_code == 302
        assert resp.headers["Location"].endswith(f"/steward/stations/{post.station.id}")
        fresh = bc.assignment(session, post.assignment.id)
        assert fresh.check_in_method == "chief"
        body = client.get(f"/steward/stations/{post.station.id}").get_data(as_text=True)
        assert 'data-testid="person-in"' in body
        assert "confirm-presence" not in body
        # Confirming again is refused with a message and changes nothing.
        before = bc.assignments(session)
        resp = client.post(f"/steward/assignments/{post.assignment.id}/confirm",
                           follow_redirects=True)
        assert "已签到" in resp.get_data(as_text=True)
        assert bc.assignments(session) == before


# --- The steward's page --------------------------------------------------------------------

def test_check_in_page_flow(client: FlaskClient, session: Session, post: bc.Post) -> None:
    builders.login(client, post.steward_account)
    at = START - timedelta(minutes=10)
    with clock.freeze(at):
        body = client.get("/steward/check-in").get_data(as_text=True)
        assert "签到" in body
        assert "玉龙一号亭" in body
        assert 'data-mode="in"' in body
        assert "qr-camera.js" in body
        assert "checkin.js" in body
        resp = client.post("/steward/check-in", data={"code": bc.code_text(post.station, at)})
        assert resp.status_code == 302
        assert bc.assignment(session, post.assignment.id).checked_in_at == at
        body = client.get("/steward/check-in").get_data(as_text=True)
        assert 'data-mode="out"' in body
        assert 'data-testid="checked-in-at"' in body
        assert "/steward/check-out" in body
    at_out = START + timedelta(minutes=95)
    with clock.freeze(at_out):
        resp = client.post("/steward/check-out", data={"code": bc.digits(post.station, at_out)},
                           follow_redirects=True)
        assert resp.status_code == 200
        fresh = bc.assignment(session, post.assignment.id)
        assert (fresh.status, fresh.minutes) == ("done", 105)


def test_check_in_page_refusals_in_both_languages(client: FlaskClient, session: Session,
                                                  post: bc.Post) -> None:
    builders.login(client, post.steward_account)
    at = START + timedelta(minutes=20)
    before = bc.assignments(session)
    with clock.freeze(at):
        expired = bc.code_text(post.station, at - timedelta(minutes=1, seconds=1))
        resp = client.post("/steward/check-in", data={"code": expired})
        assert resp.status_code == 409
        assert "已过期" in resp.get_data(as_text=True)
        resp = client.post("/steward/check-in",
                           data={"code": bc.code_text(post.other_station, at)})
        assert resp.status_code == 409
        assert "另一个投放点" in resp.get_data(as_text=True)
        english(client, "/steward/check-in")
        resp = client.post("/steward/check-in", data={"code": "hello"})
        assert resp.status_code == 422
        assert "This is not a station code" in resp.get_data(as_text=True)
    with clock.freeze(START + timedelta(hours=5)):
        resp = client.post("/steward/check-in", data={"code": bc.code_text(
            post.station, START + timedelta(hours=5))})
        assert resp.status_code == 409
        assert "You have no shift at this station now" in resp.get_data(as_text=True)
    assert bc.assignments(session) == before


def test_pages_need_login(client: FlaskClient, post: bc.Post) -> None:
    for url in ("/steward/check-in", f"/steward/stations/{post.station.id}/code",
                "/steward/stations"):
        assert client.get(url).status_code == 302
    assert client.post("/steward/check-in", data={"code": "x"}).status_code == 302


@pytest.mark.usefixtures("ctx")
def test_a_chief_never_confirms_their_own_presence(session: Session, post: bc.Post) -> None:
    """Separation of duties: the chief on a shift of their own station is confirmed by
    another chief or the manager, or scans the code; never by themselves."""
    own = bc.assign(session, post.shift, bc.steward(session, post.chief, post.world.a))
    session.commit()
    before = bc.assignments(session)
    refused(session, checkins.confirm_presence, OwnDecision, actor=actor(session, post.chief),
            assignment_id=own.id, now=START)
    assert bc.assignments(session) == before
    checkins.confirm_presence(session, actor=actor(session, post.world.manager_a),
                              assignment_id=own.id, now=START)
    session.commit()
    assert bc.assignment(session, own.id).confirmed_by == post.world.manager_a.id
