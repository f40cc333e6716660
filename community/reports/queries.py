"""What the report pages read: deadlines in force, a reporter's reports, the handlers' board
(filters, counts by kind and station, oldest first, overdue marked), the street and district
overdue list, reports by kind and week, and 按期处置率 for any area and month
(`on_time_rate`, also read by the dashboards and the ratings)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.auth.models import Account
from community.reports import rules
from community.reports.models import Report, ReportDeadlineSet, ReportPlus
from community.rows import pk
from community.stations.models import Station


def _city_id(area: Area) -> int:
    return int(area.path.strip("/").split("/")[0])


def deadlines_in_force(session: Session, community: Area, at: datetime
                       ) -> tuple[int, dict[str, Any]]:
    """(version, hours per kind) of the community's city in force at `at` ((0, {}): the
    built-in defaults, before the city published any)."""
    day = clock.local_today(community.timezone, at)
    row = session.execute(
        select(ReportDeadlineSet).where(col(ReportDeadlineSet.city_id) == _city_id(community),
                                        col(ReportDeadlineSet.effective_from) <= day)
        .order_by(col(ReportDeadlineSet.version).desc()).limit(1)).scalar_one_or_none()
    return (row.version, dict(row.hours)) if row else (0, {})


def deadline_versions(session: Session, city_id: int) -> list[ReportDeadlineSet]:
    """A city's published deadline versions, newest first."""
    return list(session.execute(
        select(ReportDeadlineSet).where(col(ReportDeadlineSet.city_id) == city_id)
        .order_by(col(ReportDeadlineSet.version).desc())).scalars())


def place_of(session: Session, report: Report) -> str:
    """Where a report is: its station's name, or the place the reporter gave."""
    if report.station_id is not None:
        station = session.get(Station, report.station_id)
        if station is not None:
            return station.name
    return report.place or "?"


@dataclass(frozen=True)
class Row:
    """A report as a list shows it."""

    report: Report
    place: str
    community: str
    timezone: str
    assignee: str
    overdue: bool
    joined_by_me: bool = False

    def local(self, moment: datetime | None) -> str:
        """A moment in the community's local time ("" for none)."""
        return "" if moment is None else clock.local(moment, self.timezone) \
            .strftime("%Y-%m-%d %H:%M")


def _rows(session: Session, reports: list[Report], now: datetime,
          joined: set[int] | None = None) -> list[Row]:
    stations = {s.id: s.name for s in session.execute(select(Station).where(col(Station.id).in_(
        {r.station_id for r in reports if r.station_id}))).scalars()}
    areas = {a.id: a for a in session.execute(select(Area).where(col(Area.id).in_(
        {r.community_id for r in reports}))).scalars()}
    names = dict(session.execute(select(col(Account.id), col(Account.display_name)).where(
        col(Account.id).in_({r.assignee_id for r in reports if r.assignee_id}))).all())
    out = []
    for r in reports:
        area = areas[r.community_id]
        place = stations.get(r.station_id or 0) or r.place or "?"
        out.append(Row(r, place, area.name, area.timezone,
                       names.get(r.assignee_id or 0, "") or "",
                       rules.overdue(r.status, r.level_due_at, now),
                       pk(r) in (joined or set())))
    return out


def mine(session: Session, account_id: int | None, now: datetime, limit: int = 100
         ) -> list[Row]:
    """The reports an account made or joined (+1), newest first."""
    if account_id is None:
        return []
    joined = set(session.execute(select(col(ReportPlus.report_id)).where(
        col(ReportPlus.account_id) == account_id)).scalars())
    reports = list(session.execute(
        select(Report).where(or_(col(Report.reporter_id) == account_id,
                                 col(Report.id).in_(joined)))
        .order_by(col(Report.created_at).desc(), col(Report.id).desc()).limit(limit)).scalars())
    return _rows(session, reports, now, joined)


@dataclass(frozen=True)
class Plus:
    """Someone's +1 as the report's page shows it; `photo` is whether the reader sees a photo
    of it. Its note, photo and position are the joiner's: only the report's handlers and the
    joiner see them (others get "", False and None)."""

    id: int
    account_id: int
    name: str
    note: str
    at: datetime
    photo: bool
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class Given:
    """What the reporter gave with the report: their note, whether a photo was kept, and the
    photo's position when they agreed to share it (with the handlers, not other residents)."""

    note: str
    photo: bool
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class Detail:
    """One report as its page shows it to one reader: `given` is None and each +1 is bare
    when the reader may not see them (a resident who joined sees only their own +1)."""

    row: Row
    given: Given | None
    pluses: list[Plus]


def pluses(session: Session, report_id: int, *, sees_all: bool = True,
           account_id: int | None = None) -> list[Plus]:
    """Who joined a report (+1), oldest first, with their note, whether they left a photo and
    its position, for a reader who sees every +1 (`sees_all`), else only `account_id`'s."""
    out = []
    for p, name in session.execute(
            select(ReportPlus, col(Account.display_name))
            .join(Account, col(Account.id) == ReportPlus.account_id)
            .where(col(ReportPlus.report_id) == report_id).order_by(col(ReportPlus.id))).all():
        if sees_all or (account_id is not None and p.account_id == account_id):
            out.append(Plus(p.id, p.account_id, name or "", p.note, p.at, bool(p.photo),
                            p.latitude, p.longitude))
        else:
            out.append(Plus(p.id, p.account_id, "", "", p.at, False, None, None))
    return out


def detail(session: Session, report: Report, now: datetime, *, sees_given: bool,
           sees_all_pluses: bool, account_id: int | None) -> Detail:
    """A report's page for one reader: the reporter's note, photo and position only when
    `sees_given` (the reporter, the report's handlers), each +1's only for its own joiner or
    a reader who `sees_all_pluses`."""
    given = Given(report.note, bool(report.photo), report.latitude, report.longitude) \
        if sees_given else None
    return Detail(_rows(session, [report], now)[0], given,
                  pluses(session, pk(report), sees_all=sees_all_pluses, account_id=account_id))


# --- 按期处置率 ---------------------------------------------------------------------------------

def _in_area(area: Area) -> Any:
    """Reports of an area: a community's own (a street kind is its street's), or every
    report of the communities under a street, district or city."""
    if area.level == "community":
        return (col(Report.community_id) == area.id) & \
            col(Report.kind).not_in(rules.STREET_KINDS)
    inside = select(col(Area.id)).where(col(Area.path).startswith(area.path),
                                        col(Area.level) == "community")
    return col(Report.community_id).in_(inside)


def on_time_rate(session: Session, area_id: int, month: date, *,
                 now: datetime | None = None) -> rules.Rate:
    """按期处置率 of a community, street, district or city for the local month holding
    `month`: reports handled by their deadline / reports due in it (`rules.rate`); `.value`
    is None when nothing was due."""
    area = session.get(Area, area_id)
    if area is None:
        return rules.Rate(0, 0)
    start, end = rules.month_bounds(month, area.timezone)
    facts = [rules.RateFact(d, h) for d, h in session.execute(
        select(col(Report.due_at), col(Report.handled_at))
        .where(_in_area(area), col(Report.due_at) >= start, col(Report.due_at) < end)).all()]
    return rules.rate(facts, start, end, now or clock.now())


def on_time_by_child(session: Session, area: Area, month: date, *,
                     now: datetime | None = None) -> list[tuple[Area, rules.Rate]]:
    """The rate of each area one level below `area` (a community: none), in tree order."""
    children = list(session.execute(select(Area).where(col(Area.parent_id) == area.id)
                                    .order_by(col(Area.id))).scalars())
    return [(c, on_time_rate(session, pk(c), month, now=now)) for c in children]


# --- The handlers' board ------------------------------------------------------------------------

@dataclass
class Board:
    """A community's reports with the board's filters applied."""

    community: Area
    rows: list[Row]
    by_kind: Counter[str]
    by_station: Counter[str]
    overdue: int
    open: int
    rate: rules.Rate
    last_rate: rules.Rate
    weeks: list[date] = field(default_factory=list)
    weekly: dict[str, list[int]] = field(default_factory=dict)


STATUS_FILTERS = ("open", "handled", "confirmed", "all")
CHART_WEEKS = 12


def weekly_by_kind(reports: list[tuple[str, datetime]], tz: str, today: date,
                   weeks: int = CHART_WEEKS) -> tuple[list[date], dict[str, list[int]]]:
    """Reports by kind and local week (Mondays) for the last `weeks` weeks."""
    last = rules.week_of(today)
    mondays = [last - timedelta(days=7 * i) for i in range(weeks - 1, -1, -1)]
    index = {m: i for i, m in enumerate(mondays)}
    out: dict[str, list[int]] = {}
    for kind, made in reports:
        i = index.get(rules.week_of(clock.local(made, tz).date()))
        if i is not None:
            out.setdefault(kind, [0] * weeks)[i] += 1
    return mondays, {k: out[k] for k in rules.KINDS if k in out}


def board(session: Session, community: Area, *, now: datetime, status: str = "open",
          kind: str | None = None, station_id: int | None = None, limit: int = 200) -> Board:
    """The community's reports (oldest first), filtered by status, kind and station; counts
    by kind and station of the open ones; the month's and last month's on-time rate; reports
    by kind and week."""
    stmt = select(Report).where(col(Report.community_id) == community.id)
    if status == "open":
        stmt = stmt.where(col(Report.status).in_(rules.OPEN))
    elif status in ("handled", "confirmed"):
        stmt = stmt.where(col(Report.status) == status)
    if kind in rules.KINDS:
        stmt = stmt.where(col(Report.kind) == kind)
    if station_id:
        stmt = stmt.where(col(Report.station_id) == station_id)
    reports = list(session.execute(stmt.order_by(col(Report.created_at), col(Report.id))
                                   .limit(limit)).scalars())
    rows = _rows(session, reports, now)
    open_rows = _rows(session, list(session.execute(select(Report).where(
        col(Report.community_id) == community.id,
        col(Report.status).in_(rules.OPEN))).scalars()), now)
    today = clock.local_today(community.timezone, now)
    month = today.replace(day=1)
    since = clock.local(now, community.timezone) - timedelta(days=7 * CHART_WEEKS + 7)
    made = [(k, c) for k, c in session.execute(
        select(col(Report.kind), col(Report.created_at)).where(
            col(Report.community_id) == community.id, col(Report.created_at) >= since)).all()]
    weeks, weekly = weekly_by_kind(made, community.timezone, today)
    return Board(
        community, rows, Counter(r.report.kind for r in open_rows),
        Counter(r.place for r in open_rows), sum(r.overdue for r in open_rows),
        len(open_rows), on_time_rate(session, pk(community), month, now=now),
        on_time_rate(session, pk(community), (month - timedelta(days=1)).replace(day=1),
                     now=now),
        weeks, weekly)


@dataclass
class AreaOverdue:
    """A street's or district's open reports (overdue first), and each community's rate."""

    area: Area
    rows: list[Row]
    rate: rules.Rate
    children: list[tuple[Area, rules.Rate]]


def area_overdue(session: Session, area: Area, *, now: datetime, only_overdue: bool = True,
                 limit: int = 300) -> AreaOverdue:
    """The open reports of the communities under `area` that are overdue (or all open ones),
    oldest deadline first, with this month's rate of the area and of each area below it."""
    inside = select(col(Area.id)).where(col(Area.path).startswith(area.path),
                                        col(Area.level) == "community")
    stmt = select(Report).where(col(Report.community_id).in_(inside),
                                col(Report.status).in_(rules.OPEN))
    if only_overdue:
        stmt = stmt.where(col(Report.level_due_at) < now)
    reports = list(session.execute(stmt.order_by(col(Report.due_at), col(Report.id))
                                   .limit(limit)).scalars())
    month = clock.local_today(area.timezone, now).replace(day=1)
    return AreaOverdue(area, _rows(session, reports, now),
                       on_time_rate(session, pk(area), month, now=now),
                       on_time_by_child(session, area, month, now=now))


def stations_of(session: Session, community_id: int) -> list[tuple[int, str]]:
    """The community's open stations for the report form: (id, name)."""
    return [(i, n) for i, n in session.execute(
        select(col(Station.id), col(Station.name)).where(
            col(Station.community_id) == community_id, col(Station.status) == "open")
        .order_by(col(Station.name), col(Station.id))).all()]


@dataclass(frozen=True)
class Summary:
    """A dashboard card: the month's 按期处置率 with last month's, and the open reports now."""

    area: Area
    month: date
    rate: rules.Rate
    previous: rules.Rate
    open: int
    overdue: int


def summary(session: Session, area_id: int, month: date, *,
            now: datetime | None = None) -> Summary | None:
    """The reports card of any area (community, street, district, city) for a local month:
    its on-time rate and last month's, and its open and overdue reports now (None: no such
    area)."""
    area = session.get(Area, area_id)
    if area is None:
        return None
    now = now or clock.now()
    first = month.replace(day=1)
    before = (first - timedelta(days=1)).replace(day=1)
    inside = _in_area(area)
    open_ = session.execute(select(col(Report.level_due_at)).where(
        inside, col(Report.status).in_(rules.OPEN))).scalars().all()
    return Summary(area, first, on_time_rate(session, area_id, first, now=now),
                   on_time_rate(session, area_id, before, now=now), len(open_),
                   sum(due < now for due in open_))


def on_time_values(session: Session, community_ids: list[int], month: date, *,
                   now: datetime | None = None) -> dict[int, float | None]:
    """按期处置率 of several communities for one local month, as the ratings store it (None:
    nothing was due); one read for them all."""
    if not community_ids:
        return {}
    now = now or clock.now()
    zones = dict(session.execute(select(col(Area.id), col(Area.timezone)).where(
        col(Area.id).in_(community_ids))).all())
    bounds = {c: rules.month_bounds(month, tz) for c, tz in zones.items()}
    lo = min(b[0] for b in bounds.values()) if bounds else now
    hi = max(b[1] for b in bounds.values()) if bounds else now
    facts: dict[int, list[rules.RateFact]] = {c: [] for c in community_ids}
    for c, due, handled in session.execute(
            select(col(Report.community_id), col(Report.due_at), col(Report.handled_at))
            .where(col(Report.community_id).in_(community_ids),
                   col(Report.kind).not_in(rules.STREET_KINDS),
                   col(Report.due_at) >= lo, col(Report.due_at) < hi)).all():
        facts[c].append(rules.RateFact(due, handled))
    return {c: rules.rate(facts[c], *bounds[c], now).value if c in bounds else None
            for c in community_ids}
