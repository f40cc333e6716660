"""Account: a session generation (bumped to end every session) and a forced password change.

Revision ID: 802c7f505da7
Revises: 78d67c9fc013
Create Date: 2026-12-06 07:48:43.355731
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '802c7f505da7'
down_revision: str | None = '78d67c9fc013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('password_must_change', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_column('password_must_change')
        batch_op.drop_column('session_generation')
