"""inbox channels: a person's SMS opt-in and the SMS outbox

`notice_setting` holds whether an account wants text messages besides the in-app inbox (no
row: the inbox only); `sms_outbox` queues one text per notification for the `inbox.sms`
job, which sends it after the request committed and outside quiet hours. The `notification`
table itself is unchanged (its model moved from `community.volunteers` to `community.inbox`).

Revision ID: c3e9a1f07b42
Revises: a7c4e2d91b35
Create Date: 2026-12-06 11:05:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op

revision: str = 'c3e9a1f07b42'
down_revision: str | None = 'a7c4e2d91b35'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('notice_setting',
    sa.Column('account_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('sms', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint('account_id')
    )
    op.create_table('sms_outbox',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('notification_id', BigId, nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('send_after', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed', 'skipped')",
                       name='ck_sms_outbox_status'),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['notification_id'], ['notification.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('notification_id')
    )
    op.create_index('ix_sms_outbox_pending', 'sms_outbox', ['status', 'send_after'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_sms_outbox_pending', table_name='sms_outbox')
    op.drop_table('sms_outbox')
    op.drop_table('notice_setting')
