"""The drop row as points read and write it, and every entry of an account as one relation.

Points never import stations (import-linter), yet a drop's facts and its own points live
on the drop row (`drop_record`): this module declares the columns points use as a Core
table of its own (`drops`; tests/points/test_facts.py keeps them equal to the model's).

A scored drop is a drop with a household, not a repeat (`repeat_of` NULL) and not voided
(`voided_at` NULL): every such drop is scored in the transaction that stores it. Its
`points` column is what that first scoring credited (its earn under the day's cap; 0 for a
drop that earned nothing), written once and never changed: the drop is the earn entry, so
the ledger holds no row per drop (a drop and its points cost one row, issue 16). Whatever
happens later is a ledger entry naming the drop (`drop_id`), as for every other entry:
- the earn taken back (a regrade, a void, a late drop filling the day's cap before it) is a
  `reversal` with source "reversal:d<drop id>", `reverses_id` NULL and the drop's day (once,
  by the ledger's unique key);
- an earn deserved again afterwards (regraded back) is an ordinary `earn` entry, reversed
  as ordinary entries are.
A strike is no stored entry at all: it costs nothing by itself (penalties are entries) and
it is the drop's quality, so readers derive it from the incorrect scored drops.

`entries` is the one relation every reader of "an account's entries" uses: the ledger's
rows, plus per drop of a household (not a repeat; a voided one too, see `entries`) its
earn (points ≠ 0) and its strike (incorrect), with ids of their own (negative, so never
a ledger id): −2·drop for the earn, −2·drop − 1 for the strike; a drop-row reversal's
`reverses_id` is its earn's id there, so "what a reversal undoes" joins as for any entry.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Date,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql import FromClause, Subquery

from community.points.models import LedgerEntry, PointsAccount, PointsRuleSet
from community.rows import table_of
from community.types import UTCDateTime
from community.waste import CATEGORY_CODE, QUALITY_CODE

_meta = MetaData()
BigId = BigInteger().with_variant(Integer, "sqlite")

# The columns of `stations.models.Drop` that points read or write (same names and types).
drops = Table(
    "drop_record", _meta,
    Column("id", BigId, primary_key=True),
    Column("community_id", Integer, nullable=False),
    Column("household_id", Integer),
    Column("category", CATEGORY_CODE, nullable=False),
    Column("quality", QUALITY_CODE, nullable=False),
    Column("in_window", Boolean, nullable=False),
    Column("local_date", Date, nullable=False),
    Column("happened_at", UTCDateTime(), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("repeat_of", BigId),
    Column("voided_at", UTCDateTime()),
    Column("points", SmallInteger, nullable=False),
)

def scored() -> list[ColumnElement[bool]]:
    """The conditions of a scored drop (see the module docstring)."""
    d = drops.c
    return [d.household_id.is_not(None), d.repeat_of.is_(None), d.voided_at.is_(None)]


def earn_id(drop_id: int) -> int:
    """The id of a drop's own earn in `entries` (negative: never a ledger id)."""
    return -2 * drop_id


def strike_id(drop_id: int) -> int:
    """The id of a drop's strike in `entries`."""
    return -2 * drop_id - 1


def drop_reversal_source(drop_id: int) -> str:
    """The source of the reversal of a drop's own earn (at most one per drop)."""
    return f"reversal:d{drop_id}"


def own_earn_kept() -> ColumnElement[bool]:
    """A drop row's own earn (`drops.points`) not taken back: no ledger reversal
    "reversal:d<id>" of its community on its day (`drop_reversal_source`). Correlated to
    `drops` in the enclosing statement; the probe names the whole unique key of the ledger
    (community, source, kind, day): one index lookup, on PostgreSQL in the drop's month's
    partition. The same test as "no entry of `entries` reverses its earn id" (−2·drop)."""
    d = drops.c
    return ~_own_reversal(d.community_id, d.id, d.local_date)


def _own_reversal(community_id: Any, drop_id: Any, day: Any) -> Any:
    """EXISTS the ledger reversal of the drop's own earn (see `own_earn_kept`)."""
    e = table_of(LedgerEntry).alias("taken_back")
    return exists().where(
        e.c.community_id == community_id, e.c.kind == "reversal",
        e.c.source == literal("reversal:d", String) + cast(drop_id, String),
        e.c.local_date == day)


def taken_back(e: Subquery) -> Any:
    """Whether an entry of `e` (an `entries()`) was undone by a later reversal, for the
    histories to mark it: a ledger entry that a reversal names (`reverses_id`, unique per
    entry and day; probed by its community), a drop's own earn whose reversal
    "reversal:d<drop>" is in the ledger (`own_earn_kept`'s probe, on the drop's day). A
    strike is never reversed (it costs nothing: a voided drop says so on its card)."""
    by = table_of(LedgerEntry).alias("reversed_by")
    named = exists().where(by.c.community_id == e.c.community_id,
                           by.c.reverses_id == e.c.id)
    own = _own_reversal(e.c.community_id, e.c.drop_id, e.c.local_date)
    return case((e.c.id > 0, named), (e.c.kind == "earn", own), else_=false())


def entries() -> Subquery:
    """Every entry of every account: the ledger's rows and the drops' own earns and strikes
    (columns: id, community_id, account_id, amount, kind, source, rule_version, actor_id,
    reason, at, local_date, reverses_id, drop_id, happened_at; `happened_at` is the drop's
    device time for a drop's rows, NULL for the ledger's).

    A voided drop's rows stay: its earn (its reversal is in the ledger, dated on its day)
    and its strike (0 points, as every strike), so the resident's history still shows the
    drop, marked undone; what counts strikes counts the scored drops (`scored`), never
    these rows.
    Filter by account and day on the result: PostgreSQL pushes the conditions into both
    parts (the drops' by the account's household).
    """
    e = table_of(LedgerEntry)
    a = table_of(PointsAccount)
    d = drops.c
    ledger = select(
        e.c.id, e.c.community_id, e.c.account_id, e.c.amount, e.c.kind, e.c.source,
        e.c.rule_version, e.c.actor_id, e.c.reason, e.c.at, e.c.local_date,
        case((and_(e.c.kind == "reversal", e.c.reverses_id.is_(None),
                   e.c.drop_id.is_not(None)), -2 * e.c.drop_id),
             else_=e.c.reverses_id).label("reverses_id"),
        e.c.drop_id, cast(null(), UTCDateTime()).label("happened_at"))
    joined = drops.join(a, and_(a.c.community_id == d.community_id,
                                a.c.household_id == d.household_id))
    base = [d.household_id.is_not(None), d.repeat_of.is_(None)]
    earn = select(
        (-2 * d.id).label("id"), d.community_id, a.c.id.label("account_id"),
        cast(d.points, Integer).label("amount"), literal("earn", String).label("kind"),
        ("drop:" + cast(d.id, String)).label("source"), null().label("rule_version"),
        null().label("actor_id"), _earn_reason(d.category).label("reason"),
        d.received_at.label("at"), d.local_date,
        null().label("reverses_id"), d.id.label("drop_id"), d.happened_at,
    ).select_from(joined).where(*base, d.points != 0)
    strike = select(
        (-2 * d.id - 1).label("id"), d.community_id, a.c.id.label("account_id"),
        literal(0, Integer).label("amount"), literal("strike", String).label("kind"),
        ("drop:" + cast(d.id, String)).label("source"), null().label("rule_version"),
        null().label("actor_id"), literal("drop:incorrect", String).label("reason"),
        d.received_at.label("at"), d.local_date, null().label("reverses_id"),
        d.id.label("drop_id"), d.happened_at,
    ).select_from(joined).where(*base, d.quality == "incorrect")
    return union_all(ledger, earn, strike).subquery("entries")


def _earn_reason(category: Any) -> Any:
    """The reason of a drop's own earn: "category:<code>", as a ledger earn's."""
    return "category:" + CATEGORY_CODE.sql_case(category)


# --- Reading `entries` ----------------------------------------------------------------------

def undone(e: Subquery, base: FromClause,
           drop: FromClause | None = None) -> tuple[FromClause, Any, Any]:
    """What each reversal among `e` (an `entries()`) undid, to describe it: (`base`, the
    from-clause holding `e`, outer-joined to the undone entry; its kind; its reason).

    A reversal of a ledger entry names it (`reverses_id` > 0). A drop's own earn is no
    ledger row: its reversal's `reverses_id` is the earn's negative id in `e`, and the earn
    is kind "earn", reason "category:<the drop's category>", as `entries` gives it (the
    reversal's `drop_id` is the drop). `drop`: a drop row `base` already joins by
    `e.drop_id` (and community), else one is joined here (only for such reversals)."""
    was = table_of(LedgerEntry).alias("undone")
    joined = base.outerjoin(was, was.c.id == e.c.reverses_id)
    own = e.c.reverses_id < 0
    if drop is None:
        drop = drops.alias("undone_drop")
        joined = joined.outerjoin(drop, and_(own, drop.c.community_id == e.c.community_id,
                                             drop.c.id == e.c.drop_id))
    kind = case((own, literal("earn", String)), else_=was.c.kind)
    reason = case((own, _earn_reason(drop.c.category)), else_=was.c.reason)
    return joined, kind, reason


def rule_version(e: Subquery) -> Any:
    """An entry's rule version. A drop's own rows (negative ids) have no ledger row to
    store it: theirs is the version in force on the drop's day, the one its scoring used
    (the latest `effective_from` on or before the day, then the highest version; 0, the
    defaults, before any), as `services.current_rules` picks it."""
    r = table_of(PointsRuleSet)
    in_force = (select(r.c.version)
                .where(r.c.community_id == e.c.community_id,
                       r.c.effective_from <= e.c.local_date)
                .order_by(r.c.effective_from.desc(), r.c.version.desc())
                .limit(1).scalar_subquery())
    return case((e.c.id < 0, func.coalesce(in_force, 0)), else_=e.c.rule_version)


def written_order(e: Subquery) -> tuple[Any, ...]:
    """The order `e`'s entries were written in, oldest first (`.desc()` each for newest
    first): by `at`; at one moment a drop's own rows (stored with the drop) before the
    ledger's (written by the award that follows), the drops' by drop, its earn before its
    strike (|id|: 2·drop, 2·drop + 1), the ledger's by id. The ledger's ids alone no
    longer give that order: the drops' rows have negative ids of their own."""
    return e.c.at, case((e.c.id > 0, 1), else_=0), func.abs(e.c.id)


def written_before(e: Subquery, at: datetime, entry_id: int) -> Any:
    """The entries written before the entry (`at`, `entry_id`) in `written_order`: the
    keyset condition of the next page of a newest-first list (`encode_cursor`)."""
    same = (e.c.id < entry_id if entry_id > 0
            else and_(e.c.id < 0, e.c.id > entry_id))
    return or_(e.c.at < at, and_(e.c.at == at, same))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode_cursor(at: datetime, entry_id: int) -> str:
    """The keyset cursor after an entry: its sort time (UTC, microseconds) and id (an id
    of `entries`, negative for a drop's own rows; a naive time is UTC)."""
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return f"{(at - _EPOCH) // timedelta(microseconds=1)}.{entry_id}"


# Ids and times of a cursor are 64-bit integers (BIGINT): a value outside that range was
# never written by `encode_cursor` and cannot be bound as a BIGINT parameter.
_INT64_MIN, _INT64_MAX = -(2 ** 63), 2 ** 63 - 1


def decode_cursor(value: str | None) -> tuple[datetime, int] | None:
    """A cursor back into (time, id); anything malformed is the first page: not two
    integers, or either one outside the 64-bit range (a tampered id such as
    -999999999999999999999 would fail as a query parameter), or a time out of range."""
    if not value:
        return None
    try:
        micros_text, id_text = value.split(".", 1)
        micros, entry_id = int(micros_text), int(id_text)
        if not (_INT64_MIN <= micros <= _INT64_MAX and _INT64_MIN <= entry_id <= _INT64_MAX):
            return None
        return _EPOCH + timedelta(microseconds=micros), entry_id
    except (ValueError, OverflowError, OSError):
        return None
