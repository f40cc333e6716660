"""Supervision logs: validation, photos (a real PNG; an invalid file refused), editing until
the hours are approved, the drops linked to a shift, and the managers' no-shows and shift
pages."""
from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select
from sqlmodel import Session

from community import clock
from community.auth import policy
from community.auth import services as auth_services
from community.errors import Forbidden, InvalidInput
from community.images import PhotoInvalid
from community.volunteers.checkins import queries as checkin_queries
from community.volunteers.checkins import services as supervision
from community.volunteers.checkins.schemas import MAX_COUNT, MAX_NOTE, LogIn
from community.volunteers.models import SupervisionLog
from tests import builders
from tests.stations.helpers import english
from tests.volunteers.checkins import builders as bc
from tests.volunteers.checkins.builders import END, START


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    with app.test_request_context():
        yield


@pytest.fixture
def post(session: Session, world: builders.World) -> bc.Post:
    """The standard post, with the steward checked in at 18:02."""
    p = bc.post(session, world)
    p.assignment.checked_in_at = START + timedelta(minutes=2)
    p.assignment.check_in_method = "code"
    session.add(p.assignment)
    session.commit()
    return p


@pytest.fixture
def photo_dir(app: Flask) -> Path:
    return Path(app.config["UPLOAD_DIR"]) / "supervision"


def png(colour: str = "red", size: tuple[int, int] = (40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def actor(session: Session, acct) -> policy.Actor:
    who = auth_services.load_actor(session, acct.id)
    session.commit()
    return who


def logs(session: Session) -> list[tuple]:
    table = SupervisionLog.__table__
    rows = [tuple(r) for r in session.execute(select(table).order_by(table.c.id)).all()]
    session.commit()
    return rows


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) \
        if root.exists() else []


def save(session: Session, p: bc.Post, photo_dir: Path, data: LogIn,
         photos=(), who=None) -> supervision.SavedLog:
    saved = supervision.save_log(session, actor=actor(session, who or p.steward_account),
                                 assignment_id=p.assignment.id, data=data, photos=photos,
                                 photo_dir=photo_dir, now=END)
    session.commit()
    return saved


# --- Service --------------------------------------------------------------------------------

@pytest.mark.usefixtures("ctx")
def test_save_and_edit_log(session: Session, post: bc.Post, photo_dir: Path) -> None:
    saved = save(session, post, photo_dir, LogIn.parse(
        residents_guided=12, drops_corrected=3,
        incident_late_drop=4, incident_dumping=0, incident_full_bin=1,
        incident_broken_station=None, note="  二号桶满了  "), photos=[png()])
    log = saved.log
    assert (log.residents_guided, log.drops_corrected) == (12, 3)
    assert log.incidents == {"late_drop": 4, "full_bin": 1}
    assert log.note == "二号桶满了"
    assert len(log.photos) == 1
    assert log.photos[0].startswith(f"{post.world.a.id}/{post.assignment.id}-")
    assert log.photos[0].endswith(".png")
    stored = photo_dir / log.photos[0]
    with Image.open(stored) as img:
        assert img.format == "PNG"
        assert img.size == (40, 30)
    # Edit: new counts, one more photo, the same photo again is not stored twice.
    saved = save(session, post, photo_dir, LogIn.parse(residents_guided=20),
                 photos=[png(), png("blue")])
    assert saved.log.id == log.id
    assert saved.log.residents_guided == 20
    assert saved.log.incidents == {}
    assert len(saved.log.photos) == 2
    assert len(logs(session)) == 1
    # Remove the first photo: the service names it so the view deletes the file.
    first = saved.log.photos[0].rsplit("/", 1)[-1]
    saved = save(session, post, photo_dir, LogIn.parse(
        residents_guided=20, remove_photos=[first]))
    assert saved.removed == [f"{post.world.a.id}/{first}"]
    assert len(saved.log.photos) == 1


@pytest.mark.usefixtures("ctx")
@pytest.mark.parametrize(("data", "field"), [
    ({"residents_guided": -1}, "residents_guided"),
    ({"drops_corrected": -5}, "drops_corrected"),
    ({"residents_guided": MAX_COUNT + 1}, "residents_guided"),
    ({"incident_late_drop": -1}, "incident_late_drop"),
    ({"incidents": {"fire": 1}}, "incidents"),
    ({"note": "x" * (MAX_NOTE + 1)}, "note"),
    ({"residents_guided": True}, "residents_guided"),
])
def test_invalid_input_refused(session: Session, post: bc.Post, photo_dir: Path,
                               data: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        save(session, post, photo_dir, LogIn.parse(data), photos=[png()])
    session.rollback()
    assert info.value.details["field"] == field
    assert logs(session) == []
    assert files(photo_dir) == []


@pytest.mark.usefixtures("ctx")
def test_invalid_photo_refused_and_nothing_stored(session: Session, post: bc.Post,
                                                  photo_dir: Path) -> None:
    save(session, post, photo_dir, LogIn.parse(residents_guided=1), photos=[png()])
    before, stored = logs(session), files(photo_dir)
    for bad in (b"not an image at all", png()[:60], b"GIF89a" + b"\0" * 40):
        with pytest.raises(PhotoInvalid):
            save(session, post, photo_dir, LogIn.parse(residents_guided=9),
                 photos=[png("green"), bad])
        session.rollback()
    assert logs(session) == before
    assert files(photo_dir) == stored


@pytest.mark.usefixtures("ctx")
def test_too_many_photos(session: Session, post: bc.Post, photo_dir: Path) -> None:
    colours = ["red", "green", "blue", "white", "black", "yellow", "purple"]
    save(session, post, photo_dir, LogIn.parse(), photos=[png(c) for c in colours[:5]])
    before, stored = logs(session), files(photo_dir)
    with pytest.raises(supervision.TooManyPhotos):
        save(session, post, photo_dir, LogIn.parse(), photos=[png(c) for c in colours[5:]])
    session.rollback()
    assert logs(session) == before
    assert files(photo_dir) == stored


@pytest.mark.usefixtures("ctx")
def test_who_may_write(session: Session, post: bc.Post, photo_dir: Path) -> None:
    for who in (post.chief, post.world.manager_a, post.world.manager_b):
        with pytest.raises(Forbidden):
            save(session, post, photo_dir, LogIn.parse(residents_guided=1), who=who)
        session.rollback()
    assert logs(session) == []


@pytest.mark.usefixtures("ctx")
def test_locked_after_approval_and_closed_before_check_in(session: Session, post: bc.Post,
                                                          photo_dir: Path) -> None:
    save(session, post, photo_dir, LogIn.parse(residents_guided=1))
    a = bc.assignment(session, post.assignment.id)
    a.status, a.hours_status, a.approved_minutes = "done", "approved", 120
    session.add(a)
    session.commit()
    before = logs(session)
    with pytest.raises(supervision.LogLocked):
        save(session, post, photo_dir, LogIn.parse(residents_guided=2))
    session.rollback()
    assert logs(session) == before
    # A steward who never checked in has no log to write.
    other = bc.assign(session, bc.shift(session, post.other_station), post.steward)
    session.commit()
    with pytest.raises(supervision.LogNotOpen):
        supervision.save_log(session, actor=actor(session, post.steward_account),
                             assignment_id=other.id, data=LogIn.parse(),
                             photo_dir=photo_dir)
    session.rollback()
    assert logs(session) == before


@pytest.mark.usefixtures("ctx")
def test_linked_drops(session: Session, post: bc.Post) -> None:
    hh = post.world.households_a[0]
    me = post.steward_account.id
    inside = [builders.drop(session, post.station, hh, recorded_by=me,
                            happened_at=START + timedelta(minutes=m)) for m in (2, 30, 119)]
    builders.drop(session, post.station, hh, recorded_by=me,  # before check-in
                  happened_at=START + timedelta(minutes=1))
    builders.drop(session, post.station, hh, recorded_by=post.chief.id,  # someone else
                  happened_at=START + timedelta(minutes=10))
    builders.drop(session, post.other_station, hh, recorded_by=me,  # another station
                  happened_at=START + timedelta(minutes=10))
    builders.drop(session, post.station, hh, recorded_by=me,  # after check-out
                  happened_at=START + timedelta(minutes=121))
    a = bc.assignment(session, post.assignment.id)
    a.checked_out_at = START + timedelta(minutes=120)
    session.add(a)
    session.commit()
    page = checkin_queries.log_page(session, actor=actor(session, post.steward_account),
                                    assignment_id=post.assignment.id)
    assert page.drops.count == 3
    assert [d.id for d in page.drops.rows] == [d.id for d in reversed(inside)]
    assert page.drops.rows[0].address == "1栋1单元101室"
    # Before check-out the period runs to now.
    a.checked_out_at = None
    session.add(a)
    session.commit()
    page = checkin_queries.log_page(session, actor=actor(session, post.steward_account),
                                    assignment_id=post.assignment.id,
                                    now=START + timedelta(minutes=60))
    assert page.drops.count == 2


# --- Pages ----------------------------------------------------------------------------------

def test_log_form_flow(client: FlaskClient, session: Session, post: bc.Post,
                       photo_dir: Path) -> None:
    builders.login(client, post.steward_account)
    url = f"/steward/assignments/{post.assignment.id}/log"
    body = client.get(url).get_data(as_text=True)
    assert "督导记录" in body
    assert 'data-testid="log-form"' in body
    resp = client.post(url, data={
        "residents_guided": "8", "drops_corrected": "2", "incident_dumping": "1",
        "note": "有人乱倒", "photos": [(io.BytesIO(png()), "a.png")]},
        content_type="multipart/form-data")
    assert resp.status_code == 302
    (row,) = logs(session)
    log = session.get(SupervisionLog, row[0])
    session.commit()
    assert (log.residents_guided, log.incidents, log.note) == (8, {"dumping": 1}, "有人乱倒")
    body = client.get(url).get_data(as_text=True)
    assert 'value="8"' in body
    assert 'data-testid="log-photo"' in body
    name = log.photos[0].rsplit("/", 1)[-1]
    photo = client.get(f"{url}/photos/{name}")
    assert photo.status_code == 200
    assert photo.data.startswith(b"\x89PNG")
    assert client.get(f"{url}/photos/nothing.png").status_code == 404
    # Remove the photo: the file goes too.
    resp = client.post(url, data={"residents_guided": "8", "remove_photos": name})
    assert resp.status_code == 302
    assert files(photo_dir) == []


def test_log_form_refusals(client: FlaskClient, session: Session, post: bc.Post,
                           photo_dir: Path) -> None:
    builders.login(client, post.steward_account)
    url = f"/steward/assignments/{post.assignment.id}/log"
    resp = client.post(url, data={"residents_guided": "-3", "drops_corrected": "1"})
    assert resp.status_code == 422
    assert "请输入 0 到 10000 之间的整数。" in resp.get_data(as_text=True)
    # Over the cap (QA: 5000 incidents, 99999999999 residents): the message names the range.
    resp = client.post(url, data={"incident_dumping": "5000"})
    assert resp.status_code == 422
    assert "请输入 0 到 1000 之间的整数。" in resp.get_data(as_text=True)
    resp = client.post(url, data={"residents_guided": "99999999999"})
    assert resp.status_code == 422
    assert "请输入 0 到 10000 之间的整数。" in resp.get_data(as_text=True)
    resp = client.post(url, data={"residents_guided": "1",
                                  "photos": [(io.BytesIO(b"%PDF-1.4 fake"), "x.png")]},
                       content_type="multipart/form-data")
    assert resp.status_code == 422
    english(client, url)
    resp = client.post(url, data={"residents_guided": "abc"})
    assert resp.status_code == 422
    resp = client.post(url, data={"residents_guided": "1",
                                  "photos": [(io.BytesIO(b"junk"), "x.jpg")]},
                       content_type="multipart/form-data")
    assert "The photo must be a JPEG, PNG or WebP image." in resp.get_data(as_text=True)
    assert logs(session) == []
    assert files(photo_dir) == []


def test_log_read_by_chief_and_manager(client: FlaskClient, session: Session, post: bc.Post,
                                       photo_dir: Path, app: Flask) -> None:
    with app.test_request_context():
        saved = save(session, post, photo_dir, LogIn.parse(
            residents_guided=5, incident_full_bin=2), photos=[png()])
    name = saved.log.photos[0].rsplit("/", 1)[-1]
    url = f"/steward/assignments/{post.assignment.id}/log"
    for who in (post.chief, post.world.manager_a):
        client.post("/logout")
        builders.login(client, who)
        resp = client.get(url)
        body = resp.get_data(as_text=True)
        assert resp.status_code == 200
        assert 'data-testid="log-facts"' in body
        assert 'data-testid="log-form"' not in body
        assert client.get(f"{url}/photos/{name}").status_code == 200
        # Reading is not writing.
        assert client.post(url, data={"residents_guided": "99"}).status_code == 403
    client.post("/logout")
    builders.login(client, post.world.manager_b)
    assert client.get(url).status_code == 403
    assert client.get(f"{url}/photos/{name}").status_code == 403
    assert [r[2] for r in logs(session)] == [5]


def test_no_shows_and_shift_detail_pages(client: FlaskClient, session: Session,
                                         post: bc.Post) -> None:
    absent = bc.steward(session, builders.account(session, "steward", post.world.a,
                                                  username="absentee"), post.world.a)
    bc.assign(session, post.shift, absent, status="no_show")
    next_week = bc.shift(session, post.station, START + timedelta(days=7),
                         END + timedelta(days=7))
    bc.assign(session, next_week, absent, status="no_show")
    hh = post.world.households_a[0]
    builders.drop(session, post.station, hh, recorded_by=post.steward_account.id,
                  happened_at=START + timedelta(minutes=20))
    session.commit()
    builders.login(client, post.world.manager_a)
    body = client.get("/manage/checkins/no-shows?week=2026-03-11").get_data(as_text=True)
    assert body.count('data-testid="no-show-row"') == 1
    assert "absentee" in body
    assert "2026-03-09 – 2026-03-15" in body
    body = client.get("/manage/checkins/no-shows?week=2026-03-16").get_data(as_text=True)
    assert body.count('data-testid="no-show-row"') == 1
    body = client.get(f"/manage/checkins/no-shows?week=2026-03-11&station_id="
                      f"{post.other_station.id}").get_data(as_text=True)
    assert 'data-testid="no-show-row"' not in body
    with clock.freeze(END):
        resp = client.get(f"/manage/checkins/shifts/{post.shift.id}")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert body.count('data-testid="attendance-row"') == 2
    assert 'data-testid="linked-drop"' in body
    assert "1栋1单元101室" in body
    client.post("/logout")
    builders.login(client, post.world.manager_b)
    assert client.get(f"/manage/checkins/shifts/{post.shift.id}").status_code == 403
    assert client.get(f"/manage/checkins/no-shows?community_id={post.world.a.id}"
                      ).status_code == 403
