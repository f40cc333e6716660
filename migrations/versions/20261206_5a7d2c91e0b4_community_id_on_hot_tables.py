"""community_id on every hot table and in every unique key of them (issue 16, part 5)

ledger_entry, points_scored_drop, card, drop_regrade and household_member get the
community_id of the row they belong to (the account's, the household's, the drop's),
backfilled, then NOT NULL with a foreign key to area. The unique keys include it:
drop_record (community_id, client_id), ledger_entry (community_id, source, kind) and
(community_id, reverses_id), points_account (community_id, household_id) and
(community_id, steward_id), card (community_id, token) and (community_id, short_code),
household_member (community_id, household_id, account_id) and its one-head index;
points_scored_drop's key becomes (community_id, drop_id). SQLite through batch mode (the
unnamed unique constraints of the first migrations are named by a naming convention to be
dropped), PostgreSQL by ALTER TABLE and UPDATE … FROM.

Revision ID: 5a7d2c91e0b4
Revises: e5a91c3f7d24
Create Date: 2026-12-06 10:45:00.000000
"""
import warnings
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op

revision: str = '5a7d2c91e0b4'
down_revision: str | None = 'e5a91c3f7d24'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (the table its community comes from, the join column here, that table's key)
BACKFILL = {
    'ledger_entry': ('points_account', 'account_id', 'id'),
    'points_scored_drop': ('points_account', 'account_id', 'id'),
    'card': ('household', 'household_id', 'id'),
    'household_member': ('household', 'household_id', 'id'),
    'drop_regrade': ('drop_record', 'drop_id', 'id'),
}
# Unnamed UNIQUE constraints of the first migrations: their PostgreSQL names, and the names
# SQLite's reflection gives them under OLD_NAMES.
OLD_NAMES = {"uq": "old_%(table_name)s_%(column_0_name)s"}


def _pg() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def _old_unique(table: str, column: str) -> str:
    return f'{table}_{column}_key' if _pg() else f'old_{table}_{column}'


def upgrade() -> None:
    for table in BACKFILL:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('community_id', sa.Integer(), nullable=True))
    conn = op.get_bind()
    for table, (source, here, key) in BACKFILL.items():
        if _pg():
            conn.execute(sa.text(
                f'UPDATE {table} SET community_id = s.community_id FROM {source} s '  # noqa: S608
                f'WHERE s.{key} = {table}.{here}'))
        else:
            conn.execute(sa.text(
                f'UPDATE {table} SET community_id = (SELECT s.community_id FROM {source} s '  # noqa: S608
                f'WHERE s.{key} = {table}.{here})'))
    for table in BACKFILL:
        with op.batch_alter_table(table, naming_convention=OLD_NAMES) as batch_op:
            batch_op.alter_column('community_id', existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(f'fk_{table}_community_id', 'area',
                                        ['community_id'], ['id'])

    with op.batch_alter_table('drop_record', naming_convention=OLD_NAMES) as batch_op:
        batch_op.drop_constraint(_old_unique('drop_record', 'client_id'), type_='unique')
        batch_op.create_unique_constraint('uq_drop_record_client', ['community_id', 'client_id'])

    with op.batch_alter_table('ledger_entry') as batch_op:
        batch_op.drop_constraint('uq_ledger_entry_source_kind', type_='unique')
        batch_op.drop_constraint('uq_ledger_entry_reverses', type_='unique')
        batch_op.create_unique_constraint('uq_ledger_entry_source_kind',
                                          ['community_id', 'source', 'kind'])
        batch_op.create_unique_constraint('uq_ledger_entry_reverses',
                                          ['community_id', 'reverses_id'])

    with op.batch_alter_table('points_account', naming_convention=OLD_NAMES) as batch_op:
        batch_op.drop_constraint(_old_unique('points_account', 'household_id'), type_='unique')
        batch_op.drop_constraint('uq_points_account_steward_id', type_='unique')
        batch_op.create_unique_constraint('uq_points_account_household',
                                          ['community_id', 'household_id'])
        batch_op.create_unique_constraint('uq_points_account_steward',
                                          ['community_id', 'steward_id'])

    with op.batch_alter_table('card', naming_convention=OLD_NAMES) as batch_op:
        batch_op.drop_constraint(_old_unique('card', 'token'), type_='unique')
        batch_op.drop_constraint(_old_unique('card', 'short_code'), type_='unique')
        batch_op.create_unique_constraint('uq_card_token', ['community_id', 'token'])
        batch_op.create_unique_constraint('uq_card_short_code', ['community_id', 'short_code'])

    with op.batch_alter_table('household_member') as batch_op:
        batch_op.drop_constraint('uq_household_member', type_='unique')
        batch_op.create_unique_constraint('uq_household_member',
                                          ['community_id', 'household_id', 'account_id'])
        batch_op.drop_index('uq_household_member_head',
                            sqlite_where=sa.text("role = 'head' AND status = 'approved'"),
                            postgresql_where=sa.text("role = 'head' AND status = 'approved'"))
        batch_op.create_index('uq_household_member_head', ['community_id', 'household_id'],
                              unique=True,
                              sqlite_where=sa.text("role = 'head' AND status = 'approved'"),
                              postgresql_where=sa.text("role = 'head' AND status = 'approved'"))

    _primary_key('points_scored_drop', ['community_id', 'drop_id'])


def _primary_key(table: str, columns: list[str]) -> None:
    """Replace a table's primary key. SQLite's batch copy warns that the reflected column
    flags (the old key) differ from the new constraint, and takes the constraint: the
    result is the key asked for, so the warning says nothing."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*specifies columns .* as primary_key=True",
                                category=sa.exc.SAWarning)
        with op.batch_alter_table(table) as batch_op:
            if _pg():
                batch_op.drop_constraint(f'{table}_pkey', type_='primary')
            batch_op.create_primary_key(f'{table}_pkey', columns)


def downgrade() -> None:
    _primary_key('points_scored_drop', ['drop_id'])

    with op.batch_alter_table('household_member') as batch_op:
        batch_op.drop_index('uq_household_member_head',
                            sqlite_where=sa.text("role = 'head' AND status = 'approved'"),
                            postgresql_where=sa.text("role = 'head' AND status = 'approved'"))
        batch_op.create_index('uq_household_member_head', ['household_id'], unique=True,
                              sqlite_where=sa.text("role = 'head' AND status = 'approved'"),
                              postgresql_where=sa.text("role = 'head' AND status = 'approved'"))
        batch_op.drop_constraint('uq_household_member', type_='unique')
        batch_op.create_unique_constraint('uq_household_member', ['household_id', 'account_id'])

    with op.batch_alter_table('card') as batch_op:
        batch_op.drop_constraint('uq_card_token', type_='unique')
        batch_op.drop_constraint('uq_card_short_code', type_='unique')
        batch_op.create_unique_constraint(_old_unique('card', 'token'), ['token'])
        batch_op.create_unique_constraint(_old_unique('card', 'short_code'), ['short_code'])

    with op.batch_alter_table('points_account') as batch_op:
        batch_op.drop_constraint('uq_points_account_household', type_='unique')
        batch_op.drop_constraint('uq_points_account_steward', type_='unique')
        batch_op.create_unique_constraint(_old_unique('points_account', 'household_id'),
                                          ['household_id'])
        batch_op.create_unique_constraint('uq_points_account_steward_id', ['steward_id'])

    with op.batch_alter_table('ledger_entry') as batch_op:
        batch_op.drop_constraint('uq_ledger_entry_source_kind', type_='unique')
        batch_op.drop_constraint('uq_ledger_entry_reverses', type_='unique')
        batch_op.create_unique_constraint('uq_ledger_entry_source_kind', ['source', 'kind'])
        batch_op.create_unique_constraint('uq_ledger_entry_reverses', ['reverses_id'])

    with op.batch_alter_table('drop_record') as batch_op:
        batch_op.drop_constraint('uq_drop_record_client', type_='unique')
        batch_op.create_unique_constraint(_old_unique('drop_record', 'client_id'), ['client_id'])

    for table in BACKFILL:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f'fk_{table}_community_id', type_='foreignkey')
            batch_op.drop_column('community_id')
