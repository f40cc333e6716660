"""Casework read models: the manager's board (cases, overdue tasks, watchlist, audits to
grade, calibration, mis-drop reasons by station, building and hour), a steward's tasks, and
the blind audit card."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.auth.models import Account
from community.casework import calibration
from community.casework import rules as rules_mod
from community.casework.calibration import Agreement, Interval
from community.casework.models import CaseRuleSet, MisdropCase, VerdictAudit
from community.casework.rules import CaseRules, Verdict
from community.households.models import Household
from community.households.services import address_label
from community.rows import pk
from community.stations import reasons as reasons_mod
from community.stations.appeals import queries as appeals_queries
from community.stations.appeals.models import DropAppeal
from community.stations.models import Drop, Station
from community.volunteers.models import Steward

CASES_SHOWN = 200
CLOSED_DAYS = 30
CALIBRATION_WEEKS = 8
REASON_DAYS = 30


# --- Reading the facts (the services use these too) -------------------------------------

def _rule_set(row: CaseRuleSet) -> CaseRules:
    names = {f for f in CaseRules.__dataclass_fields__ if f != "version"}
    return CaseRules(version=row.version,
                     **{k: v for k, v in (row.params or {}).items() if k in names})


def versions(session: Session, community_id: int) -> list[tuple[date, CaseRules]]:
    """A community's published case-rule versions, (effective from, rules), oldest first."""
    rows = session.execute(select(CaseRuleSet).where(
        col(CaseRuleSet.community_id) == community_id)
        .order_by(col(CaseRuleSet.effective_from), col(CaseRuleSet.version))).scalars()
    return [(r.effective_from, _rule_set(r)) for r in rows]


def rules_in_force(session: Session, community_id: int) -> Callable[[date], CaseRules]:
    """day → the case rules in force that day (the defaults before any version)."""
    got = versions(session, community_id)
    return lambda day: rules_mod.pick(got, day)


def verdicts(session: Session, household_id: int, since: datetime) -> list[Verdict]:
    """A household's counted verdicts from `since` on (identified, not void, graded)."""
    d = Drop
    rows = session.execute(
        select(col(d.id), col(d.happened_at), col(d.local_date), col(d.quality))
        .where(col(d.household_id) == household_id, col(d.happened_at) >= since,
               col(d.voided_at).is_(None), col(d.quality).in_(("correct", "incorrect")))
    ).all()
    return [Verdict(i, at, day, q) for i, at, day, q in rows]


def _local_midnight(day: date, tz: str) -> datetime:
    return clock.local(datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(tz)), tz)


def week_of(day: date) -> date:
    """The Monday of a day's week."""
    return day - timedelta(days=day.weekday())


def assignable(session: Session, community_id: int) -> list[tuple[int, str]]:
    """Approved stewards of a community as (account id, name), for the assign form."""
    rows = session.execute(
        select(col(Account.id), col(Account.display_name))
        .join(Steward, col(Steward.account_id) == Account.id)
        .where(col(Steward.community_id) == community_id, col(Steward.status) == "approved")
        .order_by(col(Account.display_name), col(Account.id))).all()
    return [(i, n or str(i)) for i, n in rows]


def pending_for(session: Session, community_id: int, auditor_id: int | None,
                limit: int = 1) -> list[VerdictAudit]:
    """Sampled verdicts still to grade that `auditor_id` may grade (not their own)."""
    stmt = select(VerdictAudit).where(col(VerdictAudit.community_id) == community_id,
                                      col(VerdictAudit.verdict).is_(None))
    if auditor_id is not None:
        stmt = stmt.where(col(VerdictAudit.steward_id) != auditor_id)
    return list(session.execute(stmt.order_by(col(VerdictAudit.week),
                                              col(VerdictAudit.id)).limit(limit)).scalars())


@dataclass(frozen=True)
class CaseRow:
    """One case as the lists show it."""

    id: int
    household_id: int
    address: str
    status: str
    task: str
    assignee: str | None
    assignee_id: int | None
    due_on: date
    overdue: bool
    escalated: bool
    done: bool
    done_note: str
    progress: int
    close_after: int
    strikes: int
    opened_on: date
    refund: bool
    refunded: int
    closed_at: datetime | None


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(col(Account.id), col(Account.display_name),
                                  col(Account.username))
                           .where(col(Account.id).in_(sorted(ids)))).all()
    return {i: d or u or str(i) for i, d, u in rows}


def case_rows(session: Session, cases: list[MisdropCase], today: date, tz: str) -> list[CaseRow]:
    households = {h.id: h for h in session.execute(select(Household).where(
        col(Household.id).in_(sorted({c.household_id for c in cases})))).scalars()}
    names = _names(session, {c.assignee_id for c in cases if c.assignee_id})
    out = []
    for c in cases:
        progress = 0
        if c.status == "open":
            seen = verdicts(session, c.household_id, c.trigger_at)
            progress = rules_mod.progress(seen, (c.trigger_at, c.trigger_drop_id))
        hh = households.get(c.household_id)
        out.append(CaseRow(
            pk(c), c.household_id, address_label(hh) if hh else "?", c.status, c.task,
            names.get(c.assignee_id) if c.assignee_id else None, c.assignee_id, c.due_on,
            rules_mod.overdue(c.status, c.done_at is not None, c.due_on, today),
            c.escalated_at is not None, c.done_at is not None, c.done_note, progress,
            c.close_after, c.strikes, c.opened_on, c.refund, c.refunded, c.closed_at))
    return out


@dataclass(frozen=True)
class Watched:
    """A household on the private watchlist."""

    household_id: int
    address: str
    cases: int
    last_opened: date


@dataclass(frozen=True)
class StewardCalibration:
    """One recorder's audited verdicts: agreement, kappa, flag."""

    account_id: int
    name: str
    agreement: Agreement
    flag: str | None
    appeals_upheld: int = 0  # appeals of the steward's verdicts decided in the period
    appeals_regraded: int = 0


@dataclass(frozen=True)
class Calibration:
    """Per steward, and the community's accuracy (verdicts and audits) with intervals."""

    since: date
    stewards: list[StewardCalibration]
    verdict_accuracy: Interval | None
    verdicts: int
    audit_accuracy: Interval | None
    audited: int


@dataclass
class Reasons:
    """Incorrect drops of the last days by reason, and where and when."""

    since: date
    labels: dict[str, str]
    total: int = 0
    by_reason: Counter[str] = field(default_factory=Counter)
    by_station: dict[str, Counter[str]] = field(default_factory=dict)
    by_building: dict[str, Counter[str]] = field(default_factory=dict)
    by_hour: dict[int, Counter[str]] = field(default_factory=dict)

    def codes(self) -> list[str]:
        """Reason codes, most frequent first."""
        return [c for c, _n in self.by_reason.most_common()]


@dataclass(frozen=True)
class OpenAppeal:
    """An appeal waiting for a decision (decided on the appeals page)."""

    id: int
    address: str
    filed_at: datetime
    note: str


APPEALS_SHOWN = 10


def open_appeals(session: Session, community: Area) -> tuple[int, list[OpenAppeal]]:
    """How many appeals of the community wait for a decision, and the oldest of them."""
    a = DropAppeal
    where = (col(a.community_id) == pk(community), col(a.status) == "open")
    total = session.execute(select(func.count()).select_from(a).where(*where)).scalar_one()
    rows = session.execute(
        select(col(a.id), col(a.filed_at), col(a.note), Household)
        .join(Household, col(Household.id) == a.household_id)
        .where(*where).order_by(col(a.filed_at), col(a.id)).limit(APPEALS_SHOWN)).all()
    return int(total), [OpenAppeal(i, address_label(hh), at, note) for i, at, note, hh in rows]


@dataclass(frozen=True)
class Board:
    """The manager's casework page."""

    community: Area
    today: date
    open_cases: list[CaseRow]
    overdue: list[CaseRow]
    closed: list[CaseRow]
    watchlist: list[Watched] | None  # None: not shown to this actor
    to_grade: int
    calibration: Calibration
    reasons: Reasons
    rules: rules_mod.CaseRules
    appeals: tuple[int, list[OpenAppeal]]


def open_cases(session: Session, community: Area, today: date) -> list[CaseRow]:
    """The community's open cases, overdue first, then by due date."""
    cases = list(session.execute(
        select(MisdropCase).where(col(MisdropCase.community_id) == pk(community),
                                  col(MisdropCase.status) == "open")
        .order_by(col(MisdropCase.due_on), col(MisdropCase.id)).limit(CASES_SHOWN)).scalars())
    rows = case_rows(session, cases, today, community.timezone)
    return sorted(rows, key=lambda r: (not r.overdue, r.due_on, r.id))


def closed_cases(session: Session, community: Area, now: datetime) -> list[CaseRow]:
    """Cases closed or withdrawn in the last CLOSED_DAYS days, newest first."""
    cases = list(session.execute(
        select(MisdropCase).where(col(MisdropCase.community_id) == pk(community),
                                  col(MisdropCase.status) != "open",
                                  col(MisdropCase.closed_at) >= now - timedelta(
                                      days=CLOSED_DAYS))
        .order_by(col(MisdropCase.closed_at).desc()).limit(CASES_SHOWN)).scalars())
    return case_rows(session, cases, clock.local_today(community.timezone, now), community.timezone)


def watchlist(session: Session, community: Area, today: date,
              rules: rules_mod.CaseRules) -> list[Watched]:
    """Households with repeated cases (private: managers only)."""
    since = today - timedelta(days=rules.watch_days - 1)
    rows = session.execute(
        select(col(MisdropCase.household_id), col(MisdropCase.opened_on))
        .where(col(MisdropCase.community_id) == pk(community),
               col(MisdropCase.opened_on) >= since)).all()
    days: dict[int, list[date]] = {}
    for h, d in rows:
        days.setdefault(h, []).append(d)
    hits = {h: ds for h, ds in days.items() if rules_mod.watchlisted(ds, today, rules)}
    households = {h.id: h for h in session.execute(select(Household).where(
        col(Household.id).in_(sorted(hits)))).scalars()} if hits else {}
    return sorted((Watched(h, address_label(households[h]) if h in households else "?",
                           len(ds), max(ds)) for h, ds in hits.items()),
                  key=lambda w: (-w.cases, w.address))


def calibration_of(session: Session, community: Area, today: date,
                   weeks: int = CALIBRATION_WEEKS) -> Calibration:
    """Agreement and kappa per recorder over the last `weeks` weeks of graded audits, the
    lenient/strict flags, and the community's accuracy (verdicts of the last 30 days; the
    auditors' verdicts of the audits) with Wilson intervals."""
    since = week_of(today) - timedelta(weeks=weeks - 1)
    rows = session.execute(
        select(col(VerdictAudit.steward_id), col(VerdictAudit.original),
               col(VerdictAudit.verdict))
        .where(col(VerdictAudit.community_id) == pk(community), col(VerdictAudit.week) >= since,
               col(VerdictAudit.verdict).is_not(None))).all()
    pairs: dict[int, list[tuple[str, str]]] = {}
    for s, o, v in rows:
        pairs.setdefault(s, []).append((o, cast(str, v)))
    agreements = {s: calibration.agreement(p) for s, p in pairs.items()}
    flags = calibration.flags(agreements)
    # Appeals are evidence too (issue 17, item 3): how the steward's appealed verdicts fared.
    appealed: dict[int, Counter[str]] = {}
    start = _local_midnight(since, community.timezone)
    for o in appeals_queries.outcomes(session, community_id=pk(community), since=start):
        if o.steward_account_id is not None and o.status in ("upheld", "regraded"):
            appealed.setdefault(o.steward_account_id, Counter())[o.status] += 1
    names = _names(session, set(agreements) | set(appealed))
    stewards = sorted((StewardCalibration(s, names.get(s, str(s)),
                                          agreements.get(s) or calibration.agreement([]),
                                          flags.get(s), appealed.get(s, Counter())["upheld"],
                                          appealed.get(s, Counter())["regraded"])
                       for s in set(agreements) | set(appealed)), key=lambda x: x.name)
    d = Drop
    counts = dict(session.execute(
        select(col(d.quality), func.count()).where(
            col(d.community_id) == pk(community), col(d.local_date) > today - timedelta(days=30),
            col(d.local_date) <= today, col(d.voided_at).is_(None),
            col(d.quality).in_(("correct", "incorrect"))).group_by(col(d.quality))).all())
    graded = int(counts.get("correct", 0)) + int(counts.get("incorrect", 0))
    audited = [v for _s, _o, v in rows if v in calibration.QUALITIES]
    return Calibration(since, stewards, calibration.wilson(int(counts.get("correct", 0)), graded),
                       graded, calibration.accuracy(cast(list[str], audited)), len(audited))


def reasons(session: Session, community: Area, today: date, lang: str | None,
            days: int = REASON_DAYS) -> Reasons:
    """The incorrect drops of the last `days` local days by reason × station, building and
    local hour (a drop without a reason counts as "none")."""
    since = today - timedelta(days=days - 1)
    d = Drop
    rows = session.execute(
        select(col(d.reason_code), col(Station.name), col(Household.building),
               col(d.happened_at))
        .join(Station, col(Station.id) == d.station_id)
        .outerjoin(Household, col(Household.id) == d.household_id)
        .where(col(d.community_id) == pk(community), col(d.local_date) >= since,
               col(d.local_date) <= today, col(d.quality) == "incorrect",
               col(d.voided_at).is_(None))).all()
    labels = {code: r.label for code, r in reasons_mod.describe(
        session, pk(community), {c for c, *_r in rows if c}, lang=lang).items()}
    out = Reasons(since, labels)
    for code, station, building, at in rows:
        key = code or ""
        out.total += 1
        out.by_reason[key] += 1
        out.by_station.setdefault(station, Counter())[key] += 1
        out.by_building.setdefault(building or "", Counter())[key] += 1
        out.by_hour.setdefault(clock.local(at, community.timezone).hour, Counter())[key] += 1
    return out


def board(session: Session, community: Area, *, now: datetime, lang: str | None,
          show_watchlist: bool, auditor_id: int | None) -> Board:
    """Everything the manager's casework page shows."""
    today = clock.local_today(community.timezone, now)
    rules = rules_in_force(session, pk(community))(today)
    cases = open_cases(session, community, today)
    conds = [col(VerdictAudit.community_id) == pk(community), col(VerdictAudit.verdict).is_(None)]
    if auditor_id is not None:
        conds.append(col(VerdictAudit.steward_id) != auditor_id)
    to_grade = session.execute(select(func.count()).select_from(VerdictAudit)
                               .where(*conds)).scalar_one()
    return Board(community, today, cases, [c for c in cases if c.overdue],
                 closed_cases(session, community, now),
                 watchlist(session, community, today, rules) if show_watchlist else None,
                 int(to_grade), calibration_of(session, community, today),
                 reasons(session, community, today, lang), rules,
                 open_appeals(session, community))


def my_tasks(session: Session, account_id: int, now: datetime) -> list[tuple[Area, CaseRow]]:
    """The open cases assigned to a steward, in every community, by due date."""
    cases = list(session.execute(
        select(MisdropCase).where(col(MisdropCase.assignee_id) == account_id,
                                  col(MisdropCase.status) == "open")
        .order_by(col(MisdropCase.due_on), col(MisdropCase.id)).limit(CASES_SHOWN)).scalars())
    out = []
    for c in cases:
        area = cast(Area, session.get(Area, c.community_id))
        today = clock.local_today(area.timezone, now)
        out += [(area, r) for r in case_rows(session, [c], today, area.timezone)]
    return out


def open_task_count(session: Session, account_id: int) -> int:
    """How many open cases are assigned to the account (the navigation's badge)."""
    return int(session.execute(
        select(func.count()).select_from(MisdropCase)
        .where(col(MisdropCase.assignee_id) == account_id,
               col(MisdropCase.status) == "open")).scalar_one())


@dataclass(frozen=True)
class AuditCard:
    """What the auditor sees of a sampled drop: before grading, no verdict, reason, note or
    recorder (blind); after grading, those too."""

    id: int
    drop_id: int
    photo: str | None
    category: str
    station: str
    happened_at: datetime
    week: date
    graded: bool
    verdict: str | None
    original: str | None = None
    reason: str | None = None
    note: str | None = None
    steward: str | None = None


def audit_card(session: Session, audit: VerdictAudit, community: Area,
               lang: str | None) -> AuditCard:
    """The card of one sampled verdict; the original is revealed only once graded."""
    drop, station = session.execute(
        select(Drop, col(Station.name)).join(Station, col(Station.id) == Drop.station_id)
        .where(col(Drop.id) == audit.drop_id)).one()
    card = AuditCard(pk(audit), audit.drop_id, drop.photo, drop.category, station,
                     drop.happened_at, audit.week, audit.verdict is not None, audit.verdict)
    if audit.verdict is None:
        return card
    reason = None
    if drop.reason_code:
        got = reasons_mod.describe(session, pk(community), {drop.reason_code}, lang=lang)
        reason = got[drop.reason_code].label if drop.reason_code in got else drop.reason_code
    return AuditCard(**{**card.__dict__, "original": audit.original, "reason": reason,
                        "note": drop.note,
                        "steward": _names(session, {audit.steward_id}).get(audit.steward_id)})
