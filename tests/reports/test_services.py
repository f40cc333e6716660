"""Report services on both backends: filing with a photo (kept location only with consent),
joining an open report (+1), handling with an after-photo, confirming and reopening once,
混收混运 at the street, escalation once per deadline, reports from supervision logs, and the
on-time rate of each level. Bad input and foreign actors are refused with nothing stored."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlmodel import Session, col

from community import clock
from community.audit.models import AuditEntry
from community.auth import services as auth_services
from community.errors import Forbidden, InvalidInput, NotFound
from community.images import PhotoInvalid, PhotoTooLarge
from community.inbox.models import Notification
from community.reports import queries, services
from community.reports.models import Report, ReportEscalation, ReportPlus
from community.reports.schemas import DeadlinesIn, HandleIn, ReopenIn, ReportIn
from community.volunteers.models import SupervisionLog
from tests import builders
from tests.reports.photos import jpeg

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=SH)


@pytest.fixture
def place(session: Session, world: builders.World):
    st = builders.station(session, world.a, "玉龙一号投放点")
    chief = builders.account(session, "station_chief", world.a)
    st.chief_id = chief.id
    session.add(st)
    session.flush()
    return st, chief


def _actor(session: Session, account) -> object:
    return auth_services.load_actor(session, account.id)


def _file(session, world, st, who, tmp_path: Path, *, kind="overflow", photo=None, now=NOW,
          **more):
    data = ReportIn.parse(community_id=world.a.id, station_id=st.id if st else None,
                          kind=kind, note="桶满了", **more)
    return services.file_report(session, actor=_actor(session, who), data=data,
                                photo=jpeg() if photo is None else photo, photo_dir=tmp_path,
                                now=now)


def _count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def _inbox(session, account_id, kind) -> list[Notification]:
    return list(session.execute(select(Notification).where(
        col(Notification.account_id) == account_id, col(Notification.kind) == kind)).scalars())


def test_a_report_goes_to_the_station_chief_with_its_deadline_and_a_clean_photo(
        session, world, place, tmp_path) -> None:
    st, chief = place
    filed = _file(session, world, st, world.resident_a, tmp_path, photo=jpeg(gps=True))
    r = filed.report
    assert not filed.joined
    assert (r.status, r.assignee_id, r.level, r.route_area_id) == ("assigned", chief.id,
                                                                    "community", world.a.id)
    assert r.due_at == NOW + timedelta(hours=4) == r.level_due_at
    assert (r.hours, r.deadline_version, r.source) == (4, 0, "resident")
    assert (r.latitude, r.longitude) == (None, None)  # the reporter did not agree
    stored = (tmp_path / r.photo).read_bytes()
    assert b"Exif" not in stored[:200]
    assert len(_inbox(session, chief.id, "report_assigned")) == 1


def test_the_photo_location_is_kept_only_when_the_reporter_agrees(
        session, world, place, tmp_path) -> None:
    st, _chief = place
    r = _file(session, world, None, world.resident_a, tmp_path, photo=jpeg(gps=True),
              place="3号楼后门", keep_location=True).report
    assert (r.latitude, r.longitude) == (31.3, 120.6)
    assert (r.status, r.assignee_id) == ("new", None)  # no station, no chief: the manager
    assert len(_inbox(session, world.manager_a.id, "report_assigned")) == 1


def test_the_same_problem_reported_again_joins_the_open_report(
        session, world, place, tmp_path) -> None:
    st, _chief = place
    first = _file(session, world, st, world.resident_a, tmp_path).report
    other = builders.account(session, "resident", world.a)
    again = _file(session, world, st, other, tmp_path)
    twice = _file(session, world, st, other, tmp_path)
    own = _file(session, world, st, world.resident_a, tmp_path)
    assert again.joined
    assert twice.joined
    assert own.joined
    assert again.report.id == first.id == own.report.id
    session.refresh(first)
    assert first.plus_count == 1
    assert _count(session, Report) == 1
    # Another kind at the same station is another report.
    assert not _file(session, world, st, other, tmp_path, kind="broken").joined


def _audit(session, action) -> list[AuditEntry]:
    return list(session.execute(select(AuditEntry).where(col(AuditEntry.action) == action)
                                .order_by(col(AuditEntry.id))).scalars())


def test_a_plus_one_keeps_its_photo_cleaned_with_its_location_only_by_consent(
        session, world, place, tmp_path) -> None:
    st, chief = place
    first = _file(session, world, st, world.resident_a, tmp_path).report
    agrees = builders.account(session, "resident", world.a)
    declines = builders.account(session, "resident", world.a)
    _file(session, world, st, agrees, tmp_path, photo=jpeg(gps=True, colour=(1, 200, 1)),
          keep_location=True)
    _file(session, world, st, declines, tmp_path, photo=jpeg(gps=True, colour=(1, 1, 200)))
    plus = {p.account_id: p for p in session.execute(select(ReportPlus)).scalars()}
    assert set(plus) == {agrees.id, declines.id}
    for p in plus.values():
        assert p.photo is not None
        assert p.photo.startswith(f"{world.a.id}/{first.id}-plus{p.id}-")
        stored = (tmp_path / p.photo).read_bytes()
        assert stored[:2] == b"\xff\xd8"  # re-encoded JPEG
        assert b"Exif" not in stored[:200]  # without its metadata
    assert (plus[agrees.id].latitude, plus[agrees.id].longitude) == (31.3, 120.6)
    assert (plus[declines.id].latitude, plus[declines.id].longitude) == (None, None)
    assert plus[agrees.id].photo != plus[declines.id].photo
    # The audit log names each photo kept, the report's own and the +1s'.
    assert [e.detail.get("photo") for e in _audit(session, "report.filed")] == [first.photo]
    assert [e.detail.get("photo") for e in _audit(session, "report.joined")] == [
        plus[agrees.id].photo, plus[declines.id].photo]
    # Handlers see every photo; each joiner only their own; the reporter only the report's.
    chief_actor, manager = _actor(session, chief), _actor(session, world.manager_a)
    for p in plus.values():
        for who in (chief_actor, manager, _actor(session, session.get(type(agrees),
                                                                   p.account_id))):
            assert services.plus_photo(session, actor=who, report_id=first.id,
                                       plus_id=p.id) == p.photo
    with pytest.raises(NotFound):
        services.plus_photo(session, actor=_actor(session, agrees), report_id=first.id,
                            plus_id=plus[declines.id].id)
    with pytest.raises(NotFound):
        services.plus_photo(session, actor=_actor(session, world.resident_a),
                            report_id=first.id, plus_id=plus[agrees.id].id)
    with pytest.raises(NotFound):
        services.plus_photo(session, actor=_actor(session, world.manager_b),
                            report_id=first.id, plus_id=plus[agrees.id].id)


def test_a_plus_one_from_a_log_gets_the_photo_its_steward_takes_later(
        session, world, place, tmp_path) -> None:
    st, _chief = place
    first = _file(session, world, st, world.resident_a, tmp_path).report
    assignment = builders.on_duty(session, world.steward_a, st, NOW - timedelta(hours=1), NOW)
    session.add(SupervisionLog(assignment_id=assignment.id, note="桶满了",
                               incidents={"full_bin": 1}, created_at=NOW, updated_at=NOW))
    session.flush()
    assert services.reports_from_logs(session, now=NOW + timedelta(minutes=10)) == 0
    (plus,) = session.execute(select(ReportPlus)).scalars()  # the log joined the report
    assert plus.photo is None
    again = _file(session, world, st, world.steward_a, tmp_path, now=NOW + timedelta(hours=1))
    assert again.joined
    session.refresh(plus)
    assert plus.photo is not None
    assert (tmp_path / plus.photo).is_file()
    first_photo = plus.photo
    # A +1 that has its photo keeps it: a third report adds nothing.
    _file(session, world, st, world.steward_a, tmp_path, photo=jpeg(colour=(9, 9, 9)))
    session.refresh(plus)
    session.refresh(first)
    assert (plus.photo, first.plus_count) == (first_photo, 1)
    assert len(list(tmp_path.rglob("*plus*"))) == 1


@pytest.mark.parametrize(("photo", "error"), [
    (b"", services.PhotoRequired),
    (b"not an image at all", PhotoInvalid),
    (b"\xff\xd8" + b"0" * (5 * 1024 * 1024 + 1), PhotoTooLarge),
])
def test_a_bad_photo_on_a_plus_one_is_refused_and_nothing_is_stored(
        session, world, place, tmp_path, photo, error) -> None:
    st, _chief = place
    first = _file(session, world, st, world.resident_a, tmp_path).report
    files = set(tmp_path.rglob("*.*"))
    other = builders.account(session, "resident", world.a)
    with pytest.raises(error):
        _file(session, world, st, other, tmp_path, photo=photo)
    session.refresh(first)
    assert (_count(session, ReportPlus), first.plus_count) == (0, 0)
    assert set(tmp_path.rglob("*.*")) == files
    assert _audit(session, "report.joined") == []


@pytest.mark.parametrize(("photo", "error"), [
    (b"", services.PhotoRequired),
    (b"not an image at all", PhotoInvalid),
    (b"\xff\xd8" + b"0" * (5 * 1024 * 1024 + 1), PhotoTooLarge),
])
def test_a_bad_photo_is_refused_and_nothing_is_stored(session, world, place, tmp_path, photo,
                                                      error) -> None:
    st, _chief = place
    with pytest.raises(error):
        _file(session, world, st, world.resident_a, tmp_path, photo=photo)
    assert _count(session, Report) == 0
    assert not any(tmp_path.rglob("*.*"))


def test_a_report_without_a_kind_or_a_place_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        ReportIn.parse(community_id=1, station_id=2, note="x")
    assert err.value.details["field"] == "kind"
    with pytest.raises(InvalidInput) as err:
        ReportIn.parse(community_id=1, kind="overflow")
    assert err.value.details["field"] == "place"
    with pytest.raises(InvalidInput):
        ReportIn.parse(community_id=1, station_id=2, kind="fire")


def test_foreign_reporters_and_stations_are_refused(session, world, place, tmp_path) -> None:
    st, _chief = place
    with pytest.raises(Forbidden):
        _file(session, world, st, world.resident_b, tmp_path)
    st_b = builders.station(session, world.b)
    with pytest.raises(services.StationUnknown):
        _file(session, world, st_b, world.resident_a, tmp_path)
    assert _count(session, Report) == 0


def test_handle_confirm_and_reopen_once(session, world, place, tmp_path) -> None:
    st, chief = place
    r = _file(session, world, st, world.resident_a, tmp_path).report
    chief_actor = _actor(session, chief)
    services.start(session, actor=chief_actor, report_id=r.id, now=NOW + timedelta(hours=1))
    assert r.status == "in_progress"
    done = NOW + timedelta(hours=2)
    services.handle(session, actor=chief_actor, report_id=r.id, data=HandleIn.parse(note="已清运"),
                    photo=jpeg(colour=(0, 200, 0)), photo_dir=tmp_path, now=done)
    assert (r.status, r.handled_at, r.handled_by) == ("handled", done, chief.id)
    assert (tmp_path / r.after_photo).exists()
    assert len(_inbox(session, world.resident_a.id, "report_handled")) == 1
    # Handled twice: refused, nothing changes.
    with pytest.raises(services.ReportRefused) as err:
        services.handle(session, actor=chief_actor, report_id=r.id,
                        data=HandleIn.parse(note="again"), photo=jpeg(), photo_dir=tmp_path,
                        now=done + timedelta(minutes=5))
    assert err.value.code == "already_handled"
    assert r.handled_at == done
    # Someone who did not report it cannot confirm or reopen it.
    for who in (world.manager_a, chief, world.resident_b):
        with pytest.raises((Forbidden, NotFound)):
            services.confirm(session, actor=_actor(session, who), report_id=r.id)
    me = _actor(session, world.resident_a)
    with pytest.raises(InvalidInput):
        ReopenIn.parse(reason=" ")
    services.reopen(session, actor=me, report_id=r.id, data=ReopenIn.parse(reason="还是满的"),
                    now=done + timedelta(hours=1))
    assert (r.status, r.handled_at, r.reopen_count) == ("reopened", None, 1)
    assert r.level_due_at == done + timedelta(hours=5)
    assert len(_inbox(session, chief.id, "report_reopened")) == 1
    services.handle(session, actor=chief_actor, report_id=r.id,
                    data=HandleIn.parse(note="再次清运"), photo=jpeg(), photo_dir=tmp_path,
                    now=done + timedelta(hours=2))
    with pytest.raises(services.ReportRefused) as err:
        services.reopen(session, actor=me, report_id=r.id, data=ReopenIn.parse(reason="又满"))
    assert err.value.code == "reopened_once"
    services.confirm(session, actor=me, report_id=r.id, now=done + timedelta(hours=3))
    assert r.status == "confirmed"
    with pytest.raises(services.ReportRefused):
        services.confirm(session, actor=me, report_id=r.id)


def test_a_manager_of_another_community_can_neither_see_nor_handle(session, world, place,
                                                                   tmp_path) -> None:
    st, _chief = place
    r = _file(session, world, st, world.resident_a, tmp_path).report
    foreign = _actor(session, world.manager_b)
    with pytest.raises(NotFound):
        services.get_report(session, actor=foreign, report_id=r.id)
    with pytest.raises(NotFound):
        services.handle(session, actor=foreign, report_id=r.id, data=HandleIn.parse(note="x"),
                        photo=jpeg(), photo_dir=tmp_path)
    assert r.status == "assigned"


def test_mixed_collection_goes_to_the_street_and_only_the_street_handles_it(
        session, world, place, tmp_path) -> None:
    st, chief = place
    r = _file(session, world, st, world.steward_a, tmp_path, kind="mixed_collection").report
    assert (r.level, r.route_area_id, r.assignee_id, r.status) == (
        "street", world.street_a.id, None, "new")
    assert len(_inbox(session, world.area_admin_a.id, "report_assigned")) == 1
    for who in (world.manager_a, chief):
        with pytest.raises(Forbidden):
            services.start(session, actor=_actor(session, who), report_id=r.id)
    services.handle(session, actor=_actor(session, world.area_admin_a), report_id=r.id,
                    data=HandleIn.parse(note="已约谈收运公司"), photo=jpeg(), photo_dir=tmp_path,
                    now=NOW + timedelta(hours=3))
    assert r.status == "handled"
    # The community's rate leaves the street's kind out; the street's counts it.
    month = date(2026, 11, 1)
    later = NOW + timedelta(days=3)
    assert queries.on_time_rate(session, world.a.id, month, now=later).due == 0
    assert queries.on_time_rate(session, world.street_a.id, month, now=later).due == 1


def test_overdue_reports_escalate_once_per_deadline_up_to_the_district(
        session, world, place, tmp_path) -> None:
    st, _chief = place
    district_admin = builders.account(session, "area_admin", world.district)
    r = _file(session, world, st, world.resident_a, tmp_path).report  # due NOW + 4 h
    due = r.due_at
    assert services.escalate_overdue(session, now=due) == 0  # at the deadline: not yet
    assert services.escalate_overdue(session, now=due + timedelta(seconds=1)) == 1
    assert services.escalate_overdue(session, now=due + timedelta(minutes=10)) == 0
    session.refresh(r)
    assert (r.level, r.route_area_id, r.due_at) == ("street", world.street_a.id, due)
    assert len(_inbox(session, world.area_admin_a.id, "report_escalated")) == 1
    street_due = r.level_due_at
    assert street_due == due + timedelta(seconds=1) + timedelta(hours=4)
    assert services.escalate_overdue(session, now=street_due + timedelta(seconds=1)) == 1
    session.refresh(r)
    assert r.level == "district"
    assert len(_inbox(session, district_admin.id, "report_escalated")) == 1
    assert services.escalate_overdue(session, now=street_due + timedelta(days=9)) == 0
    assert _count(session, ReportEscalation) == 2
    # The street's admin handles what reached them; the rate judges the original deadline.
    services.handle(session, actor=_actor(session, world.area_admin_a), report_id=r.id,
                    data=HandleIn.parse(note="已处理"), photo=jpeg(), photo_dir=tmp_path,
                    now=street_due + timedelta(days=1))
    rate = queries.on_time_rate(session, world.city.id, date(2026, 11, 1),
                                now=NOW + timedelta(days=5))
    assert (rate.due, rate.on_time) == (1, 0)


def test_a_handled_report_does_not_escalate(session, world, place, tmp_path) -> None:
    st, chief = place
    r = _file(session, world, st, world.resident_a, tmp_path).report
    services.handle(session, actor=_actor(session, chief), report_id=r.id,
                    data=HandleIn.parse(note="ok"), photo=jpeg(), photo_dir=tmp_path,
                    now=r.due_at - timedelta(seconds=1))
    assert services.escalate_overdue(session, now=r.due_at + timedelta(days=1)) == 0
    rate = queries.on_time_rate(session, world.a.id, date(2026, 11, 1),
                                now=NOW + timedelta(days=1))
    assert (rate.due, rate.on_time, rate.value) == (1, 1, 1.0)


def test_the_rate_of_each_level(session, world, place, tmp_path) -> None:
    st, chief = place
    chief_actor = _actor(session, chief)
    kinds = ["overflow", "broken", "dumping"]
    for n, kind in enumerate(kinds):
        r = _file(session, world, st, world.resident_a, tmp_path, kind=kind).report
        late = n == 2
        services.handle(session, actor=chief_actor, report_id=r.id,
                        data=HandleIn.parse(note="ok"), photo=jpeg(), photo_dir=tmp_path,
                        now=r.due_at + timedelta(seconds=1 if late else -1))
    month, later = date(2026, 11, 1), NOW + timedelta(days=5)
    for area in (world.a, world.street_a, world.district, world.city):
        got = queries.on_time_rate(session, area.id, month, now=later)
        assert (got.due, got.on_time) == (3, 2), area.level
    assert queries.on_time_rate(session, world.b.id, month, now=later).value is None
    assert queries.on_time_rate(session, world.a.id, date(2026, 12, 1), now=later).due == 0


def test_a_city_publishes_new_deadlines_for_reports_made_from_then_on(
        session, world, place, tmp_path) -> None:
    st, _chief = place
    hours = {"overflow": 2, "dumping": 24, "broken": 48, "missed_pickup": 12, "odour": 24,
             "no_offhours_point": 72, "mixed_collection": 24, "other": 48}
    with pytest.raises(Forbidden):
        services.publish_deadlines(session, actor=_actor(session, world.manager_a),
                                   city_id=world.city.id, data=DeadlinesIn.parse(hours))
    with pytest.raises(InvalidInput):
        DeadlinesIn.parse({**hours, "overflow": 0})
    with clock.freeze(NOW):
        row = services.publish_deadlines(session, actor=_actor(session, world.city_admin),
                                         city_id=world.city.id, data=DeadlinesIn.parse(hours))
    assert row.version == 1
    r = _file(session, world, st, world.resident_a, tmp_path).report
    assert (r.hours, r.deadline_version, r.due_at) == (2, 1, NOW + timedelta(hours=2))


def test_supervision_log_incidents_open_reports_of_the_same_kind_once(
        session, world, place, tmp_path) -> None:
    st, chief = place
    assignment = builders.on_duty(session, world.steward_a, st, NOW - timedelta(hours=1), NOW)
    session.add(SupervisionLog(assignment_id=assignment.id, note="两个桶满了",
                               incidents={"full_bin": 2, "late_drop": 3, "broken_station": 1},
                               created_at=NOW, updated_at=NOW))
    session.flush()
    assert services.reports_from_logs(session, now=NOW + timedelta(minutes=10)) == 2
    assert services.reports_from_logs(session, now=NOW + timedelta(minutes=20)) == 0
    reports = list(session.execute(select(Report).order_by(col(Report.kind))).scalars())
    assert [(r.kind, r.source, r.reporter_id, r.assignee_id) for r in reports] == [
        ("broken", "log", world.steward_a.id, chief.id),
        ("overflow", "log", world.steward_a.id, chief.id)]
    # A resident's report of the same overflow joins the log's report.
    assert _file(session, world, st, world.resident_a, tmp_path).joined
    assert _count(session, ReportPlus) == 1
