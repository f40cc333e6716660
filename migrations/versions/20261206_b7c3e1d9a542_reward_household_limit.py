"""reward household limit: at most N redemptions per household per month, quarter or year

Revision ID: b7c3e1d9a542
Revises: 5a7d2c91e0b4
Create Date: 2026-12-06 13:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op

revision: str = 'b7c3e1d9a542'
down_revision: str | None = '5a7d2c91e0b4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('reward_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('household_limit', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('limit_period', sa.String(length=8), nullable=True))
        batch_op.create_check_constraint(
            'ck_reward_item_household_limit',
            "(household_limit IS NULL AND limit_period IS NULL) OR "
            "(household_limit >= 1 AND limit_period IN ('month', 'quarter', 'year'))")


def downgrade() -> None:
    with op.batch_alter_table('reward_item', schema=None) as batch_op:
        batch_op.drop_constraint('ck_reward_item_household_limit', type_='check')
        batch_op.drop_column('limit_period')
        batch_op.drop_column('household_limit')
