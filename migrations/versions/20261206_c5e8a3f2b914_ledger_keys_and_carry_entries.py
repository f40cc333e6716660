"""ledger_key (run-day idempotency keys) and the 'carry' ledger kind (issue 16, part 3)

`ledger_key` (community_id, key) holds the keys of ledger writes dated by the day they run
(the yearly expiry per account and lot year, a closed year's carry-forward per account,
a community's closed years): the ledger's unique keys hold `local_date`, so they cannot
make such a write unique across days. `ck_ledger_entry_kind` admits 'carry' (on a
partitioned PostgreSQL table the constraint is replaced on the parent, which propagates to
every partition).

Revision ID: c5e8a3f2b914
Revises: b7d3f19a0c62
Create Date: 2026-12-06 14:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op

revision: str = 'c5e8a3f2b914'
down_revision: str | None = 'b7d3f19a0c62'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("'earn', 'bonus', 'penalty', 'strike', 'redeem', 'refund', 'reversal', 'expire', "
         "'adjust'")


def _kinds(kinds: str) -> None:
    with op.batch_alter_table('ledger_entry') as batch_op:
        batch_op.drop_constraint('ck_ledger_entry_kind', type_='check')
        batch_op.create_check_constraint('ck_ledger_entry_kind', f'kind IN ({kinds})')


def upgrade() -> None:
    op.create_table(
        'ledger_key',
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['community_id'], ['area.id']),
        sa.PrimaryKeyConstraint('community_id', 'key'),
    )
    _kinds(f"{KINDS}, 'carry'")


def downgrade() -> None:
    op.execute("DELETE FROM ledger_entry WHERE kind = 'carry'")
    _kinds(KINDS)
    op.drop_table('ledger_key')
