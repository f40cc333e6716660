"""Foreign-access cases of the check-in pages (checkins/views.py); see tests/scope.py.

Each case function first stores community A's check-in data: a station with its chief, A's
steward signed up on a shift running now (not yet checked in, so a hand confirmation would
work if the scope check were missing), a supervision log with a photo path, and a no-show
of this week. The manager of B then tries every endpoint on it. Photos are refused with 403,
never 404, so a broken check (which would reach the missing file and answer 404) fails.
The steward's own check-in page takes no id and shows only the caller's shifts; B's manager
has none, and posting A's valid station code is refused as "no shift here" (409).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from community import clock
from community.areas.models import Area
from community.auth import services as auth_services
from community.auth.schemas import AccountIn
from community.stations.models import Station
from community.volunteers.checkins import codes
from community.volunteers.models import Shift, ShiftAssignment, Steward, SupervisionLog
from tests.builders import PASSWORD, World
from tests.scope import Case, foreign
from tests.volunteers.checkins.builders import KEY

A_STATION = "玉龙签到亭"
A_ABSENT = "yulongabsent"
A_NOTE = "玉龙督导备注"
ABSENT = [A_STATION, A_ABSENT, A_NOTE]


@dataclass
class AData:
    """Ids of A's objects the cases aim at."""

    station: int
    shift: int
    assignment: int
    photo: str


def _a_data(w: World) -> AData:
    owner = object_session(w.a)
    assert owner is not None
    # A session of our own, closed at once: an open SQLite transaction would lock the app out.
    with Session(owner.get_bind()) as session:
        station = session.exec(select(Station).where(Station.name == A_STATION)).first()
        if station is None:  # first case of this World: store A's data
            a = session.get(Area, w.a.id)
            assert a is not None
            chief = auth_services.create_account(session, data=AccountIn.parse(
                display_name="玉龙亭长", password=PASSWORD, username="yulongchief"))
            auth_services.add_grant(session, account=chief, role="station_chief", area=a)
            station = Station(community_id=a.id, name=A_STATION, chief_id=chief.id)
            session.add(station)
            session.flush()
            steward = Steward(community_id=a.id, account_id=w.steward_a.id, status="approved")
            absent_account = auth_services.create_account(session, data=AccountIn.parse(
                display_name=A_ABSENT, password=PASSWORD, username=A_ABSENT))
            absent = Steward(community_id=a.id, account_id=absent_account.id,
                             status="approved")
            session.add_all([steward, absent])
            session.flush()
            now = clock.now()
            running = Shift(community_id=a.id, station_id=station.id,
                            local_date=clock.local(now).date(), starts_at=now - timedelta(
                                minutes=10), ends_at=now + timedelta(hours=2))
            missed = Shift(community_id=a.id, station_id=station.id,
                           local_date=clock.local(now).date(),
                           starts_at=now - timedelta(hours=5), ends_at=now - timedelta(hours=4))
            session.add_all([running, missed])
            session.flush()
            mine = ShiftAssignment(shift_id=running.id, steward_id=steward.id)
            session.add_all([mine, ShiftAssignment(shift_id=missed.id, steward_id=absent.id,
                                                   status="no_show")])
            session.flush()
            session.add(SupervisionLog(assignment_id=mine.id, residents_guided=3, note=A_NOTE,
                                       photos=[f"{a.id}/{mine.id}-0123456789abcdef.png"]))
            session.flush()
        shift = session.exec(select(Shift).where(Shift.station_id == station.id)
                             .order_by(Shift.starts_at.desc())).first()  # type: ignore
        assert shift is not None
        assignment = session.exec(select(ShiftAssignment).where(
            ShiftAssignment.shift_id == shift.id)).one()
        data = AData(station.id, shift.id, assignment.id,  # type: ignore[arg-type]
                     f"{assignment.id}-0123456789abcdef.png")
        session.commit()
    return data


def _code(station_id: int) -> codes.StationCode:
    return codes.current(KEY, station_id, clock.now())


# --- The steward's check-in ------------------------------------------------------------------

@foreign("checkin.page")
def _page(w: World) -> list[Case]:
    _a_data(w)
    return [Case("GET", "/steward/check-in", expect=(200,), absent=ABSENT)]


@foreign("checkin.check_in")
def _check_in(w: World) -> list[Case]:
    code = _code(_a_data(w).station)
    return [Case("POST", "/steward/check-in", data={"code": code.text}, expect=(409,),
                 absent=ABSENT),
            Case("POST", "/steward/check-in", data={"code": code.digits}, expect=(409,),
                 absent=ABSENT)]


@foreign("checkin.check_out")
def _check_out(w: World) -> list[Case]:
    code = _code(_a_data(w).station)
    return [Case("POST", "/steward/check-out", data={"code": code.text}, expect=(409,),
                 absent=ABSENT)]


# --- Station code and the chief's page ------------------------------------------------------

@foreign("checkin.stations")
def _stations(w: World) -> list[Case]:
    _a_data(w)
    return [Case("GET", "/steward/stations", expect=(200,), absent=ABSENT),
            Case("GET", f"/steward/stations?community_id={w.a.id}"),
            Case("GET", f"/steward/stations?community_id={w.street_a.id}")]


@foreign("checkin.chief")
def _chief(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("GET", f"/steward/stations/{a.station}", expect=(403,))]


@foreign("checkin.station_code")
def _station_code(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("GET", f"/steward/stations/{a.station}/code", expect=(403,))]


@foreign("checkin.station_code_json")
def _station_code_json(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("GET", f"/steward/stations/{a.station}/code.json", expect=(403,))]


@foreign("checkin.confirm")
def _confirm(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("POST", f"/steward/assignments/{a.assignment}/confirm", expect=(403,))]


# --- Supervision log -------------------------------------------------------------------------

@foreign("checkin.log")
def _log(w: World) -> list[Case]:
    a = _a_data(w)
    url = f"/steward/assignments/{a.assignment}/log"
    return [Case("GET", url, expect=(403,)),
            Case("POST", url, data={"residents_guided": "9", "note": "外来"}, expect=(403,)),
            Case("POST", url, data={"residents_guided": "-1"}, expect=(403,))]


@foreign("checkin.log_photo")
def _log_photo(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("GET", f"/steward/assignments/{a.assignment}/log/photos/{a.photo}",
                 expect=(403,))]


# --- Managers -------------------------------------------------------------------------------

@foreign("checkin_manage.no_shows")
def _no_shows(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("GET", f"/manage/checkins/no-shows?community_id={w.a.id}"),
            Case("GET", f"/manage/checkins/no-shows?community_id={w.street_a.id}"),
            Case("GET", "/manage/checkins/no-shows", expect=(200,), absent=ABSENT),
            Case("GET", f"/manage/checkins/no-shows?community_id={w.b.id}&station_id="
                        f"{a.station}", expect=(200,), absent=ABSENT)]


@foreign("checkin_manage.shift")
def _shift(w: World) -> list[Case]:
    a = _a_data(w)
    return [Case("GET", f"/manage/checkins/shifts/{a.shift}", expect=(403,))]
