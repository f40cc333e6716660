"""Read queries of the managers' points pages: the overview of a scope, one household's
ledger, a community's rule versions, and the rows of the exports.

Reads only, with one exception: starting a ledger export writes its audit entry (flushed,
the request commits it), as the drop export does. Every function authorizes before it reads.
Figures are summed in SQL over `local_date` ranges (grouped by day, at most 9 × 366 rows,
folded into months here), so a city's ledger is never loaded entry by entry.

Which accounts: every figure and export covers the same accounts, every points account of
the scope, households' AND stewards' (积分银行: a steward earns points for approved
volunteer hours). A city official reconciles the monthly summary with the entries export
and the points outstanding: the export's rows of a month add up to the summary's net
change of the month, and the outstanding points are the sum of the same accounts'
balances. The export labels a steward's rows as such (the household column names the
steward), and the overview says stewards are included.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, Integer, MetaData, Table, and_, case, func, literal, or_, select
from sqlmodel import Session, col

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.audit import services as audit
from community.auth import policy
from community.auth.models import Account
from community.errors import DomainError, Forbidden
from community.households import services as households_services
from community.households.models import Household
from community.points import facts as drop_rows
from community.points import services as points_services
from community.points.models import PointsAccount, PointsRuleSet
from community.points.rules import RuleSet
from community.rows import pk, table_of

SUMMARY_MONTHS = 12
LEDGER_PAGE = 50
MAX_EXPORT_ROWS = 500_000
# The kinds the monthly table adds up; a strike moves no points and is left out.
SUMMARY_KINDS = ("earn", "bonus", "penalty", "reversal", "adjust", "redeem", "refund",
                 "expire")
# What the monthly table calls a refund of penalties (casework: a closed case's penalties
# given back, source "case:<id>…"), as opposed to a cancelled redemption's refund.
PENALTY_REFUND = "penalty_refund"

# The columns of `volunteers.models.Steward` the exports read (points sit below volunteers:
# they never import it), to name a steward's account.
_stewards = Table("steward", MetaData(),
                  Column("id", Integer, primary_key=True),
                  Column("account_id", Integer, nullable=False))


class ExportTooLarge(DomainError):
    """Ledger exports are bounded; a bigger one must be narrowed by its dates."""

    code, status = "export_too_large", 422
    message = _l("More than 500,000 entries match. Choose a shorter date range and export "
                 "again.")


# --- Scope ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """What an overview covers: one community, or every community the reader may read."""

    communities: list[Area]     # the picker's options
    community: Area | None      # None: all communities under `paths`
    paths: list[str]            # the reader's points:read scopes (outermost)
    timezone: str               # local months and days are counted in this zone


def _scope(session: Session, actor: policy.Actor, community_id: int | None) -> Scope:
    paths = policy.scopes(actor, "points:read")
    communities = areas_services.areas_in_scopes(session, paths, level="community")
    if community_id is not None:
        community = areas_services.community_for(session, actor=actor,
                                                 community_id=community_id,
                                                 action="points:read")
        return Scope(communities, community, paths, community.timezone)
    if not communities:
        raise Forbidden(action="points:read")
    if len(communities) == 1:
        return Scope(communities, communities[0], paths, communities[0].timezone)
    # Communities of one city share a zone; the first one's is the scope's.
    return Scope(communities, None, paths, communities[0].timezone)


def _in_scope(scope: Scope) -> Any:
    """The condition on the indexed points_account.community_id for the scope's accounts."""
    if scope.community is not None:
        return col(PointsAccount.community_id) == scope.community.id
    # By area path, not a list of ids: a city admin's scope holds thousands of communities.
    inside = select(col(Area.id)).where(or_(*[col(Area.path).startswith(p) for p in scope.paths]))
    return col(PointsAccount.community_id).in_(inside)


def _month_start(day: date, back: int = 0) -> date:
    """The first day of the month `back` months before `day`'s month."""
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


# --- Overview ------------------------------------------------------------------------------

MONTH_FIGURES = ("issued", "penalties", "penalties_refunded", "corrections", "adjustments",
                 "redeemed", "expired")


@dataclass
class MonthRow:
    """One local month of the scope's entries (households' and stewards', see the module
    docstring); penalties, redeemed and expired are points taken (shown positive),
    penalties refunded are points given back, corrections and adjustments are net (signed).

    A casework refund of penalties is no redemption: it has a column of its own next to
    the penalties; "redeemed" is redemptions net of their cancellations only."""

    month: date
    issued: int = 0              # earn + bonus (stewards' volunteer hours included)
    penalties: int = 0           # -(penalty)
    penalties_refunded: int = 0  # refund of a closed case's penalties ("case:…")
    corrections: int = 0         # reversal, net
    adjustments: int = 0         # adjust, net
    redeemed: int = 0            # -(redeem + refund of a redemption): what redemptions kept
    expired: int = 0             # -(expire)

    @property
    def net(self) -> int:
        """The month's change of the points outstanding."""
        return (self.issued - self.penalties + self.penalties_refunded + self.corrections
                + self.adjustments - self.redeemed - self.expired)

    def add(self, kind: str, amount: int) -> None:
        """Fold one (kind, summed amount) into the row (`PENALTY_REFUND`: a casework
        refund of penalties)."""
        if kind in ("earn", "bonus"):
            self.issued += amount
        elif kind == "penalty":
            self.penalties -= amount
        elif kind == PENALTY_REFUND:
            self.penalties_refunded += amount
        elif kind == "reversal":
            self.corrections += amount
        elif kind == "adjust":
            self.adjustments += amount
        elif kind in ("redeem", "refund"):
            self.redeemed -= amount
        elif kind == "expire":
            self.expired -= amount


@dataclass
class Overview:
    """The overview page: the scope, the liability, and the last months newest first."""

    scope: Scope
    today: date
    outstanding: int
    households_with_points: int
    months: list[MonthRow]
    total: MonthRow             # the sum of `months` (its month is date.min)


def _monthly(session: Session, scope: Scope, first: date, last: date) -> list[MonthRow]:
    """Month rows from `first`'s month to `last`'s month, newest first, summed in SQL."""
    start, end = _month_start(first), _month_start(last, -1)
    # Every entry (`facts.entries`): the drops' own earns are on their rows, not the ledger's.
    e = drop_rows.entries()
    # A casework refund of penalties (source "case:<id>…"; a redemption's refund is
    # "redemption:<id>") is folded apart from the redemptions.
    kind = case((and_(e.c.kind == "refund", e.c.source.like("case:%")),
                 literal(PENALTY_REFUND)), else_=e.c.kind).label("figure")
    rows = session.execute(
        select(e.c.local_date, kind, func.sum(e.c.amount))
        .where(e.c.account_id.in_(select(col(PointsAccount.id)).where(_in_scope(scope))),
               # A plain range on the column (no function of it): the (account_id,
               # local_date) index bounds the scan for each account, the (household,
               # local_date) one for its drops.
               e.c.local_date >= start, e.c.local_date < end,
               e.c.kind.in_(SUMMARY_KINDS))
        .group_by(e.c.local_date, kind))
    by_month: dict[date, MonthRow] = {}
    month = start
    while month < end:
        by_month[month] = MonthRow(month)
        month = _month_start(month, -1)
    for day, kind, total in rows:
        by_month[_month_start(day)].add(kind, int(total or 0))
    return [by_month[m] for m in sorted(by_month, reverse=True)]


def overview(session: Session, *, actor: policy.Actor, community_id: int | None,
             now: datetime | None = None) -> Overview:
    """Points outstanding, households with points and the last 12 local months (points:read).

    Outstanding and the months cover every account of the scope, households' and stewards'
    (the module docstring): the net changes of all months add up to the outstanding points."""
    scope = _scope(session, actor, community_id)
    today = clock.local_today(scope.timezone, now)
    # The liability counts every account (stewards' 积分银行 too); the holders are households.
    held = case((col(PointsAccount.balance) > 0, 1), else_=0)
    outstanding, holders = session.execute(
        select(func.coalesce(func.sum(PointsAccount.balance), 0),
               func.coalesce(func.sum(case((col(PointsAccount.owner_type) == "household", held),
                                           else_=0)), 0))
        .where(_in_scope(scope))).one()
    months = _monthly(session, scope, _month_start(today, SUMMARY_MONTHS - 1), today)
    total = MonthRow(date.min)
    for row in months:
        for name in MONTH_FIGURES:
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return Overview(scope, today, int(outstanding), int(holders), months, total)


# --- One household's ledger ----------------------------------------------------------------

@dataclass(frozen=True)
class LedgerRow:
    """One entry of a household's ledger as the manager reads it."""

    entry: points_services.HistoryRow
    reason: str                 # the plain reason without the signed amount
    rule_version: int | None
    actor_name: str | None
    drop_id: int | None         # the drop that earned it, for a link


@dataclass
class Ledger:
    """A household's balance and one page of its entries, newest first."""

    household: Household
    community: Area
    address: str
    balance: int
    rows: list[LedgerRow]
    next_before: str | None     # keyset cursor of the next (older) page
    can_adjust: bool


def household_for(session: Session, *, actor: policy.Actor, household_id: int,
                  action: str = "points:read") -> tuple[Household, Area]:
    """A household and its community, if the actor may do `action` there (else 404/403)."""
    hh = households_services.get_household(session, household_id)
    area = households_services.household_area(session, hh)
    policy.require(actor, action, area)
    return hh, area


def _drop_id(source: str) -> int | None:
    head, _sep, tail = source.partition(":")
    return int(tail) if head == "drop" and tail.isdigit() else None


def _reason(text: str) -> str:
    """`describe` ends with the signed amount; the tables show the amount in its own column."""
    return text.rsplit(" ", 1)[0]


def ledger(session: Session, *, actor: policy.Actor, household_id: int,
           before: str | None = None, limit: int = LEDGER_PAGE) -> Ledger:
    """A household's balance and entries with their reasons, rule version and actor
    (`before`: the cursor of the previous page, `facts.encode_cursor`)."""
    hh, area = household_for(session, actor=actor, household_id=household_id)
    entries = points_services.history(session, household_id=household_id, limit=limit + 1,
                                      before=before)
    more = len(entries) > limit
    entries = entries[:limit]
    e = drop_rows.entries()
    extra = {i: (v, s, n) for i, v, s, n in session.execute(
        select(e.c.id, drop_rows.rule_version(e), e.c.source, col(Account.display_name))
        .select_from(e).outerjoin(Account, col(Account.id) == e.c.actor_id)
        .where(e.c.account_id.in_(select(col(PointsAccount.id)).where(
                   col(PointsAccount.household_id) == household_id)),
               e.c.id.in_([r.id for r in entries])))} if entries else {}
    rows = [LedgerRow(r, _reason(r.text), extra[r.id][0], extra[r.id][2],
                      _drop_id(extra[r.id][1])) for r in entries]
    last = entries[-1] if more and entries else None
    return Ledger(hh, area, households_services.address_label(hh),
                  points_services.balance(session, household_id), rows,
                  drop_rows.encode_cursor(last.at, last.id) if last else None,
                  policy.allowed(actor, "points:adjust", area))


# --- Rule versions -------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleVersion:
    """One published rule-set version, or the defaults (version 0) before any."""

    version: int
    effective_from: date | None
    rules: RuleSet
    published_by: str | None
    published_at: datetime | None
    in_force: bool


@dataclass
class Rules:
    """A community's rule versions (newest first), the rules in force today, the picker."""

    communities: list[Area]
    community: Area
    today: date
    current: RuleSet
    versions: list[RuleVersion]
    can_manage: bool

    def current_params(self) -> dict[str, Any]:
        """The rules in force as form data (points per category flattened)."""
        params = asdict(self.current)
        params.pop("version")
        return params


def _rule_set(row: PointsRuleSet) -> RuleSet:
    """A stored version as a RuleSet (unknown keys of older params are ignored)."""
    params = {k: v for k, v in (row.params or {}).items() if k in points_services.RULE_FIELDS}
    return RuleSet(version=row.version, **params)


def rules(session: Session, *, actor: policy.Actor, community_id: int | None,
          now: datetime | None = None) -> Rules:
    """A community's current and past rule-set versions (points:read)."""
    community = areas_services.community_for(session, actor=actor, community_id=community_id,
                                             action="points:read")
    today = clock.local_today(community.timezone, now)
    current = points_services.current_rules(session, pk(community),
                                            today)
    rows = session.execute(
        select(PointsRuleSet, col(Account.display_name))
        .outerjoin(Account, col(Account.id) == PointsRuleSet.created_by)
        .where(col(PointsRuleSet.community_id) == community.id)
        .order_by(col(PointsRuleSet.version).desc())).all()
    versions = [RuleVersion(r.version, r.effective_from, _rule_set(r), name, r.created_at,
                            r.version == current.version) for r, name in rows]
    versions.append(RuleVersion(0, None, points_services.DEFAULT_RULES, None, None,
                                current.version == 0))
    return Rules(areas_services.communities_for(session, actor, "points:read"), community,
                 today, current, versions, policy.allowed(actor, "rules:manage", community))


# --- Exports -------------------------------------------------------------------------------

@dataclass(frozen=True)
class EntryRow:
    """One entry as the export writes it (the reason is described when written).

    `id` is the id in `facts.entries`: negative for a drop's own earn and strike, which
    the export never shows (it shows `drop_id`). `reverses_id`: what a reversal (or a
    redemption's refund) undoes, the same way (−2·drop: the drop's own earn). `steward`:
    the steward's name for a steward's account (then `household` is empty)."""

    id: int
    at: datetime
    local_date: date
    household: str
    kind: str
    amount: int
    reason: str
    reversed_kind: str | None
    reversed_reason: str | None
    rule_version: int | None
    actor: str | None
    drop_id: int | None = None
    reverses_id: int | None = None
    steward: str | None = None


@dataclass
class EntryExport:
    """An authorized, bounded export: run `stmt` (in any session) and map rows with `_entry`."""

    community: Area
    day_from: date
    day_to: date
    total: int
    stmt: Any


def _entry(r: Any) -> EntryRow:
    return EntryRow(id=r[0], at=r[1], local_date=r[2],
                    household=(households_services.format_address(r[3], r[4], r[5])
                               if r[3] is not None else ""),
                    kind=r[6], amount=r[7], reason=r[8], reversed_kind=r[9],
                    reversed_reason=r[10], rule_version=r[11], actor=r[12], drop_id=r[13],
                    reverses_id=r[14], steward=(r[16] or "") if r[15] is not None else None)


def _entries_conds(e: Any, community: Area, day_from: date, day_to: date) -> list[Any]:
    return [col(PointsAccount.community_id) == community.id,
            e.c.local_date >= day_from, e.c.local_date <= day_to]


def default_range(today: date) -> tuple[date, date]:
    """The export's default dates: this month so far."""
    return _month_start(today), today


def export_entries(session: Session, *, actor: policy.Actor, community_id: int | None,
                   day_from: date | None, day_to: date | None, fmt: str,
                   limit: int | None = None, ip: str | None = None,
                   now: datetime | None = None) -> EntryExport:
    """Check scope and size (≤ MAX_EXPORT_ROWS) of a ledger export; audit it (points:read).

    The rows are every entry of the community's accounts, households' and stewards' (the
    module docstring), the same rows the summary adds up; the audit entry's `rows` is the
    number of rows the file holds (counted over the same joins and conditions)."""
    community = areas_services.community_for(session, actor=actor, community_id=community_id,
                                             action="points:read")
    first, last = default_range(clock.local_today(community.timezone, now))
    day_from, day_to = day_from or first, day_to or last
    if day_from > day_to:
        day_from, day_to = day_to, day_from
    # Every entry (`facts.entries`): the drops' own earns and strikes are on their rows.
    e = drop_rows.entries()
    conds = _entries_conds(e, community, day_from, day_to)
    limit = MAX_EXPORT_ROWS if limit is None else limit
    # A household's account names its household, a steward's its steward (outer joins:
    # no account's rows are left out, so the count below is the file's).
    holder = table_of(Account).alias("holder")
    accounts = (e.join(PointsAccount, col(PointsAccount.id) == e.c.account_id)
                .outerjoin(Household, col(Household.id) == PointsAccount.household_id)
                .outerjoin(_stewards, _stewards.c.id == PointsAccount.steward_id)
                .outerjoin(holder, holder.c.id == _stewards.c.account_id))
    # Count at most limit + 1 rows: a huge match must not be counted to the end.
    capped = (select(e.c.id).select_from(accounts)
              .where(*conds).limit(limit + 1).subquery())
    total = session.execute(select(func.count()).select_from(capped)).scalar_one()
    if total > limit:
        raise ExportTooLarge(total=total)
    audit.record(session, actor_id=actor.account_id, action="points.exported", area=community,
                 ip=ip, fmt=fmt, rows=total, day_from=day_from.isoformat(),
                 day_to=day_to.isoformat())
    joined, undone_kind, undone_reason = drop_rows.undone(e, accounts)
    stmt = (select(e.c.id, e.c.at, e.c.local_date,
                   col(Household.building), col(Household.unit), col(Household.room),
                   e.c.kind, e.c.amount, e.c.reason, undone_kind, undone_reason,
                   drop_rows.rule_version(e), col(Account.display_name), e.c.drop_id,
                   e.c.reverses_id, col(PointsAccount.steward_id), holder.c.display_name)
            .select_from(joined)
            .outerjoin(Account, col(Account.id) == e.c.actor_id)
            .where(*conds)
            .order_by(e.c.local_date, *drop_rows.written_order(e)))
    return EntryExport(community, day_from, day_to, total, stmt)


def export_rows(session: Session, export: EntryExport, chunk: int = 2000) -> Iterator[EntryRow]:
    """Stream an export's rows in chunks (the caller's session stays open while iterating)."""
    for r in session.execute(export.stmt.execution_options(yield_per=chunk)):
        yield _entry(r)


__all__ = ["EntryExport", "EntryRow", "ExportTooLarge", "Ledger", "LedgerRow", "MonthRow",
           "Overview", "RuleVersion", "Rules", "Scope", "default_range", "export_entries",
           "export_rows", "household_for", "ledger", "overview", "rules"]
