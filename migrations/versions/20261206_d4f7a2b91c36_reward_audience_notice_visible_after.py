"""reward audience (everyone / households / stewards) and held-back notifications

`reward_item.audience`: whose points may buy an item (existing items: everyone, as before).
`notification.visible_after`: a message held back until then (an incorrect verdict waits out
the steward's 5-minute undo window); existing messages are visible (NULL).

Revision ID: d4f7a2b91c36
Revises: b7c3e1d9a542
Create Date: 2026-12-06 13:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op

revision: str = 'd4f7a2b91c36'
down_revision: str | None = 'b7c3e1d9a542'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('reward_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=10),
                                      server_default='everyone', nullable=False))
        batch_op.create_check_constraint(
            'ck_reward_item_audience', "audience IN ('everyone', 'households', 'stewards')")
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visible_after', sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('visible_after')
    with op.batch_alter_table('reward_item', schema=None) as batch_op:
        batch_op.drop_constraint('ck_reward_item_audience', type_='check')
        batch_op.drop_column('audience')
