"""drop_record: client ids as uuid where they are UUIDs, category/quality/source as SMALLINT

A drop's client id moves to one of two columns (exactly one set, `ck_drop_client_id`):
`client_uuid` (PostgreSQL `uuid`, 16 bytes; SQLite CHAR(32) hex) for an id in canonical
UUID text (lowercase, hyphenated: what `crypto.randomUUID()` sends), `client_text` (the
old `client_id`, renamed, now nullable) for every other accepted id, kept exactly as sent
(a UUID in capitals stays text). The unique key (community_id, client_id, local_date)
becomes one per column: `uq_drop_record_client_uuid` and the partial unique index
`uq_drop_record_client_text` (only the rows with a text id). Category, quality and source
become SMALLINT codes (`community.stations.models.CATEGORY_CODE`, `QUALITY_CODE`,
`SOURCE_CODE`), each with a CHECK of its numbers. Together ≈ 70 B less per drop on
PostgreSQL (BENCHMARKS.md, "Bytes per drop and monthly partitions").

PostgreSQL: ALTER on the partitioned parent reaches every partition. The UUID ids are moved
by one UPDATE, then the codes' ALTER … TYPE rewrites each partition once, which also
leaves the UPDATE's old row versions behind and rebuilds the indexes. A city's conversion
rewrites every row under an exclusive lock: run it in a maintenance window (or month by
month on detached partitions). SQLite: batch mode, the values converted in between.

The numbers below are copied here, not imported: a migration keeps the codes of its day.

Revision ID: e6d85d974320
Revises: b3d6e1f9a2c4
Create Date: 2026-12-06 19:20:00.000000
"""
from collections.abc import Sequence
from uuid import UUID

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op

revision: str = 'e6d85d974320'
down_revision: str | None = 'b3d6e1f9a2c4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CODES = {
    'category': {'kitchen': 1, 'recyclable': 2, 'hazardous': 3, 'other': 4},
    'quality': {'correct': 1, 'incorrect': 2, 'ungraded': 3},
    'source': {'scan': 1, 'manual': 2, 'device': 3, 'tally': 4},
}
OLD_LENGTH = {'category': 12, 'quality': 10, 'source': 8}
UUID_TEXT = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
CLIENT_CHECK = '(client_uuid IS NULL) <> (client_text IS NULL)'
OLD_QUALITY_CHECK = "quality IN ('correct', 'incorrect', 'ungraded')"


def _pg() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def _check(column: str) -> str:
    return f"{column} IN ({', '.join(str(n) for n in CODES[column].values())})"


def _to_numbers(column: str) -> str:
    whens = ' '.join(f"WHEN '{c}' THEN {n}" for c, n in CODES[column].items())
    return f'CASE {column} {whens} END'


def _to_text(column: str) -> str:
    whens = ' '.join(f"WHEN {n} THEN '{c}'" for c, n in CODES[column].items())
    return f'CASE {column} {whens} END'


def _canonical(text: str) -> UUID | None:
    if len(text) != 36:
        return None
    try:
        got = UUID(text)
    except ValueError:
        return None
    return got if str(got) == text else None


def upgrade() -> None:
    q = op.get_bind().execute
    if _pg():
        q(sa.text('ALTER TABLE drop_record DROP CONSTRAINT uq_drop_record_client'))
        q(sa.text('ALTER TABLE drop_record DROP CONSTRAINT ck_drop_quality'))
        q(sa.text('ALTER TABLE drop_record RENAME COLUMN client_id TO client_text'))
        q(sa.text('ALTER TABLE drop_record ALTER COLUMN client_text DROP NOT NULL'))
        q(sa.text('ALTER TABLE drop_record ADD COLUMN client_uuid uuid'))
        q(sa.text('UPDATE drop_record SET client_uuid = CAST(client_text AS uuid), '
                  'client_text = NULL WHERE client_text ~ :pattern'), {'pattern': UUID_TEXT})
        q(sa.text('ALTER TABLE drop_record ' + ', '.join(
            f'ALTER COLUMN {c} TYPE smallint USING {_to_numbers(c)}' for c in CODES)))
        for column in CODES:
            q(sa.text(f'ALTER TABLE drop_record ADD CONSTRAINT ck_drop_{column} '
                      f'CHECK ({_check(column)})'))
        q(sa.text(f'ALTER TABLE drop_record ADD CONSTRAINT ck_drop_client_id '
                  f'CHECK ({CLIENT_CHECK})'))
        q(sa.text('ALTER TABLE drop_record ADD CONSTRAINT uq_drop_record_client_uuid '
                  'UNIQUE (community_id, client_uuid, local_date)'))
        q(sa.text('CREATE UNIQUE INDEX uq_drop_record_client_text ON drop_record '
                  '(community_id, client_text, local_date) WHERE client_text IS NOT NULL'))
        q(sa.text('ANALYZE drop_record'))
        return
    with op.batch_alter_table('drop_record') as batch_op:
        batch_op.drop_constraint('uq_drop_record_client', type_='unique')
        batch_op.drop_constraint('ck_drop_quality', type_='check')
        batch_op.alter_column('client_id', new_column_name='client_text', nullable=True,
                              existing_type=sa.String(length=64))
        batch_op.add_column(sa.Column('client_uuid', sa.Uuid(), nullable=True))
    # The values, between the two rebuilds (SQLite stores a UUID as 32 hex digits).
    moves = [{'i': i, 'u': got.hex} for i, text in q(sa.text(
        'SELECT id, client_text FROM drop_record')).all() if (got := _canonical(text))]
    if moves:
        q(sa.text('UPDATE drop_record SET client_uuid = :u, client_text = NULL WHERE id = :i'),
          moves)
    for column in CODES:
        q(sa.text(f'UPDATE drop_record SET {column} = {_to_numbers(column)}'))  # noqa: S608
    with op.batch_alter_table('drop_record') as batch_op:
        for column in CODES:
            batch_op.alter_column(column, type_=sa.SmallInteger(),
                                  existing_type=sa.String(length=OLD_LENGTH[column]),
                                  existing_nullable=False)
            batch_op.create_check_constraint(f'ck_drop_{column}', _check(column))
        batch_op.create_check_constraint('ck_drop_client_id', CLIENT_CHECK)
        batch_op.create_unique_constraint('uq_drop_record_client_uuid',
                                          ['community_id', 'client_uuid', 'local_date'])
    op.create_index('uq_drop_record_client_text', 'drop_record',
                    ['community_id', 'client_text', 'local_date'], unique=True,
                    sqlite_where=sa.text('client_text IS NOT NULL'))


def downgrade() -> None:
    q = op.get_bind().execute
    if _pg():
        q(sa.text('DROP INDEX uq_drop_record_client_text'))
        for name in ('uq_drop_record_client_uuid', 'ck_drop_client_id',
                     *(f'ck_drop_{c}' for c in CODES)):
            q(sa.text(f'ALTER TABLE drop_record DROP CONSTRAINT {name}'))
        q(sa.text('UPDATE drop_record SET client_text = CAST(client_uuid AS text) '
                  'WHERE client_uuid IS NOT NULL'))
        q(sa.text('ALTER TABLE drop_record ' + ', '.join(
            f'ALTER COLUMN {c} TYPE varchar({OLD_LENGTH[c]}) USING {_to_text(c)}'
            for c in CODES)))
        q(sa.text('ALTER TABLE drop_record DROP COLUMN client_uuid'))
        q(sa.text('ALTER TABLE drop_record RENAME COLUMN client_text TO client_id'))
        q(sa.text('ALTER TABLE drop_record ALTER COLUMN client_id SET NOT NULL'))
        q(sa.text(f'ALTER TABLE drop_record ADD CONSTRAINT ck_drop_quality '
                  f'CHECK ({OLD_QUALITY_CHECK})'))
        q(sa.text('ALTER TABLE drop_record ADD CONSTRAINT uq_drop_record_client '
                  'UNIQUE (community_id, client_id, local_date)'))
        return
    op.drop_index('uq_drop_record_client_text', 'drop_record')
    with op.batch_alter_table('drop_record') as batch_op:
        batch_op.drop_constraint('uq_drop_record_client_uuid', type_='unique')
        batch_op.drop_constraint('ck_drop_client_id', type_='check')
        for column in CODES:
            batch_op.drop_constraint(f'ck_drop_{column}', type_='check')
            batch_op.alter_column(column, type_=sa.String(length=OLD_LENGTH[column]),
                                  existing_type=sa.SmallInteger(), existing_nullable=False)
    for column in CODES:
        q(sa.text(f'UPDATE drop_record SET {column} = {_to_text(column)}'))  # noqa: S608
    moves = [{'i': i, 't': str(UUID(hex=str(u)))} for i, u in q(sa.text(
        'SELECT id, client_uuid FROM drop_record WHERE client_uuid IS NOT NULL')).all()]
    if moves:
        q(sa.text('UPDATE drop_record SET client_text = :t WHERE id = :i'), moves)
    with op.batch_alter_table('drop_record') as batch_op:
        batch_op.drop_column('client_uuid')
        batch_op.alter_column('client_text', new_column_name='client_id', nullable=False,
                              existing_type=sa.String(length=64))
        batch_op.create_check_constraint('ck_drop_quality', OLD_QUALITY_CHECK)
        batch_op.create_unique_constraint('uq_drop_record_client',
                                          ['community_id', 'client_id', 'local_date'])
