"""The steward's shift log lists the scans they undid, marked 已撤销 / Undone, and counts them
nowhere (the drop count of the shift, the chief's attendance), both backends."""
from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlmodel import Session

from community.auth import services as auth_services
from community.volunteers.checkins import queries as checkin_queries
from tests import builders
from tests.stations.helpers import english
from tests.volunteers.checkins import builders as bc
from tests.volunteers.checkins.builders import START
from tests.volunteers.checkins.test_supervision import post

__all__ = ["post"]  # the fixture, used by name


def _scans(session: Session, p: bc.Post) -> tuple[list[int], int]:
    hh = p.world.households_a[0]
    me = p.steward_account.id
    kept = [builders.drop(session, p.station, hh, recorded_by=me,
                          happened_at=START + timedelta(minutes=m)).id for m in (5, 40)]
    undone = builders.drop(session, p.station, hh, recorded_by=me, quality="incorrect",
                           happened_at=START + timedelta(minutes=20))
    undone.voided_at, undone.voided_by = START + timedelta(minutes=22), me
    session.add(undone)
    a = bc.assignment(session, p.assignment.id)
    a.checked_out_at = START + timedelta(minutes=120)
    session.add(a)
    session.commit()
    return kept, undone.id


def test_undone_scans_are_listed_marked_and_not_counted(session: Session, post: bc.Post,
                                                         app) -> None:
    kept, undone = _scans(session, post)
    with app.test_request_context():
        page = checkin_queries.log_page(
            session, actor=auth_services.load_actor(session, post.steward_account.id),
            assignment_id=post.assignment.id)
    assert (page.drops.count, page.drops.undone, page.drops.total) == (2, 1, 3)
    assert [(d.id, d.voided) for d in page.drops.rows] == [
        (kept[1], False), (undone, True), (kept[0], False)]


def test_the_log_page_marks_them(client: FlaskClient, session: Session, post: bc.Post) -> None:
    _kept, undone = _scans(session, post)
    builders.login(client, post.steward_account)
    url = f"/steward/assignments/{post.assignment.id}/log"
    html = client.get(url).get_data(as_text=True)
    assert 'data-testid="linked-drop-count">2<' in html
    row = html.split(f'data-drop-id="{undone}"')[1].split("</li>")[0]
    assert 'data-testid="linked-drop-undone">已撤销<' in row
    assert "已撤销的扫码会列出，但不计入。" in html
    english(client, url)
    html = client.get(url).get_data(as_text=True)
    assert 'data-testid="linked-drop-undone">Undone<' in html
