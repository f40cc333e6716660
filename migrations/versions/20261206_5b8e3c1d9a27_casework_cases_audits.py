"""casework: versioned case rules, mis-drop cases, verdict audits, the evaluation cursor

Revision ID: 5b8e3c1d9a27
Revises: c3e9a1f07b42
Create Date: 2026-12-06 11:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op

import community.types

revision: str = '5b8e3c1d9a27'
down_revision: str | None = 'c3e9a1f07b42'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'case_rule_set',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('effective_from', sa.Date(), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', community.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['community_id'], ['area.id']),
        sa.ForeignKeyConstraint(['created_by'], ['account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('community_id', 'version', name='uq_case_rule_set_version'),
    )
    op.create_table(
        'misdrop_case',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('household_id', sa.Integer(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('trigger_drop_id', BigId, nullable=False),
        sa.Column('trigger_at', community.types.UTCDateTime(), nullable=False),
        sa.Column('window_start', sa.Date(), nullable=False),
        sa.Column('strikes', sa.Integer(), nullable=False),
        sa.Column('rule_version', sa.Integer(), nullable=False),
        sa.Column('close_after', sa.Integer(), nullable=False),
        sa.Column('refund', sa.Boolean(), nullable=False),
        sa.Column('opened_at', community.types.UTCDateTime(), nullable=False),
        sa.Column('opened_on', sa.Date(), nullable=False),
        sa.Column('task', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('assignee_id', sa.Integer(), nullable=True),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('done_at', community.types.UTCDateTime(), nullable=True),
        sa.Column('done_by', sa.Integer(), nullable=True),
        sa.Column('done_note', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('escalated_at', community.types.UTCDateTime(), nullable=True),
        sa.Column('close_drop_id', BigId, nullable=True),
        sa.Column('close_at', community.types.UTCDateTime(), nullable=True),
        sa.Column('closed_at', community.types.UTCDateTime(), nullable=True),
        sa.Column('refunded', sa.Integer(), nullable=False),
        sa.Column('close_note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.CheckConstraint("status IN ('open', 'closed', 'withdrawn')",
                           name='ck_misdrop_case_status'),
        sa.CheckConstraint("task IN ('bin_side', 'home_visit', 'building_talk')",
                           name='ck_misdrop_case_task'),
        sa.ForeignKeyConstraint(['community_id'], ['area.id']),
        sa.ForeignKeyConstraint(['household_id'], ['household.id']),
        sa.ForeignKeyConstraint(['assignee_id'], ['account.id']),
        sa.ForeignKeyConstraint(['done_by'], ['account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('community_id', 'trigger_drop_id', name='uq_misdrop_case_trigger'),
    )
    op.create_index('uq_misdrop_case_open', 'misdrop_case', ['community_id', 'household_id'],
                    unique=True, postgresql_where=sa.text("status = 'open'"),
                    sqlite_where=sa.text("status = 'open'"))
    op.create_index('ix_misdrop_case_household', 'misdrop_case', ['household_id', 'opened_on'])
    op.create_index('ix_misdrop_case_community_status', 'misdrop_case',
                    ['community_id', 'status', 'due_on'])
    op.create_table(
        'verdict_audit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('drop_id', BigId, nullable=False),
        sa.Column('steward_id', sa.Integer(), nullable=False),
        sa.Column('week', sa.Date(), nullable=False),
        sa.Column('original', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('drawn_at', community.types.UTCDateTime(), nullable=False),
        sa.Column('auditor_id', sa.Integer(), nullable=True),
        sa.Column('verdict', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column('graded_at', community.types.UTCDateTime(), nullable=True),
        sa.CheckConstraint("original IN ('correct', 'incorrect')",
                           name='ck_verdict_audit_original'),
        sa.CheckConstraint("verdict IS NULL OR verdict IN ('correct', 'incorrect', 'unclear')",
                           name='ck_verdict_audit_verdict'),
        sa.ForeignKeyConstraint(['community_id'], ['area.id']),
        sa.ForeignKeyConstraint(['steward_id'], ['account.id']),
        sa.ForeignKeyConstraint(['auditor_id'], ['account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('community_id', 'drop_id', name='uq_verdict_audit_drop'),
    )
    op.create_index('ix_verdict_audit_community_week', 'verdict_audit', ['community_id', 'week'])
    op.create_table(
        'casework_cursor',
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('last_id', BigId, nullable=False),
        sa.Column('updated_at', community.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('casework_cursor')
    op.drop_index('ix_verdict_audit_community_week', table_name='verdict_audit')
    op.drop_table('verdict_audit')
    op.drop_index('ix_misdrop_case_community_status', table_name='misdrop_case')
    op.drop_index('ix_misdrop_case_household', table_name='misdrop_case')
    op.drop_index('uq_misdrop_case_open', table_name='misdrop_case')
    op.drop_table('misdrop_case')
    op.drop_table('case_rule_set')
