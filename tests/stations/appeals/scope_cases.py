"""Scope cases of the appeal pages (stations/appeals/views.py); see tests/scope.py.

A's drop (from the managers' station cases, with a photo) gets an open appeal; the manager
of B can neither see A's queue, decide the appeal, nor read the household's drop pages.
"""
from __future__ import annotations

from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from community import clock
from community.stations.appeals.models import DropAppeal
from community.stations.models import MisdropReason
from tests.builders import World
from tests.scope import Case, foreign
from tests.stations.manage.scope_views import _a_data

A_NOTE = "A的申诉说明"


def _a_appeal(w: World) -> tuple[int, int]:
    """(drop id, appeal id) of A's appealed drop."""
    drop_id = _a_data(w).drop
    owner = object_session(w.households_a[0])
    assert owner is not None
    with Session(owner.get_bind()) as session:
        appeal = session.exec(select(DropAppeal).where(DropAppeal.drop_id == drop_id)).first()
        if appeal is None:
            appeal = DropAppeal(drop_id=drop_id, community_id=w.a.id,
                                household_id=w.households_a[0].id, filed_by=w.resident_a.id,
                                note=A_NOTE, filed_at=clock.now())
            session.add(appeal)
            session.flush()
        ids = (drop_id, appeal.id)
        session.commit()
    assert ids[1] is not None
    return ids  # type: ignore[return-value]


@foreign("appeals.queue")
def _queue(w: World) -> list[Case]:
    _a_appeal(w)
    return [Case("GET", f"/manage/appeals?community_id={w.a.id}"),
            Case("GET", f"/manage/appeals?community_id={w.a.id}&status=upheld"),
            Case("GET", "/manage/appeals", expect=(200,), absent=[A_NOTE])]


@foreign("appeals.decide")
def _decide(w: World) -> list[Case]:
    _drop, appeal = _a_appeal(w)
    return [Case("POST", f"/manage/appeals/{appeal}/decide",
                 data={"outcome": "regrade", "reason": "外来"}),
            Case("POST", f"/manage/appeals/{appeal}/decide", data={"outcome": "uphold"})]


@foreign("appeals.file")
def _file(w: World) -> list[Case]:
    drop, _appeal = _a_appeal(w)
    return [Case("GET", f"/me/drops/{drop}/appeal"),
            Case("POST", f"/me/drops/{drop}/appeal", data={"note": "外来申诉"})]


@foreign("appeals.photo")
def _photo(w: World) -> list[Case]:
    drop, _appeal = _a_appeal(w)
    return [Case("GET", f"/me/drops/{drop}/photo")]


def _a_reason(w: World) -> int:
    """A reason of A's own (its manager's), for the edit case."""
    owner = object_session(w.households_a[0])
    assert owner is not None
    with Session(owner.get_bind()) as session:
        found = session.exec(select(MisdropReason.id).where(
            MisdropReason.community_id == w.a.id)).first()
        if found is None:
            reason = MisdropReason(community_id=w.a.id, code=f"c{w.a.id}_1", label_zh="A的原因",
                                   label_en="A's reason", position=99)
            session.add(reason)
            session.flush()
            found = reason.id
        session.commit()
    assert found is not None
    return found


@foreign("stations.city_reasons")
def _city_reasons(w: World) -> list[Case]:
    return [Case("GET", "/manage/reasons")]  # a manager is not a city admin


@foreign("stations.edit_reason")
def _edit_reason(w: World) -> list[Case]:
    owner = object_session(w.households_a[0])
    assert owner is not None
    with Session(owner.get_bind()) as session:
        default = session.exec(select(MisdropReason.id).where(
            MisdropReason.community_id.is_(None))).first()  # type: ignore[union-attr]
        session.commit()
    own = _a_reason(w)
    data = {"label_zh": "外来改写", "label_en": "x", "howto_zh": "", "howto_en": ""}
    return [Case("POST", f"/manage/reasons/{own}", data={f"r{own}-{k}": v
                                                        for k, v in data.items()}),
            Case("POST", f"/manage/reasons/{default}", data={f"r{default}-{k}": v
                                                            for k, v in data.items()})]
