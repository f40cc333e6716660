"""The audit log's readable lines for reports and verdict spot-checks, on both backends: a
report reads as its kind's label at its station's name (never "broken", "1"), a "+1" is an
entry of its own, and a spot-check is one sentence naming the steward, the drop and whether
the two verdicts agree."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from sqlalchemy import select
from sqlmodel import Session, col

from community import clock
from community.audit import queries, sentences
from community.audit.models import AuditEntry
from community.auth import services as auth_services
from community.casework.models import VerdictAudit
from community.reports import services as report_services
from community.reports.schemas import ReportIn
from tests import builders
from tests.reports.photos import jpeg

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=SH)


def _line(session: Session, entry: AuditEntry, who: str) -> tuple[str, set[str]]:
    names = queries.target_names(session, [(entry.target_type, entry.target_id)])
    said = sentences.line(entry.action, entry.detail, who=who,
                          target=names.get((entry.target_type or "", entry.target_id or 0)),
                          target_type=entry.target_type, target_id=entry.target_id)
    return said, set(entry.detail or {}) - sentences.used_keys(entry.action)


def _entries(session: Session, action: str) -> list[AuditEntry]:
    return list(session.execute(select(AuditEntry).where(col(AuditEntry.action) == action)
                                .order_by(col(AuditEntry.id))).scalars())


@pytest.mark.parametrize(("locale", "filed", "joined"), [
    ("zh", "朱建华 上报了 设施损坏（一号审计投放点）",
     "李四 为 设施损坏（一号审计投放点） 附议（+1）"),
    ("en", "朱建华 reported Broken facility at 一号审计投放点",
     "李四 added +1 to Broken facility at 一号审计投放点"),
])
def test_a_report_and_its_plus_one_read_with_the_kind_and_station_names(
        app, session: Session, world: builders.World, tmp_path, locale, filed, joined) -> None:
    st = builders.station(session, world.a, "一号审计投放点")
    other = builders.account(session, "resident", world.a)
    session.flush()
    for who in (world.resident_a, other):
        data = ReportIn.parse(community_id=world.a.id, station_id=st.id, kind="broken")
        with clock.freeze(NOW):
            report_services.file_report(session, actor=auth_services.load_actor(session, who.id),
                                        data=data, photo=jpeg(), photo_dir=tmp_path)
    session.flush()
    [first] = _entries(session, "report.filed")
    [plus] = _entries(session, "report.joined")  # the +1 is recorded too
    assert (plus.actor_id, plus.target_id) == (other.id, first.target_id)
    # Each names the photo it kept (the +1's too), listed beside the sentence.
    assert first.detail["photo"].startswith(f"{world.a.id}/{first.target_id}-before-")
    assert plus.detail["photo"].startswith(f"{world.a.id}/{first.target_id}-plus")
    with app.test_request_context(), force_locale(locale):
        assert _line(session, first, "朱建华") == (filed, {"photo"})
        assert _line(session, plus, "李四") == (joined, {"photo"})


@pytest.mark.parametrize(("locale", "agrees", "expected"), [
    ("zh", True, "王芳 抽查了 {steward} 对 1栋1单元909室 的厨余垃圾投放 的判定：一致"),
    ("zh", False, "王芳 抽查了 {steward} 对 1栋1单元909室 的厨余垃圾投放 的判定：不一致"),
    ("en", True, "王芳 spot-checked {steward}'s verdict on the Kitchen waste drop of "
                 "1栋1单元909室: the same verdict"),
])
def test_a_verdict_spot_check_reads_as_one_sentence(
        app, session: Session, world: builders.World, locale, agrees, expected) -> None:
    hh = builders.household(session, world.a, "1", "1", "909")
    st = builders.station(session, world.a, "抽查投放点")
    session.flush()
    drop = builders.drop(session, st, hh, happened_at=NOW, quality="correct")
    session.flush()
    check = VerdictAudit(community_id=world.a.id, drop_id=drop.id,
                         steward_id=world.steward_a.id, week=date(2026, 11, 16),
                         original="correct", drawn_at=NOW)
    session.add(check)
    session.flush()
    entry = AuditEntry(actor_id=world.manager_a.id, action="casework.verdict_audited",
                       target_type="verdict_audit", target_id=check.id,
                       detail={"drop_id": drop.id, "agrees": agrees}, at=NOW)
    with app.test_request_context(), force_locale(locale):
        said, rest = _line(session, entry, "王芳")
    assert said == expected.format(steward=world.steward_a.display_name)
    assert rest == set()  # neither the drop's id nor "agrees: yes" is repeated beside it
