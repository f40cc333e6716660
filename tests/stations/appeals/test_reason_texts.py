"""The city admin edits a reason's bilingual labels and how-to texts; messages already sent
show the new words (they store the code), managers edit only their community's own."""
from __future__ import annotations

import pytest
from sqlmodel import Session, select

from community.auth import services as auth_services
from community.errors import Forbidden
from community.stations import reasons
from community.stations.models import MisdropReason
from tests import builders
from tests.dashboard.helpers import text_of
from tests.stations.appeals.test_services import loop, scan  # noqa: F401 - the fixture
from tests.stations.helpers import english


def _default(session: Session) -> MisdropReason:
    return session.exec(select(MisdropReason).where(
        MisdropReason.community_id.is_(None),  # type: ignore[union-attr]
        MisdropReason.code == "kitchen_plastic_bag")).one()


def test_city_admin_edits_how_to_and_old_messages_follow(client, session: Session,
                                                         loop) -> None:  # noqa: F811
    world, st, hh, _chief = loop
    scan(session, world, st, hh)
    reason = _default(session)
    builders.login(client, world.city_admin)
    page = client.get("/manage/reasons").get_data(as_text=True)
    assert 'data-code="kitchen_plastic_bag"' in page
    form = {f"r{reason.id}-label_zh": "厨余里有塑料袋", f"r{reason.id}-label_en": "Plastic bags",
            f"r{reason.id}-howto_zh": "先破袋，再把袋子扔进其他垃圾桶。",
            f"r{reason.id}-howto_en": "Tear the bag open first."}
    bad = client.post(f"/manage/reasons/{reason.id}", data=form | {
        f"r{reason.id}-label_zh": " "})
    assert bad.status_code == 422
    session.expire_all()
    assert _default(session).label_zh == "厨余混有塑料袋"  # nothing changed
    session.commit()
    assert client.post(f"/manage/reasons/{reason.id}", data=form).status_code == 302
    client.post("/logout")
    builders.login(client, world.resident_a)
    inbox = client.get("/me/inbox").get_data(as_text=True)
    assert "厨余里有塑料袋" in inbox
    assert "先破袋，再把袋子扔进其他垃圾桶。" in inbox

    manager = auth_services.load_actor(session, world.manager_a.id)
    with pytest.raises(Forbidden):
        reasons.edit_texts(session, actor=manager, reason_id=reason.id, label_zh="x",
                           label_en="", howto_zh="", howto_en="")
    own = reasons.add_reason(session, actor=manager, community_id=world.a.id, label_zh="混入大骨")
    edited = reasons.edit_texts(session, actor=manager, reason_id=own.id, label_zh="混入大骨头",
                                label_en="", howto_zh="大骨头属于其他垃圾。", howto_en="")
    assert (edited.label_zh, edited.label_en) == ("混入大骨头", "混入大骨头")
    with pytest.raises(Forbidden):
        reasons.edit_texts(session, actor=auth_services.load_actor(session, world.manager_b.id),
                           reason_id=own.id, label_zh="外来", label_en="", howto_zh="",
                           howto_en="")


def test_the_english_page_heads_each_reason_with_its_english_label(
        client, session: Session, world: builders.World) -> None:
    """QA: /manage/reasons in English read "厨余混有塑料袋 · kitchen_plastic_bag". Each heading
    is the reason's label in the reader's language; a built-in reason whose English label
    was left blank (stored as a copy of the Chinese) still reads in English, a reason with
    only a Chinese label and no known English one shows the Chinese (all there is)."""
    reason = _default(session)
    admin = auth_services.load_actor(session, world.city_admin.id)
    builders.login(client, world.city_admin)
    english(client, "/manage/reasons")
    page = client.get("/manage/reasons").get_data(as_text=True)
    assert text_of(page, "reason-label")[0] == (
        "Kitchen waste mixed with plastic bags · kitchen_plastic_bag")
    assert "厨余混有塑料袋 ·" not in page
    # The English label blanked: stored as the Chinese, shown as the built-in English words.
    reasons.edit_texts(session, actor=admin, reason_id=reason.id, label_zh="厨余混有塑料袋",
                       label_en="", howto_zh="请破袋投放。", howto_en="")
    session.commit()
    page = client.get("/manage/reasons").get_data(as_text=True)
    assert text_of(page, "reason-label")[0] == (
        "Kitchen waste mixed with plastic bags · kitchen_plastic_bag")
    [shown] = [r for r in reasons.reasons_for(session, world.a.id, lang="en")
               if r.code == "kitchen_plastic_bag"]
    assert shown.label == "Kitchen waste mixed with plastic bags"
    assert shown.howto.startswith("Open the bag")
    # A community's own reason typed in Chinese only: Chinese is all there is.
    manager = auth_services.load_actor(session, world.manager_a.id)
    own = reasons.add_reason(session, actor=manager, community_id=world.a.id, label_zh="混入大骨")
    assert reasons.label_for(own, "en") == "混入大骨"
    # In Chinese the heading stays Chinese.
    client.post("/lang", data={"lang": "zh", "next": "/manage/reasons"})
    page = client.get("/manage/reasons").get_data(as_text=True)
    assert text_of(page, "reason-label")[0] == "厨余混有塑料袋 · kitchen_plastic_bag"
