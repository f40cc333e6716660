"""drop_record and ledger_entry partitioned by month of local_date (issue 16, part 3)

The unique keys take the partition column, on both backends (one ON CONFLICT target serves
both): drop_record (community_id, client_id, local_date): a replay carries the same device
time, so the same local day; ledger_entry (community_id, source, kind, local_date): an
entry's local day is a function of its source (a drop's day, the bonus day, a reversal
takes the reversed entry's day), and the sources whose day is the day of the run
(redemptions, refunds, adjustments, hours, case refunds, expiry) are written under the
lock of their account or their own row, which the services read before they write; and
(community_id, reverses_id, local_date).

PostgreSQL: each table is rebuilt as a partitioned table (RANGE on local_date): rename the
old one, create the new LIKE it, create the monthly partitions from the earliest stored
month (or last month) to three months ahead plus a DEFAULT partition
(`community.partitions` says why), copy the rows, drop the old table, then the primary key
(id, local_date), the unique keys, the other indexes and the foreign keys the table held.
The id sequence moves to the new table, so ids continue.

Foreign keys that pointed AT these tables are dropped on PostgreSQL, because PostgreSQL
needs a unique key on the referenced columns alone and a partitioned table's unique keys
must contain local_date: drop_regrade.drop_id, drop_appeal.drop_id and
ledger_entry.reverses_id. Integrity holds anyway: drops are never deleted (a steward's undo
keeps the row, `voided_at`); a regrade, an appeal and a reversal are written by the
service that has just read (and locked) the row they name, in the same transaction, and
ledger entries are append-only. SQLite keeps the tables plain and those keys.

A real city's conversion copies every row once under an exclusive lock: run it in a
maintenance window (or, at billions of rows, create the partitioned tables empty and
attach the old table's months one by one).

Revision ID: b7d3f19a0c62
Revises: e8b2c4a61f07
Create Date: 2026-12-06 14:00:00.000000
"""
from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = 'b7d3f19a0c62'
down_revision: str | None = 'e8b2c4a61f07'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AHEAD = 3  # months made ahead of the current one (then the scheduler keeps it up)
OLD_UNIQUES = {
    'drop_record': [('uq_drop_record_client', ('community_id', 'client_id'))],
    'ledger_entry': [('uq_ledger_entry_source_kind', ('community_id', 'source', 'kind')),
                     ('uq_ledger_entry_reverses', ('community_id', 'reverses_id'))],
}
NEW_UNIQUES = {t: [(n, (*cols, 'local_date')) for n, cols in u] for t, u in OLD_UNIQUES.items()}
# The foreign keys PostgreSQL cannot keep (referencing a partitioned table), for downgrade.
REFERENCES = [
    ('drop_regrade', 'drop_regrade_drop_id_fkey', 'drop_id', 'drop_record'),
    ('drop_appeal', 'drop_appeal_drop_id_fkey', 'drop_id', 'drop_record'),
    ('ledger_entry', 'ledger_entry_reverses_id_fkey', 'reverses_id', 'ledger_entry'),
]


def _pg() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def _month(day: date, add: int) -> date:
    n = day.year * 12 + day.month - 1 + add
    return date(n // 12, n % 12 + 1, 1)


def _rebuild(table: str, uniques: list[tuple[str, tuple[str, ...]]], *,
             partitioned: bool) -> None:
    """Rebuild `table` (PostgreSQL) as a partitioned or a plain table with the same columns,
    rows, indexes and outgoing foreign keys; `uniques` are its unique keys."""
    conn = op.get_bind()
    q = conn.execute
    for ref_table, name, _c, target in REFERENCES:
        if target == table:
            q(sa.text(f'ALTER TABLE {ref_table} DROP CONSTRAINT IF EXISTS {name}'))
    fks = q(sa.text(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = CAST(:t AS regclass) AND contype = 'f'"), {'t': table}).all()
    # The plain indexes (not those behind the primary key or a unique constraint).
    indexes = q(sa.text(
        "SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x WHERE x.indrelid = "
        "CAST(:t AS regclass) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conindid = x.indexrelid) AND x.indexrelid NOT IN "
        "(SELECT i.inhrelid FROM pg_inherits i)"), {'t': table}).scalars().all()
    seq = q(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {'t': table}).scalar()
    q(sa.text(f'ALTER SEQUENCE {seq} OWNED BY NONE'))
    q(sa.text(f'ALTER TABLE {table} RENAME TO {table}_old'))
    by = ' PARTITION BY RANGE (local_date)' if partitioned else ''
    q(sa.text(f'CREATE TABLE {table} (LIKE {table}_old INCLUDING DEFAULTS '
              f'INCLUDING CONSTRAINTS){by}'))
    if partitioned:
        lo = q(sa.text(f'SELECT min(local_date) FROM {table}_old')).scalar()  # noqa: S608
        today = datetime.now(UTC).date()  # a month early covers any zone's today
        m, last = _month(min(lo or today, _month(today, -1)), 0), _month(today, AHEAD)
        while m <= last:
            q(sa.text(f"CREATE TABLE {table}_{m:%Y%m} PARTITION OF {table} FOR VALUES FROM "
                      f"('{m.isoformat()}') TO ('{_month(m, 1).isoformat()}')"))
            m = _month(m, 1)
        q(sa.text(f'CREATE TABLE {table}_default PARTITION OF {table} DEFAULT'))
    q(sa.text(f'INSERT INTO {table} SELECT * FROM {table}_old'))  # noqa: S608
    q(sa.text(f'DROP TABLE {table}_old CASCADE'))
    q(sa.text(f'ALTER SEQUENCE {seq} OWNED BY {table}.id'))
    key = 'id, local_date' if partitioned else 'id'
    q(sa.text(f'ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY ({key})'))
    for name, cols in uniques:
        q(sa.text(f'ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE ({", ".join(cols)})'))
    for ddl in indexes:
        q(sa.text(ddl))
    for name, ddl in fks:
        q(sa.text(f'ALTER TABLE {table} ADD CONSTRAINT {name} {ddl}'))
    q(sa.text(f'ANALYZE {table}'))


def upgrade() -> None:
    if not _pg():
        for table, uniques in NEW_UNIQUES.items():
            with op.batch_alter_table(table) as batch_op:
                for name, _cols in OLD_UNIQUES[table]:
                    batch_op.drop_constraint(name, type_='unique')
                for name, cols in uniques:
                    batch_op.create_unique_constraint(name, list(cols))
        return
    for table, uniques in NEW_UNIQUES.items():
        _rebuild(table, uniques, partitioned=True)


def downgrade() -> None:
    if not _pg():
        for table, uniques in OLD_UNIQUES.items():
            with op.batch_alter_table(table) as batch_op:
                for name, _cols in NEW_UNIQUES[table]:
                    batch_op.drop_constraint(name, type_='unique')
                for name, cols in uniques:
                    batch_op.create_unique_constraint(name, list(cols))
        return
    for table, uniques in OLD_UNIQUES.items():
        _rebuild(table, uniques, partitioned=False)
    for ref_table, name, column, target in REFERENCES:
        op.create_foreign_key(name, ref_table, target, [column], ['id'])
