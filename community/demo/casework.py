"""Demo casework: case rules with refunds, open and closed cases from the demo's drops (some
tasks done, some overdue), and two weeks of verdict audits with one lenient steward.

Cases come from the demo's own incorrect drops, evaluated as the `casework.cases` job
would, and are dated as if the job had run ten minutes after each trigger (and each closing)
drop: so some tasks are overdue today. The steward's task message is dated then too, with
the case's due date, and is read once the task is done or the case closed (only tasks still
to do stay new). The audits cover the last two full weeks: every graded verdict of those
weeks gets a placeholder photo (one per category, written once under the photo folder) and
both samples are drawn as the job draws them. The latest (the week the draw button draws)
waits for a manager's blind grading; the one before is graded blind by the community's
manager, who disagrees with the first community's first steward on 60% of the drops that
steward marked correct (a lenient steward the calibration table flags), with everybody else
on 5%. A second run changes nothing.
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import click
from sqlalchemy import func, select, update
from sqlmodel import col

from community import clock
from community.areas.models import Area
from community.auth import services as auth_services
from community.auth.models import RoleGrant
from community.casework import queries as casework_queries
from community.casework import services as casework_services
from community.casework.models import CaseRuleSet, MisdropCase, VerdictAudit
from community.casework.schemas import CaseRulesIn, GradeIn, TaskDoneIn
from community.demo.context import Demo, placeholder_photos
from community.inbox.models import Notification
from community.rows import pk, table_of
from community.stations.models import Drop

NOTES = ("在桶边讲解了破袋投放，住户表示理解", "上门发放了分类指南，演示了厨余沥水",
         "楼栋宣讲时请该户一起参加")
LENIENT_MISS, FAIR_MISS = 0.6, 0.05


def _manager(demo: Demo, community: Area) -> int | None:
    return demo.session.execute(
        select(col(RoleGrant.account_id)).where(col(RoleGrant.area_id) == pk(community),
                                                col(RoleGrant.role) == "manager")
        .order_by(col(RoleGrant.account_id)).limit(1)).scalar_one_or_none()


def _rules(demo: Demo, community: Area, manager: int, first_day: date) -> None:
    """A published version with refunds on (once)."""
    if demo.session.execute(select(col(CaseRuleSet.id)).where(
            col(CaseRuleSet.community_id) == pk(community)).limit(1)).first() is not None:
        return
    casework_services.publish_rules(
        demo.session, actor=auth_services.load_actor(demo.session, manager),
        community_id=pk(community),
        data=CaseRulesIn.parse(refund=True, effective_from=first_day))
    demo.created += 1


def _cases(demo: Demo, community: Area, manager: int, now: datetime) -> None:
    """Evaluate the households with enough incorrect drops; date the new cases as the job
    would have; record a task on some of them; escalate the overdue."""
    session = demo.session
    today = clock.local_today(community.timezone, now)
    d = Drop
    households = session.execute(
        select(col(d.household_id)).where(
            col(d.community_id) == pk(community), col(d.household_id).is_not(None),
            col(d.quality) == "incorrect", col(d.voided_at).is_(None),
            col(d.local_date) >= today - timedelta(days=casework_services.HORIZON_DAYS + 30))
        .group_by(col(d.household_id)).having(func.count() >= 3)
        .order_by(col(d.household_id))).scalars().all()
    rng = demo.rng_for("casework", pk(community))
    for household_id in households:
        got = casework_services.evaluate_household(session, community, household_id, now=now,
                                                   notify=False)
        for case_id in got.opened:
            case = session.get(MisdropCase, case_id)
            if case is None:
                continue
            seen = case.trigger_at + timedelta(minutes=10)
            rules = casework_queries.rules_in_force(session, pk(community))(
                clock.local_today(community.timezone, case.trigger_at))
            case.opened_at = seen
            case.opened_on = clock.local_today(community.timezone, seen)
            case.due_on = case.opened_on + timedelta(days=rules.due_days)
            if case.close_at is not None:
                case.closed_at = case.close_at + timedelta(minutes=10)
            session.add(case)
            session.flush()
            demo.created += 1
            with clock.freeze(seen):  # the message the job would have sent at the time
                casework_services.notify_task(session, case)
            if case.status == "open" and case.assignee_id and rng.random() < 0.5:
                casework_services.record_task(
                    session, actor=auth_services.load_actor(session, manager), case_id=case_id,
                    data=TaskDoneIn.parse(task=case.task, note=rng.choice(NOTES)),
                    now=min(now, seen + timedelta(days=rng.randint(1, 5))))
                case.done_by = case.assignee_id  # the steward did it (the manager typed it)
                session.add(case)
            _read(demo, case)
    session.flush()
    casework_services.escalate_overdue(session, now=now)


def _read(demo: Demo, case: MisdropCase) -> None:
    """The steward read the task message by the time they did the task or the case closed
    (only the tasks still to do stay new)."""
    read_at = case.done_at or case.closed_at
    if case.assignee_id is None or read_at is None:
        return
    note = table_of(Notification)
    demo.session.execute(update(note).where(
        note.c.dedupe_key == f"case_task:{pk(case)}:{case.assignee_id}",
        note.c.read_at.is_(None)).values(read_at=read_at))


def _audits(demo: Demo, community: Area, manager: int, week: date, lenient: int | None,
            photos: dict[str, str], now: datetime, *, grade: bool = True) -> None:
    """Photos on the week's graded verdicts, the week's sample drawn and (with `grade`)
    graded blind."""
    session = demo.session
    drop = table_of(Drop)
    for category, path in photos.items():
        session.execute(update(drop).where(
            drop.c.community_id == pk(community), drop.c.local_date >= week,
            drop.c.local_date < week + timedelta(days=7), drop.c.category == category,
            drop.c.quality.in_(("correct", "incorrect")), drop.c.photo.is_(None),
            drop.c.recorded_by.is_not(None)).values(photo=path))
    demo.created += casework_services.draw_week(session, pk(community), week, now=now)
    if not grade:
        return
    auditor = auth_services.load_actor(session, manager)
    pending = session.execute(select(VerdictAudit).where(
        col(VerdictAudit.community_id) == pk(community), col(VerdictAudit.week) == week,
        col(VerdictAudit.verdict).is_(None), col(VerdictAudit.steward_id) != manager)
        .order_by(col(VerdictAudit.id))).scalars().all()
    for row in pending:
        rng = random.Random(f"{demo.seed}:audit:{row.drop_id}")
        miss = LENIENT_MISS if row.steward_id == lenient and row.original == "correct" \
            else FAIR_MISS
        flip = {"correct": "incorrect", "incorrect": "correct"}
        verdict = flip[row.original] if rng.random() < miss else row.original
        casework_services.grade(session, actor=auditor, audit_id=pk(row),
                                data=GradeIn.parse(verdict=verdict), now=now)


def add_casework(demo: Demo) -> None:
    """Case rules, cases and a week of audits in every community (see the module docstring)."""
    session = demo.session
    now = clock.now()
    photos = placeholder_photos()
    with click.progressbar(list(demo.communities.items()), label="Casework") as bar:
        for n, (_slug, community) in enumerate(bar):
            manager = _manager(demo, community)
            if manager is None:
                continue
            today = clock.local_today(community.timezone, now)
            last = today - timedelta(days=1)
            _rules(demo, community, manager, last - timedelta(days=demo.days))
            _cases(demo, community, manager, now)
            # The week the draw button (and Monday's job) draws is left drawn and waiting;
            # the week before it is graded.
            waiting = casework_queries.week_of(today) - timedelta(days=7)
            week = waiting - timedelta(days=7)
            recorders = session.execute(
                select(col(Drop.recorded_by)).distinct()
                .where(col(Drop.community_id) == pk(community),
                       col(Drop.recorded_by).is_not(None), col(Drop.recorded_by) != manager,
                       col(Drop.local_date) >= week)
                .order_by(col(Drop.recorded_by))).scalars().all()
            lenient = recorders[0] if n == 0 and recorders else None
            _audits(demo, community, manager, week, lenient, photos, now)
            _audits(demo, community, manager, waiting, lenient, photos, now, grade=False)
            session.commit()
