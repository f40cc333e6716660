"""steward redemptions: a redemption is paid by a household or by a steward's own points

Revision ID: e5a91c3f7d24
Revises: d81f4b6a2c90
Create Date: 2026-12-06 11:25:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op

revision: str = 'e5a91c3f7d24'
down_revision: str | None = 'd81f4b6a2c90'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('redemption', schema=None) as batch_op:
        batch_op.add_column(sa.Column('steward_id', sa.Integer(), nullable=True))
        batch_op.alter_column('household_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key('fk_redemption_steward_id_steward', 'steward',
                                    ['steward_id'], ['id'])
        batch_op.create_index('ix_redemption_steward', ['steward_id', 'id'], unique=False)
        batch_op.create_check_constraint('ck_redemption_owner',
                                         '(household_id IS NULL) <> (steward_id IS NULL)')


def downgrade() -> None:
    op.execute("DELETE FROM redemption WHERE household_id IS NULL")
    with op.batch_alter_table('redemption', schema=None) as batch_op:
        batch_op.drop_constraint('ck_redemption_owner', type_='check')
        batch_op.drop_index('ix_redemption_steward')
        batch_op.drop_constraint('fk_redemption_steward_id_steward', type_='foreignkey')
        batch_op.alter_column('household_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('steward_id')
