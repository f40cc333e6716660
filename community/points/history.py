"""A household's points history as its members read it: entries in device-time order
(when the drop happened on the steward's phone, not when the entry was written), grouped
by local month with each month's total.

A late upload or a regrade appends its entries long after the drop; ordering by entry id
put them at the top of the list on the day they arrived. Here an entry about a drop sorts
at the drop's device time (`drop_record.happened_at`), any other entry at its own time,
ties broken by id; the keyset cursor is that pair, so paging is stable. The entries are
`points.facts.entries`: the ledger's and the drops' own earns and strikes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session, col

from community.points import facts as drop_rows
from community.points import services as points_services
from community.points.facts import decode_cursor, encode_cursor
from community.points.models import PointsAccount

CHART_MONTHS = 12


@dataclass(frozen=True)
class HistoryItem:
    """One entry, described, with the time it sorts at and the local day it belongs to."""

    row: points_services.HistoryRow
    sort_at: datetime
    day: date


@dataclass(frozen=True)
class MonthGroup:
    """The entries of one local month on this page, and the month's total over all entries."""

    month: date  # the first day of the month
    total: int
    items: list[HistoryItem]


@dataclass(frozen=True)
class HistoryPage:
    """A page of history grouped by month, the cursor of the next page, and the chart."""

    months: list[MonthGroup]
    next_before: str | None
    chart: list[tuple[date, int]]  # the last CHART_MONTHS months' totals, oldest first


def _account(session: Session, household_id: int) -> int | None:
    return session.execute(select(col(PointsAccount.id)).where(
        col(PointsAccount.household_id) == household_id)).scalar_one_or_none()


def household_history(session: Session, *, household_id: int, limit: int = 30,
                      before: str | None = None, today: date | None = None) -> HistoryPage:
    """A page of a household's entries, newest device time first, grouped by month."""
    account = _account(session, household_id)
    if account is None:
        return HistoryPage([], None, [])
    e, joined, drop, sort_at, day = _with_drops()
    joined, rk, rr = drop_rows.undone(e, joined, drop)
    stmt = (select(e.c.id, e.c.at, e.c.local_date, e.c.kind, e.c.amount, e.c.reason,
                   e.c.drop_id, rk, rr, sort_at.label("sort_at"), day.label("day"),
                   drop_rows.taken_back(e))
            .select_from(joined).where(e.c.account_id == account))
    cursor = decode_cursor(before)
    if cursor is not None:
        at, entry_id = cursor
        stmt = stmt.where(or_(sort_at < at, and_(sort_at == at, e.c.id < entry_id)))
    rows = session.execute(stmt.order_by(sort_at.desc(), e.c.id.desc())
                           .limit(limit + 1)).all()
    more = len(rows) > limit
    items = [HistoryItem(points_services.HistoryRow(
        i, at_, local, kind, amount,
        points_services.describe(kind, amount, reason, rk_, rr_), drop_id, bool(gone)),
        _aware(s), _as_date(d))
        for i, at_, local, kind, amount, reason, drop_id, rk_, rr_, s, d, gone
        in rows[:limit]]
    totals = monthly_totals(session, account)
    groups: list[MonthGroup] = []
    for item in items:
        month = item.day.replace(day=1)
        if not groups or groups[-1].month != month:
            groups.append(MonthGroup(month, totals.get(month, 0), []))
        groups[-1].items.append(item)
    last = items[-1] if more and items else None
    return HistoryPage(groups, encode_cursor(last.sort_at, last.row.id) if last else None,
                       _chart(totals, today or (items[0].day if items else None)))


def monthly_totals(session: Session, account: int) -> dict[date, int]:
    """Each local month's net points of an account (by the entry's day, the drop's day for
    a drop's entries), summed in SQL by day and folded into months here."""
    e, joined, _drop, _sort_at, day = _with_drops()
    rows = session.execute(
        select(day, func.sum(e.c.amount)).select_from(joined).where(e.c.account_id == account)
        .group_by(day)).all()
    out: dict[date, int] = {}
    for d, total in rows:
        month = _as_date(d).replace(day=1)
        out[month] = out.get(month, 0) + int(total or 0)
    return out


def _with_drops() -> tuple[Any, Any, Any, Any, Any]:
    """Every entry (`facts.entries`) joined to the drop it is about: (entries, the join,
    drops, the time an entry sorts at, the local day it belongs to)."""
    e = drop_rows.entries()
    drop = drop_rows.drops.alias("about")
    joined = e.outerjoin(drop, and_(drop.c.community_id == e.c.community_id,
                                    drop.c.id == e.c.drop_id))
    sort_at = func.coalesce(drop.c.happened_at, e.c.at)
    day = func.coalesce(drop.c.local_date, e.c.local_date)
    return e, joined, drop, sort_at, day


def _chart(totals: dict[date, int], today: date | None) -> list[tuple[date, int]]:
    """The last CHART_MONTHS months up to today's, oldest first (months with no entry: 0)."""
    if today is None:
        return []
    months = []
    year, month = today.year, today.month
    for _ in range(CHART_MONTHS):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return [(m, totals.get(m, 0)) for m in reversed(months)]


def _aware(value: datetime | str) -> datetime:
    """SQLite hands the coalesced time back as text or naive UTC; make it aware UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _as_date(value: date | str) -> date:
    """SQLite hands the coalesced day back as text."""
    return date.fromisoformat(value) if isinstance(value, str) else value
