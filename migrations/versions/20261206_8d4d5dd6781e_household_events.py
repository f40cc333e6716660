"""household events: the status and member history of each household

Every existing household gets an `active` event at its `created_at` (its current member
count: no earlier count is known), and a moved-out one also a `moved_out` event at its
`updated_at` (the last change known; the move-out moment itself was not kept).

Revision ID: 8d4d5dd6781e
Revises: 38f22b1b33a9
Create Date: 2026-12-06 05:34:18.146935
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op


revision: str = '8d4d5dd6781e'
down_revision: str | None = '38f22b1b33a9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('household_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('effective_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('active', 'moved_out')", name='ck_household_event_status'),
    sa.CheckConstraint('members >= 1 AND members <= 30', name='ck_household_event_members'),
    sa.ForeignKeyConstraint(['community_id'], ['area.id'], ),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('household_event', schema=None) as batch_op:
        batch_op.create_index('ix_household_event_latest', ['community_id', 'household_id', 'effective_at'], unique=False)

    # The first events: moved in at creation; moved out at the last update (in this order, so
    # that a household created and moved out at the same moment ends moved out).
    op.execute(
        "INSERT INTO household_event (household_id, community_id, effective_at, status, members,"
        " recorded_at) SELECT id, community_id, created_at, 'active', members, created_at"
        " FROM household ORDER BY id")
    op.execute(
        "INSERT INTO household_event (household_id, community_id, effective_at, status, members,"
        " recorded_at) SELECT id, community_id, updated_at, 'moved_out', members, updated_at"
        " FROM household WHERE status = 'moved_out' ORDER BY id")


def downgrade() -> None:
    with op.batch_alter_table('household_event', schema=None) as batch_op:
        batch_op.drop_index('ix_household_event_latest')

    op.drop_table('household_event')
