"""reports (随手拍): versioned deadlines per city, reports, their +1s and escalations

One fresh (new or assigned) report per station and kind (a partial unique index: two first
reports at once make one); a report made from a supervision log once per log and kind
(UNIQUE community_id, source_key); one escalation per report and deadline (UNIQUE).

Revision ID: e8b2c4a61f07
Revises: c0a1b2c3d4e5
Create Date: 2026-12-06 13:55:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op

revision: str = 'e8b2c4a61f07'
down_revision: str | None = 'c0a1b2c3d4e5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
T = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('report_deadline_set',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('hours', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', T, nullable=False),
    sa.ForeignKeyConstraint(['city_id'], ['area.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('city_id', 'version', name='uq_report_deadline_set_version')
    )
    op.create_table('report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=True),
    sa.Column('place', S(length=120), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('kind', S(length=24), nullable=False),
    sa.Column('note', S(length=500), nullable=False),
    sa.Column('photo', S(length=200), nullable=True),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('source', S(length=10), nullable=False),
    sa.Column('source_key', S(length=60), nullable=True),
    sa.Column('status', S(length=12), nullable=False),
    sa.Column('level', S(length=10), nullable=False),
    sa.Column('route_area_id', sa.Integer(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('deadline_version', sa.Integer(), nullable=False),
    sa.Column('hours', sa.Integer(), nullable=False),
    sa.Column('created_at', T, nullable=False),
    sa.Column('due_at', T, nullable=False),
    sa.Column('level_due_at', T, nullable=False),
    sa.Column('started_at', T, nullable=True),
    sa.Column('handled_at', T, nullable=True),
    sa.Column('handled_by', sa.Integer(), nullable=True),
    sa.Column('handle_note', S(length=500), nullable=False),
    sa.Column('after_photo', S(length=200), nullable=True),
    sa.Column('confirmed_at', T, nullable=True),
    sa.Column('reopened_at', T, nullable=True),
    sa.Column('reopen_reason', S(length=300), nullable=False),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('plus_count', sa.Integer(), nullable=False),
    sa.Column('escalated_at', T, nullable=True),
    sa.CheckConstraint(
        "status IN ('new', 'assigned', 'in_progress', 'reopened', 'handled', 'confirmed')",
        name='ck_report_status'),
    sa.CheckConstraint("level IN ('community', 'street', 'district')", name='ck_report_level'),
    sa.CheckConstraint("reopen_count >= 0 AND reopen_count <= 1 AND plus_count >= 0",
                       name='ck_report_counts'),
    sa.CheckConstraint("status NOT IN ('handled', 'confirmed') OR handled_at IS NOT NULL",
                       name='ck_report_handled'),
    sa.ForeignKeyConstraint(['assignee_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['community_id'], ['area.id'], ),
    sa.ForeignKeyConstraint(['handled_by'], ['account.id'], ),
    sa.ForeignKeyConstraint(['reporter_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['route_area_id'], ['area.id'], ),
    sa.ForeignKeyConstraint(['station_id'], ['station.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('community_id', 'source_key', name='uq_report_source_key')
    )
    op.create_index('ix_report_community_status', 'report',
                    ['community_id', 'status', 'created_at'], unique=False)
    op.create_index('ix_report_community_due', 'report', ['community_id', 'due_at'],
                    unique=False)
    op.create_index('ix_report_open_level_due', 'report', ['status', 'level_due_at'],
                    unique=False)
    op.create_index('uq_report_open_station_kind', 'report', ['station_id', 'kind'],
                    unique=True,
                    postgresql_where=sa.text("status IN ('new', 'assigned')"),
                    sqlite_where=sa.text("status IN ('new', 'assigned')"))
    op.create_table('report_plus',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('note', S(length=500), nullable=False),
    sa.Column('at', T, nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('report_id', 'account_id', name='uq_report_plus_account')
    )
    op.create_table('report_escalation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('deadline', T, nullable=False),
    sa.Column('from_level', S(length=10), nullable=False),
    sa.Column('to_level', S(length=10), nullable=False),
    sa.Column('to_area_id', sa.Integer(), nullable=False),
    sa.Column('at', T, nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ),
    sa.ForeignKeyConstraint(['to_area_id'], ['area.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('report_id', 'deadline', name='uq_report_escalation_deadline')
    )


def downgrade() -> None:
    op.drop_table('report_escalation')
    op.drop_table('report_plus')
    op.drop_index('uq_report_open_station_kind', table_name='report')
    op.drop_index('ix_report_open_level_due', table_name='report')
    op.drop_index('ix_report_community_due', table_name='report')
    op.drop_index('ix_report_community_status', table_name='report')
    op.drop_table('report')
    op.drop_table('report_deadline_set')
