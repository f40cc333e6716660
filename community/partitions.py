"""Monthly partitions of the two tables that grow with every drop (PostgreSQL only).

`drop_record` and `ledger_entry` are partitioned by RANGE of `local_date`, one partition a
month (`drop_record_202701` holds January 2027), plus one DEFAULT partition each. The
migration that partitions them creates the months from the earliest stored day to a few
months ahead; the scheduler's daily `maintenance.partitions` job (`ensure_months`) keeps
`MONTHS_AHEAD` months ready beyond the current one, so a partition exists long before its
first drop arrives. The 30-day upload window (`stations.services.MAX_AGE`) means a late
upload only ever reaches last month's partition, which the job made a month before.

Why a DEFAULT partition: without it a row of a month nobody created (the job did not run
for three months, a clock set years ahead) fails with "no partition of relation found for
row", and the whole batch of a steward's phone would be refused with a 500. With it the
row is stored, counted and scored like any other; `ensure_months` moves such strays into
their month when it creates that month's partition (PostgreSQL refuses to attach a
partition while the DEFAULT one holds rows of its range, so they are moved first, in the
same transaction), and reports how many it moved: a non-zero figure means the job was late.
The price is that attaching a month scans the DEFAULT partition, which is empty or tiny as
long as the job runs.

A new month is made as a plain table LIKE the parent and then ATTACHed: ATTACH takes only
a SHARE UPDATE EXCLUSIVE lock on the parent (CREATE … PARTITION OF takes ACCESS EXCLUSIVE,
which would stall the scan path behind a long dashboard read). The parent's indexes are
built on the new table when it is attached.

Statistics: autovacuum analyses a month's partition once it has grown a little, never the
partitioned parents, and a new month starts with none (as does every partition of a server
running without autovacuum). The scan path's reads are written so that their index choice
does not depend on them: the repeat check lists its local days rather than a range (see
`stations.services._recent_drops`; BENCHMARKS.md, "The repeat check and prebuilt
statements"), so nothing here analyses.

SQLite keeps the same tables plain: every function here is a no-op there.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import CursorResult, text
from sqlmodel import Session

TABLES = ("drop_record", "ledger_entry")
MONTHS_AHEAD = 3  # months ready beyond the current one


@dataclass(frozen=True)
class Month:
    """One calendar month: [first, after)."""

    first: date

    @property
    def after(self) -> date:
        """The first day of the next month (the partition's exclusive upper bound)."""
        return add_months(self.first, 1)

    def name(self, table: str) -> str:
        """The partition's name, e.g. drop_record_202701."""
        return f"{table}_{self.first:%Y%m}"


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after `day`'s month."""
    n = day.year * 12 + day.month - 1 + months
    return date(n // 12, n % 12 + 1, 1)


def months_between(first: date, last: date) -> list[Month]:
    """Every month from `first`'s to `last`'s, both included."""
    out, m = [], add_months(first, 0)
    while m <= last:
        out.append(Month(m))
        m = add_months(m, 1)
    return out


def is_partitioned(session: Session, table: str) -> bool:
    """Whether `table` is a partitioned table here (never on SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    return bool(session.execute(text(
        "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table p JOIN pg_class c "
        "ON c.oid = p.partrelid WHERE c.relname = :t AND c.relnamespace = "
        "current_schema()::regnamespace)"), {"t": table}).scalar())


def existing(session: Session, table: str) -> set[str]:
    """The names of `table`'s partitions."""
    return set(session.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = CAST(:t AS regclass)"), {"t": table}).scalars())


def partition_of(session: Session, table: str, row_id: int) -> str | None:
    """The partition a row of `table` is stored in (its table's name on SQLite)."""
    if not is_partitioned(session, table):
        return table
    # The table name is one of TABLES, never input.
    return session.execute(text(
        f"SELECT tableoid::regclass::text FROM {table} WHERE id = :i"),  # noqa: S608
        {"i": row_id}).scalar()


@dataclass(frozen=True)
class Ensured:
    """What `ensure_months` did: partitions created, stray rows moved out of DEFAULT."""

    created: int = 0
    moved: int = 0


def ensure_months(session: Session, first: date, last: date) -> Ensured:
    """Create the missing monthly partitions of every partitioned table from `first`'s month
    to `last`'s (flushes, does not commit). Idempotent: an existing month is left alone.

    Rows the DEFAULT partition holds for a month being created are moved into it first.
    """
    created = moved = 0
    for table in TABLES:
        if not is_partitioned(session, table):
            continue
        have = existing(session, table)
        for month in months_between(first, last):
            name = month.name(table)
            if name in have:
                continue
            moved += _create(session, table, month)
            created += 1
    return Ensured(created=created, moved=moved)


def _create(session: Session, table: str, month: Month) -> int:
    """Make `month`'s partition of `table` (LIKE, move strays, ATTACH); rows moved."""
    name, default = month.name(table), f"{table}_default"
    bounds = {"lo": month.first, "hi": month.after}
    # Names are built from TABLES and a date, never from input.
    session.execute(text(
        f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
    moved = cast(CursorResult[Any], session.execute(text(
        f"WITH strays AS (DELETE FROM {default} WHERE local_date >= :lo "  # noqa: S608
        f"AND local_date < :hi RETURNING *) INSERT INTO {name} SELECT * FROM strays"),
        bounds)).rowcount or 0
    # A CHECK matching the bounds spares ATTACH its validation scan of the new table.
    session.execute(text(
        f"ALTER TABLE {name} ADD CONSTRAINT {name}_bounds CHECK "
        f"(local_date >= DATE '{month.first.isoformat()}' "
        f"AND local_date < DATE '{month.after.isoformat()}')"))
    session.execute(text(
        f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM "
        f"('{month.first.isoformat()}') TO ('{month.after.isoformat()}')"))
    session.execute(text(f"ALTER TABLE {name} DROP CONSTRAINT {name}_bounds"))
    return int(moved)


def ensure_ahead(session: Session, today: date) -> Ensured:
    """The job's call: last month (a late upload's), this month and MONTHS_AHEAD more."""
    return ensure_months(session, add_months(today, -1), add_months(today, MONTHS_AHEAD))


def detach_year(session: Session, table: str, year: int) -> list[str]:
    """Detach `table`'s monthly partitions of `year` (a closed year, carried forward by
    `points.jobs.carry_forward`) and return their names; the tables stay, to be dumped
    (`pg_dump -t`) and dropped by the operator. Never the DEFAULT partition. A row that
    arrives for a detached month afterwards lands in DEFAULT (nothing is lost)."""
    if not is_partitioned(session, table):
        return []
    gone = []
    for name in sorted(existing(session, table)):
        if name.removeprefix(f"{table}_")[:4] == f"{year:04d}" and name[-6:].isdigit():
            session.execute(text(f"ALTER TABLE {table} DETACH PARTITION {name}"))
            gone.append(name)
    return gone
