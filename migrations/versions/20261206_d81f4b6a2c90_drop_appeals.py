"""drop appeals: a household's appeal (申诉) of an incorrect verdict and its decision

One appeal per drop (UNIQUE drop_id); `status` open → upheld or regraded, a decided appeal
carries its decider, moment and reason (CHECK), a regrade its `drop_regrade` row.

Revision ID: d81f4b6a2c90
Revises: 5b8e3c1d9a27
Create Date: 2026-12-06 11:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op

revision: str = 'd81f4b6a2c90'
down_revision: str | None = '5b8e3c1d9a27'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('drop_appeal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('drop_id', BigId, nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('filed_by', sa.Integer(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decision_reason', sqlmodel.sql.sqltypes.AutoString(length=200),
              nullable=False),
    sa.Column('regrade_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'upheld', 'regraded')",
                       name='ck_drop_appeal_status'),
    sa.CheckConstraint("status = 'open' OR (decided_at IS NOT NULL AND decision_reason <> '')",
                       name='ck_drop_appeal_decided'),
    sa.ForeignKeyConstraint(['community_id'], ['area.id'], ),
    sa.ForeignKeyConstraint(['decided_by'], ['account.id'], ),
    sa.ForeignKeyConstraint(['drop_id'], ['drop_record.id'], ),
    sa.ForeignKeyConstraint(['filed_by'], ['account.id'], ),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], ),
    sa.ForeignKeyConstraint(['regrade_id'], ['drop_regrade.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('drop_id')
    )
    op.create_index('ix_drop_appeal_community_status', 'drop_appeal',
                    ['community_id', 'status', 'filed_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_drop_appeal_community_status', table_name='drop_appeal')
    op.drop_table('drop_appeal')
