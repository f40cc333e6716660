"""Foreign-access cases of the volunteers stewards pages (stewards/views.py); see tests/scope.py.

Each case function first stores some of community A's steward data (a pending and an approved
steward, an invitation, a station, a notification of A's steward), so the manager of B has
real targets. Exempt, with the reason:
- `steward_me.profile`: it takes no id and always shows the caller's own stewardships
  (isolation tested in stewards/test_services.py::test_profile_page).
- `steward_me.join`: the token in the URL is the authority — whoever holds a valid link may
  apply (pending until A's manager approves); unknown, expired, revoked and used-up tokens
  are refused in stewards/test_services.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from community import clock
from community.areas.models import Area
from community.inbox import services as notifications
from community.inbox.models import Notification
from community.stations.models import Station
from community.volunteers.models import Steward, StewardInvite
from tests import builders
from tests.builders import World
from tests.scope import Case, exempt, foreign
from tests.volunteers.stewards import builders as sb

exempt("steward_me.profile", "steward_me.join")

A_STATION = "玉龙督导亭"
A_PENDING = "13900000091"
A_APPROVED = "13900000092"
A_MESSAGE = "玉龙专属通知"


@dataclass
class AData:
    """Ids of A's objects the cases aim at."""

    pending: int
    approved: int
    invite: int
    station: int
    notification: int


def _a_data(w: World) -> AData:
    owner = object_session(w.a)
    assert owner is not None
    # A session of our own, closed at once: an open SQLite transaction would lock the app out.
    with Session(owner.get_bind()) as session:
        invite = session.exec(select(StewardInvite)).first()
        if invite is None:  # first case of this World: store A's data
            a = session.get(Area, w.a.id)
            assert a is not None
            sb.steward(session, a, status="pending", phone=A_PENDING)
            approved = sb.steward(session, a, status="approved", phone=A_APPROVED,
                                  availability=[{"weekday": 0, "start": "07:00", "end": "09:00"}])
            builders.station(session, a, A_STATION)
            invite = StewardInvite(community_id=w.a.id, token_hash="b" * 64,
                                   expires_at=clock.now() + timedelta(days=7))
            session.add(invite)
            notifications.notify(session, account_id=approved.account_id,
                                 kind="steward_rejected",
                                 params={"community": "玉龙", "reason": A_MESSAGE})
            session.commit()
        stewards = {s.status: s.id for s in session.exec(select(Steward))}
        station_id = session.exec(select(Station.id).where(Station.name == A_STATION)).first()
        note_id = session.exec(select(Notification.id)).first()
        data = AData(stewards["pending"], stewards["approved"], invite.id,  # type: ignore
                     station_id, note_id)  # type: ignore[arg-type]
        session.commit()
    return data


ABSENT = [A_PENDING, A_APPROVED, A_STATION, A_MESSAGE]


@foreign("stewards.index")
def _index(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("GET", f"/manage/stewards?community_id={w.a.id}"),
        Case("GET", f"/manage/stewards?community_id={w.street_a.id}"),
        Case("GET", "/manage/stewards", expect=(200,), absent=ABSENT),
        Case("GET", f"/manage/stewards?community_id={w.b.id}&q={A_PENDING[:-2]}", expect=(200,),
             absent=ABSENT),
    ]


@foreign("stewards.detail")
def _detail(w: World) -> list[Case]:
    d = _a_data(w)
    return [Case("GET", f"/manage/stewards/{d.pending}"),
            Case("GET", f"/manage/stewards/{d.approved}")]


@foreign("stewards.approve")
def _approve(w: World) -> list[Case]:
    return [Case("POST", f"/manage/stewards/{_a_data(w).pending}/approve",
                 data={"next": "/manage/stewards"})]


@foreign("stewards.reject")
def _reject(w: World) -> list[Case]:
    return [Case("POST", f"/manage/stewards/{_a_data(w).pending}/reject",
                 data={"reason": "外来拒绝"})]


@foreign("stewards.retire")
def _retire(w: World) -> list[Case]:
    return [Case("POST", f"/manage/stewards/{_a_data(w).approved}/retire", data={})]


@foreign("stewards.training")
def _training(w: World) -> list[Case]:
    return [Case("POST", f"/manage/stewards/{_a_data(w).approved}/training",
                 data={"training": "trained", "trained_on": "2026-01-01"})]


@foreign("stewards.invites")
def _invites(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("GET", f"/manage/stewards/invites?community_id={w.a.id}"),
        Case("GET", "/manage/stewards/invites", expect=(200,),
             absent=['data-testid="invite-row"']),
    ]


@foreign("stewards.create_invite")
def _create_invite(w: World) -> list[Case]:
    return [
        Case("POST", f"/manage/stewards/invites?community_id={w.a.id}",
             data={"days": "7", "max_uses": "5"}),
        Case("POST", f"/manage/stewards/invites?community_id={w.street_a.id}",
             data={"days": "7", "max_uses": "5"}),
    ]


@foreign("stewards.invite_link")
def _invite_link(w: World) -> list[Case]:
    return [Case("GET", f"/manage/stewards/invites/{_a_data(w).invite}/link")]


@foreign("stewards.revoke_invite")
def _revoke_invite(w: World) -> list[Case]:
    return [Case("POST", f"/manage/stewards/invites/{_a_data(w).invite}/revoke", data={})]


@foreign("stewards.chiefs")
def _chiefs(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("GET", f"/manage/stewards/chiefs?community_id={w.a.id}"),
        Case("GET", "/manage/stewards/chiefs", expect=(200,), absent=ABSENT),
    ]


@foreign("stewards.appoint_chief")
def _appoint(w: World) -> list[Case]:
    d = _a_data(w)
    return [Case("POST", f"/manage/stewards/chiefs/{d.station}",
                 data={"steward_id": str(d.approved)})]


@foreign("stewards.remove_chief")
def _remove(w: World) -> list[Case]:
    return [Case("POST", f"/manage/stewards/chiefs/{_a_data(w).station}/remove", data={})]


@foreign("steward_me.apply")
def _apply(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("POST", "/steward/apply", data={"community_id": str(w.a.id)}),
        Case("GET", "/steward/apply", expect=(200,), absent=[w.a.name]),
    ]


@foreign("steward_me.add_availability")
def _add_slot(w: World) -> list[Case]:
    return [Case("POST", f"/steward/profile/{_a_data(w).approved}/availability",
                 data={"weekday": "1", "start": "07:00", "end": "09:00"})]


@foreign("steward_me.remove_availability")
def _remove_slot(w: World) -> list[Case]:
    return [Case("POST", f"/steward/profile/{_a_data(w).approved}/availability/0/delete", data={})]


@foreign("inbox.index")
def _inbox(w: World) -> list[Case]:
    _a_data(w)
    return [Case("GET", "/me/inbox", expect=(200,), absent=[A_MESSAGE])]


@foreign("inbox.open_message")
def _open(w: World) -> list[Case]:
    return [Case("POST", f"/me/inbox/{_a_data(w).notification}/open", data={"go": "1"})]


@foreign("inbox.read_all")
def _read_all(w: World) -> list[Case]:
    # B's own (empty) inbox is marked read; A's message must stay unread (snapshot compared).
    _a_data(w)
    return [Case("POST", "/me/inbox/read-all", data={}, expect=(302,))]
