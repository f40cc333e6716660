"""Casework use cases: case rules, evaluating households (open, close, refund, withdraw),
recording and assigning tasks, escalation, drawing and grading verdict audits.

Evaluation is idempotent and order-free: a household's case state is recomputed from its
verdicts in device-time order (`rules`), one open case per household (a partial unique
index) and one case per trigger drop, so the job and any re-run agree whatever order drops
arrived in. Refunds are ledger entries of kind `refund` with source "case:<id>" (UNIQUE
(source, kind): a case refunds at most once), appended through the points services.

A refund follows the facts (`reconcile_refunds`): when a later regrade or void (the stations
services call it in their transaction), or a late drop seen by the job, changes the live
penalties of a closed case's period, the live refund is reversed and the refund the period
now deserves is appended ("case:<id>/<n>"), so an appeal that takes a refunded penalty back
never pays the household twice. `MisdropCase.refunded` holds what the facts deserve. Like
every correction, a reversal never takes the balance below zero (the shortfall is not taken
later).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.audit import services as audit
from community.auth import policy
from community.casework import calibration, queries
from community.casework import rules as rules_mod
from community.casework.models import CaseRuleSet, CaseworkCursor, MisdropCase, VerdictAudit
from community.casework.schemas import AssignIn, CaseRulesIn, GradeIn, TaskDoneIn
from community.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from community.inbox import services as inbox
from community.points import services as points_services
from community.points.models import LedgerEntry
from community.rows import any_of, insert_rows, pk, table_of
from community.stations import services as stations_services
from community.stations.models import Drop, DropRegrade, Station
from community.volunteers.models import Steward

# A case opens only for a trigger drop of the last HORIZON_DAYS local days (the late-data
# horizon: offline queues hold drops up to 30 days); older behaviour is not chased.
HORIZON_DAYS = 31
# Rows read by one run of the job per cursor; the rest waits for the next run.
BATCH = 20_000
# Drops and regrades younger than this may still be inside an uncommitted transaction with
# a lower id; the cursor stops short of them, so they are read again by the next run.
SETTLE = timedelta(minutes=10)


class CaseClosed(DomainError):
    """A task recorded or assigned on a case that is no longer open."""

    code, status, message = "case_closed", 409, _l("This case is no longer open.")


class NotYourTask(Forbidden):
    """A steward recording the task of a case assigned to someone else."""

    code, message = "not_your_task", _l(
        "This case's task is assigned to another steward; ask the manager to reassign it.")


class OwnVerdict(Forbidden):
    """An auditor grading their own verdict."""

    code, message = "own_verdict", _l(
        "You cannot audit your own verdicts; another manager or station chief grades them.")


class AlreadyGraded(Conflict):
    """A sampled verdict graded twice."""

    code, message = "already_graded", _l("This verdict has already been audited.")


class NotAssignable(InvalidInput):
    """An assignee who is not an approved steward of the case's community."""

    code, message = "not_assignable", _l("Choose an approved steward of this community.")


# --- Rules ---------------------------------------------------------------------------------

def publish_rules(session: Session, *, actor: policy.Actor, community_id: int,
                  data: CaseRulesIn, ip: str | None = None) -> CaseRuleSet:
    """Publish a new version of a community's case rules (rules:manage)."""
    area = session.get(Area, community_id)
    if area is None or area.level != "community":
        raise NotFound()
    policy.require(actor, "rules:manage", area)
    latest = session.execute(select(func.max(CaseRuleSet.version)).where(
        col(CaseRuleSet.community_id) == community_id)).scalar_one()
    row = CaseRuleSet(community_id=community_id, version=(latest or 0) + 1,
                      effective_from=data.effective_from, params=data.params(),
                      created_by=actor.account_id)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(field="version") from None
    audit.record(session, actor_id=actor.account_id, action="casework.rules_published",
                 area=area, target_type="case_rule_set", target_id=row.id, ip=ip,
                 version=row.version, effective_from=data.effective_from.isoformat())
    return row


# --- Evaluation ----------------------------------------------------------------------------

def _local_start(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


@dataclass
class Evaluated:
    """What one evaluation changed (case ids)."""

    opened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    withdrawn: list[int] = field(default_factory=list)
    refunded: int = 0

    def __iadd__(self, other: Evaluated) -> Evaluated:
        self.opened += other.opened
        self.closed += other.closed
        self.withdrawn += other.withdrawn
        self.refunded += other.refunded
        return self


def _assignee(session: Session, community_id: int, drop_id: int) -> int | None:
    """Who gets the task: the steward who recorded the trigger drop (when an approved steward
    of the community), else the station's chief, else nobody (the manager assigns)."""
    row = session.execute(select(col(Drop.recorded_by), col(Station.chief_id))
                          .join(Station, col(Station.id) == Drop.station_id)
                          .where(col(Drop.id) == drop_id)).first()
    if row is None:
        return None
    recorder, chief = row
    if recorder is not None and session.execute(select(col(Steward.id)).where(
            col(Steward.community_id) == community_id, col(Steward.account_id) == recorder,
            col(Steward.status) == "approved")).first() is not None:
        return cast(int, recorder)
    return cast(int | None, chief)


def notify_task(session: Session, case: MisdropCase) -> None:
    """Tell the assignee of their task (once per case and assignee: the dedupe key); dated
    by the clock (the demo dates it at the case's opening)."""
    if case.assignee_id is None:
        return
    from community.households.models import Household
    from community.households.services import address_label

    hh = session.get(Household, case.household_id)
    inbox.notify(session, account_id=case.assignee_id, kind="case_task",
                 params={"household": address_label(hh) if hh else "?",
                         "task": case.task, "due": case.due_on.isoformat()},
                 link=f"/casework/cases/{pk(case)}",
                 dedupe_key=f"case_task:{pk(case)}:{case.assignee_id}")


def _open(session: Session, area: Area, household_id: int, t: rules_mod.Trigger,
          now: datetime) -> MisdropCase | None:
    today = clock.local_today(area.timezone, now)
    case = MisdropCase(
        community_id=pk(area), household_id=household_id, status="open",
        trigger_drop_id=t.drop_id, trigger_at=t.happened_at, window_start=t.window_start,
        strikes=len(t.drop_ids), rule_version=t.rules.version, close_after=t.rules.close_after,
        refund=t.rules.refund, opened_at=now, opened_on=today, task=t.rules.task,
        assignee_id=_assignee(session, pk(area), t.drop_id),
        due_on=rules_mod.due_date(today, t.rules))
    try:
        with session.begin_nested():  # the job and a re-run racing: one of them opens it
            session.add(case)
            session.flush()
    except IntegrityError:
        return None
    audit.record(session, actor_id=None, action="casework.case_opened", area=area,
                 target_type="misdrop_case", target_id=case.id, household_id=household_id,
                 strikes=len(t.drop_ids), trigger_drop_id=t.drop_id)
    return case


def _due_refund(session: Session, account_id: int, case: MisdropCase, close_day: date) -> int:
    """What the case's refund is worth by the facts now: its period's live penalties."""
    e = LedgerEntry
    penalties = session.execute(
        select(col(e.local_date), col(e.amount))
        .where(col(e.account_id) == account_id, col(e.kind) == "penalty",
               col(e.local_date) >= case.window_start, col(e.local_date) <= close_day,
               points_services.not_reversed())).all()
    return rules_mod.refund_amount([(d, a) for d, a in penalties], case.window_start,
                                   close_day)


def _refund(session: Session, area: Area, case: MisdropCase, close_day: date,
            now: datetime) -> int:
    """Give back the live penalties of the case period (once: source "case:<id>")."""
    accounts = points_services.lock_accounts(session, pk(area), {case.household_id})
    account_id, _balance = accounts[case.household_id]
    amount = _due_refund(session, account_id, case, close_day)
    if amount <= 0:
        return 0
    row: dict[str, Any] = {
        "account_id": account_id, "amount": amount, "kind": "refund",
        "source": f"case:{pk(case)}", "rule_version": None, "actor_id": None,
        "reason": f"case:{pk(case)}", "at": now,
        "local_date": clock.local_today(area.timezone, now), "reverses_id": None,
        "drop_id": None}
    return amount if points_services.append_entries(session, [row],
                                                    community_id=pk(area)) else 0


def _case_refunds(session: Session, account_id: int, case: MisdropCase) -> list[LedgerEntry]:
    """The case's refund entries (the first and its corrections), oldest first; all dated
    from its period on (the account's day index and, on PostgreSQL, its partitions)."""
    e, case_id = LedgerEntry, pk(case)
    return list(session.execute(
        select(e).where(col(e.account_id) == account_id, col(e.kind) == "refund",
                        col(e.local_date) >= case.window_start,
                        col(e.reverses_id).is_(None),
                        or_(col(e.reason) == f"case:{case_id}",
                            col(e.reason).startswith(f"case:{case_id}|", autoescape=True)))
        .order_by(col(e.id))).scalars())


def reconcile_refunds(session: Session, area: Area, household_id: int, *, cause: str = "",
                      now: datetime | None = None) -> int:
    """Make the refunds of the household's closed cases follow the facts (see the module
    docstring); returns the net change of the balance. `cause` ("regrade:<day>",
    "void:<day>") is noted in the corrections' reasons, so the history says why."""
    now = now or clock.now()
    cases = list(session.execute(
        select(MisdropCase).where(col(MisdropCase.community_id) == pk(area),
                                  col(MisdropCase.household_id) == household_id,
                                  col(MisdropCase.status) == "closed",
                                  col(MisdropCase.refund).is_(True))
        .order_by(col(MisdropCase.id)).with_for_update()).scalars())
    if not cases:
        return 0
    accounts = points_services.lock_accounts(session, pk(area), {household_id})
    account_id, balance = accounts[household_id]
    today, moved = clock.local_today(area.timezone, now), 0
    for case in cases:
        if case.close_at is None:
            continue
        close_day = clock.local(case.close_at, area.timezone).date()
        due = _due_refund(session, account_id, case, close_day)
        given = _case_refunds(session, account_id, case)
        live = [r for r in given if session.execute(select(col(LedgerEntry.id)).where(
            col(LedgerEntry.account_id) == account_id, col(LedgerEntry.reverses_id) == r.id,
            col(LedgerEntry.local_date) >= r.local_date)).first() is None]
        paid = sum(r.amount for r in live)
        if due == paid:
            continue
        note = f"case:{pk(case)}" + (f"|{cause}" if cause else "")
        base = {"account_id": account_id, "rule_version": None, "actor_id": None, "at": now,
                "local_date": today, "drop_id": None}
        rows: list[dict[str, Any]] = []
        for r in live:  # reverse what was given (at most what the balance allows)
            take = max(0, min(r.amount, balance + due))
            rows.append(base | {"amount": -take, "kind": "reversal", "reason": note,
                                "source": f"case:{pk(case)}/x{r.id}", "reverses_id": r.id})
            balance -= take
        if due > 0:
            rows.append(base | {"amount": due, "kind": "refund", "reason": note,
                                "source": f"case:{pk(case)}/{len(given)}",
                                "reverses_id": None})
            balance += due
        points_services.append_entries(session, rows, community_id=pk(area))
        moved += sum(r["amount"] for r in rows)
        audit.record(session, actor_id=None, action="casework.refund_corrected", area=area,
                     target_type="misdrop_case", target_id=case.id, was=paid, deserved=due,
                     cause=cause)
        case.refunded = due
        session.add(case)
    session.flush()
    return moved


def _refunds_follow(session: Session, drop: Drop, cause: str, now: datetime) -> None:
    """The stations' listener: after a regrade or void of a household's drop."""
    if drop.household_id is None:
        return
    area = session.get(Area, drop.community_id)
    if area is not None:
        reconcile_refunds(session, area, drop.household_id,
                          cause=f"{cause}:{drop.local_date.isoformat()}", now=now)


stations_services.on_verdict_changed(_refunds_follow)


def evaluate_household(session: Session, area: Area, household_id: int, *,
                       now: datetime | None = None, notify: bool = True) -> Evaluated:
    """Bring a household's cases up to date with its verdicts (idempotent). The assignee of
    each case opened and still open is told of the task (with `notify`); a case that late
    data opened and closed in one evaluation is no task to anyone."""
    out = _evaluate(session, area, household_id, now or clock.now())
    if notify:
        for case_id in out.opened:
            case = session.get(MisdropCase, case_id)
            if case is not None and case.status == "open":
                notify_task(session, case)
    return out


def _evaluate(session: Session, area: Area, household_id: int, now: datetime) -> Evaluated:
    out = Evaluated()
    # Late drops may have moved the penalties of a closed case's period (regrades and voids
    # reconcile in their own transaction already).
    out.refunded += reconcile_refunds(session, area, household_id, now=now)
    today = clock.local_today(area.timezone, now)
    rules_on = queries.rules_in_force(session, pk(area))
    cases = list(session.execute(
        select(MisdropCase).where(col(MisdropCase.community_id) == pk(area),
                                  col(MisdropCase.household_id) == household_id)
        .order_by(col(MisdropCase.id)).with_for_update()).scalars())
    closed = [(c.close_at, c.close_drop_id) for c in cases
              if c.status == "closed" and c.close_at is not None and c.close_drop_id]
    after: rules_mod.Key | None = cast(rules_mod.Key, max(closed)) if closed else None
    current = next((c for c in cases if c.status == "open"), None)
    longest = max([rules_on(today).window_days] + [r.window_days for _d, r in
                                                   queries.versions(session, pk(area))])
    since = _local_start(today - timedelta(days=longest + HORIZON_DAYS), area.timezone)
    if current is not None:
        since = min(since, _local_start(current.window_start, area.timezone))
    if after is not None:
        since = max(since, after[0])
    verdicts = queries.verdicts(session, household_id, since)
    for _round in range(3):  # late data can open and close a case in one evaluation
        if current is None:
            t = rules_mod.trigger(verdicts, rules_on, after)
            if t is None or t.local_date < today - timedelta(days=HORIZON_DAYS):
                return out
            current = _open(session, area, household_id, t, now)
            if current is None:
                return out
            out.opened.append(pk(current))
        elif rules_mod.trigger(verdicts, rules_on, after) is None:
            # A regrade or void took the household back under the threshold.
            current.status, current.closed_at = "withdrawn", now
            current.close_note = "below_threshold"
            session.add(current)
            session.flush()
            out.withdrawn.append(pk(current))
            audit.record(session, actor_id=None, action="casework.case_withdrawn", area=area,
                         target_type="misdrop_case", target_id=current.id)
            return out
        key = (current.trigger_at, current.trigger_drop_id)
        done = rules_mod.closing(verdicts, key, current.close_after)
        if done is None:
            return out
        current.status, current.closed_at = "closed", now
        current.close_drop_id, current.close_at = done.drop_id, done.happened_at
        session.add(current)
        session.flush()
        if current.refund:
            current.refunded = _refund(session, area, current, done.local_date, now)
            out.refunded += current.refunded
            session.add(current)
            session.flush()
        out.closed.append(pk(current))
        audit.record(session, actor_id=None, action="casework.case_closed", area=area,
                     target_type="misdrop_case", target_id=current.id,
                     refunded=current.refunded)
        after, current = done.key, None
    return out


def _cursor(session: Session, name: str) -> int:
    """The cursor's position, locked until the commit (two runs at once take turns: the
    10-minute job and the nightly sweep); made on first use (ON CONFLICT: a concurrent
    first use wins)."""
    table = table_of(CaseworkCursor)
    insert_rows(session, table, [{"name": name, "last_id": 0, "updated_at": clock.now()}],
                on=["name"])
    return int(session.execute(select(table.c.last_id).where(table.c.name == name)
                               .with_for_update()).scalar_one())


def _advance(session: Session, name: str, last_id: int, now: datetime) -> None:
    session.execute(update(table_of(CaseworkCursor))
                    .where(table_of(CaseworkCursor).c.name == name)
                    .values(last_id=last_id, updated_at=now))


def _changed_households(session: Session, now: datetime
                        ) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """Since the cursors: (community, household) with new incorrect drops or regrades (they
    may open or withdraw a case), and those with any new drop (they may close one).

    Each cursor advances to the last row read that is older than SETTLE (rows younger than
    that may have lower-id neighbours still uncommitted; they are read again next time).
    """
    changed: set[tuple[int, int]] = set()
    touched: set[tuple[int, int]] = set()
    settled = now - SETTLE
    d, r = Drop, DropRegrade
    last = _cursor(session, "drops")
    rows = session.execute(
        select(col(d.id), col(d.community_id), col(d.household_id), col(d.quality),
               col(d.received_at))
        .where(col(d.id) > last).order_by(col(d.id)).limit(BATCH)).all()
    upto, stuck = last, False
    for i, c, h, q, received in rows:
        if h is not None:
            touched.add((c, h))
            if q == "incorrect":
                changed.add((c, h))
        stuck = stuck or received >= settled
        if not stuck:
            upto = i
    _advance(session, "drops", upto, now)
    last = _cursor(session, "regrades")
    rows2 = session.execute(
        select(col(r.id), col(d.community_id), col(d.household_id), col(r.at))
        .join(d, col(d.id) == r.drop_id)
        .where(col(r.id) > last).order_by(col(r.id)).limit(BATCH)).all()
    upto, stuck = last, False
    for i, c, h, at in rows2:
        if h is not None:
            changed.add((c, h))
        stuck = stuck or at >= settled
        if not stuck:
            upto = i
    _advance(session, "regrades", upto, now)
    return changed, touched


def evaluate_all(session: Session, *, now: datetime | None = None,
                 every_open: bool = False) -> dict[str, int]:
    """The job: evaluate the households with new incorrect drops or regrades (opening,
    withdrawing) and the households with an open case and any new drop (closing); with
    `every_open`, every household with an open case (the nightly sweep, which also catches
    voids: a void changes no id); escalate overdue tasks."""
    now = now or clock.now()
    changed, touched = _changed_households(session, now)
    open_ = {(c, h) for c, h in session.execute(
        select(col(MisdropCase.community_id), col(MisdropCase.household_id))
        .where(col(MisdropCase.status) == "open")).all()}
    keys = changed | (open_ if every_open else open_ & touched)
    total = Evaluated()
    areas: dict[int, Area] = {}
    for c, h in sorted(keys):
        if c not in areas:
            areas[c] = cast(Area, session.get(Area, c))
        total += evaluate_household(session, areas[c], h, now=now)
    escalated = escalate_overdue(session, now=now)
    return {"households": len(keys), "opened": len(total.opened), "closed": len(total.closed),
            "withdrawn": len(total.withdrawn), "refunded": total.refunded,
            "escalated": escalated}


def escalate_overdue(session: Session, *, now: datetime | None = None) -> int:
    """Mark open cases whose task is not done by the end of its due date (once)."""
    now = now or clock.now()
    m = MisdropCase
    rows = session.execute(
        select(m, col(Area.timezone)).join(Area, col(Area.id) == m.community_id)
        .where(col(m.status) == "open", col(m.done_at).is_(None),
               col(m.escalated_at).is_(None),
               col(m.due_on) < now.date() + timedelta(days=1))).all()
    n = 0
    for case, tz in rows:
        if rules_mod.overdue(case.status, False, case.due_on, clock.local_today(tz, now)):
            case.escalated_at = now
            session.add(case)
            n += 1
    session.flush()
    return n


# --- Tasks ---------------------------------------------------------------------------------

def get_case(session: Session, *, actor: policy.Actor, case_id: int,
             action: str = "case:read") -> tuple[MisdropCase, Area]:
    """A case the actor may see (`action` in its community), else NotFound / Forbidden."""
    case = session.get(MisdropCase, case_id)
    if case is None:
        raise NotFound()
    area = cast(Area, session.get(Area, case.community_id))
    policy.require(actor, action, area)
    return case, area


def record_task(session: Session, *, actor: policy.Actor, case_id: int, data: TaskDoneIn,
                now: datetime | None = None, ip: str | None = None) -> MisdropCase:
    """The steward records what was done (the assignee, or a chief or manager)."""
    now = now or clock.now()
    case, area = get_case(session, actor=actor, case_id=case_id, action="case:act")
    if case.status != "open":
        raise CaseClosed()
    if case.assignee_id != actor.account_id and not policy.allowed(actor, "case:manage", area):
        raise NotYourTask()
    case.task, case.done_note = data.task, data.note
    case.done_at, case.done_by = now, actor.account_id
    session.add(case)
    session.flush()
    audit.record(session, actor_id=actor.account_id, action="casework.task_done", area=area,
                 target_type="misdrop_case", target_id=case.id, ip=ip, task=data.task)
    return case


def assign(session: Session, *, actor: policy.Actor, case_id: int, data: AssignIn,
           now: datetime | None = None, ip: str | None = None) -> MisdropCase:
    """Assign (or reassign) a case's task: steward, task and due date (case:manage)."""
    now = now or clock.now()
    case, area = get_case(session, actor=actor, case_id=case_id, action="case:manage")
    if case.status != "open":
        raise CaseClosed()
    if data.assignee_id not in {i for i, _n in queries.assignable(session, pk(area))}:
        raise NotAssignable(field="assignee_id")
    if data.due_on < clock.local_today(area.timezone, now):
        raise InvalidInput(_l("The due date cannot be in the past."), field="due_on")
    changed = case.assignee_id != data.assignee_id
    case.assignee_id, case.task, case.due_on = data.assignee_id, data.task, data.due_on
    case.escalated_at = None
    session.add(case)
    session.flush()
    if changed:
        notify_task(session, case)
    audit.record(session, actor_id=actor.account_id, action="casework.case_assigned",
                 area=area, target_type="misdrop_case", target_id=case.id, ip=ip,
                 assignee_id=data.assignee_id, task=data.task, due_on=data.due_on.isoformat())
    return case


# --- Verdict audits ------------------------------------------------------------------------

def _originals(session: Session, drop_ids: Sequence[int]) -> dict[int, str]:
    """Each regraded drop's first quality (the recorder's own verdict)."""
    if not drop_ids:
        return {}
    r = DropRegrade
    rows = session.execute(select(col(r.drop_id), col(r.from_quality))
                           .where(any_of(session, col(r.drop_id), drop_ids))
                           .order_by(col(r.id))).all()
    out: dict[int, str] = {}
    for d, q in rows:
        out.setdefault(d, q)
    return out


def draw_week(session: Session, community_id: int, week: date, *,
              now: datetime | None = None) -> int:
    """Draw the week's audit sample for every recorder of the community (idempotent: a
    recorder who already has audits of that week is skipped); the number of rows drawn."""
    now = now or clock.now()
    week = queries.week_of(week)
    d = Drop
    rows = session.execute(
        select(col(d.id), col(d.recorded_by), col(d.quality))
        .where(col(d.community_id) == community_id, col(d.local_date) >= week,
               col(d.local_date) < week + timedelta(days=7), col(d.recorded_by).is_not(None),
               col(d.photo).is_not(None), col(d.voided_at).is_(None),
               col(d.quality).in_(("correct", "incorrect")))).all()
    done = set(session.execute(select(col(VerdictAudit.steward_id)).where(
        col(VerdictAudit.community_id) == community_id,
        col(VerdictAudit.week) == week)).scalars())
    by: dict[int, list[int]] = {}
    quality = {}
    for i, who, q in rows:
        quality[i] = q
        if who not in done:
            by.setdefault(who, []).append(i)
    picked: list[tuple[int, int]] = []
    for who, ids in sorted(by.items()):
        k = calibration.sample_size(len(ids))
        picked += [(who, i) for i in calibration.draw(ids, k, f"{community_id}:{week}:{who}")]
    originals = _originals(session, [i for _w, i in picked])
    new = [{"community_id": community_id, "drop_id": i, "steward_id": who, "week": week,
            "original": originals.get(i, quality[i]), "drawn_at": now, "auditor_id": None,
            "verdict": None, "graded_at": None}
           for who, i in picked if originals.get(i, quality[i]) in calibration.QUALITIES]
    if not new:
        return 0
    got = insert_rows(session, table_of(VerdictAudit), new, on=["community_id", "drop_id"],
                      returning=(table_of(VerdictAudit).c.id,))
    return len(got.all())


def draw_for(session: Session, *, actor: policy.Actor, community_id: int, week: date,
             now: datetime | None = None) -> int:
    """A manager or chief draws a week's sample now (verdict:audit)."""
    area = session.get(Area, community_id)
    if area is None or area.level != "community":
        raise NotFound()
    policy.require(actor, "verdict:audit", area)
    return draw_week(session, community_id, week, now=now)


def draw_all(session: Session, *, week: date, now: datetime | None = None) -> dict[str, int]:
    """The job: draw the week's sample in every community (each read by the drops'
    (community, day) index; a scan of the week across communities would read every row)."""
    ids = session.execute(select(col(Area.id)).where(col(Area.level) == "community")
                          .order_by(col(Area.id))).scalars().all()
    drawn = sum(draw_week(session, c, week, now=now) for c in ids)
    return {"drawn": drawn}


def grade(session: Session, *, actor: policy.Actor, audit_id: int, data: GradeIn,
          now: datetime | None = None, ip: str | None = None) -> VerdictAudit:
    """Record an auditor's blind verdict (verdict:audit); never one's own; once. The drop
    itself is not touched (audits are evidence only)."""
    now = now or clock.now()
    row: VerdictAudit | None = session.execute(
        select(VerdictAudit).where(col(VerdictAudit.id) == audit_id).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise NotFound()
    area = cast(Area, session.get(Area, row.community_id))
    policy.require(actor, "verdict:audit", area)
    if row.steward_id == actor.account_id:
        raise OwnVerdict()
    if row.verdict is not None:
        raise AlreadyGraded()
    row.verdict, row.auditor_id, row.graded_at = data.verdict, actor.account_id, now
    session.add(row)
    session.flush()
    audit.record(session, actor_id=actor.account_id, action="casework.verdict_audited",
                 area=area, target_type="verdict_audit", target_id=row.id, ip=ip,
                 drop_id=row.drop_id, agrees=row.verdict == row.original)
    return row
