"""sms codes and send counters: phone sign-in by SMS code

`sms_code` keeps one row per code sent (only its HMAC), the newest per phone being the live
one; `sms_send_count` counts the codes sent per phone and per client address per local day
(one atomic upsert per send, so the caps hold across workers).

Revision ID: 78d67c9fc013
Revises: 8d4d5dd6781e
Create Date: 2026-12-06 07:52:51.845857
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op


revision: str = '78d67c9fc013'
down_revision: str | None = '8d4d5dd6781e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sms_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ip', sqlmodel.sql.sqltypes.AutoString(length=45), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_sms_code_phone_id', 'sms_code', ['phone', 'id'], unique=False)
    op.create_table('sms_send_count',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('scope', 'subject', 'day', name='uq_sms_send_count')
    )


def downgrade() -> None:
    op.drop_table('sms_send_count')
    op.drop_index('ix_sms_code_phone_id', table_name='sms_code')
    op.drop_table('sms_code')
