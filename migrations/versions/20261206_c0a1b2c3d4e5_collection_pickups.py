"""collection: station collection QR tags, versioned pickup windows, collections and their
lines; dirty_day counts late collections

Revision ID: c0a1b2c3d4e5
Revises: d4f7a2b91c36
Create Date: 2026-12-06 13:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op

revision: str = 'c0a1b2c3d4e5'
down_revision: str | None = 'd4f7a2b91c36'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('collection_station_tag',
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['account.id'], ),
    sa.ForeignKeyConstraint(['station_id'], ['station.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('station_id'),
    sa.UniqueConstraint('token')
    )
    op.create_table('pickup_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['account.id'], ),
    sa.ForeignKeyConstraint(['station_id'], ['station.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('station_id', 'effective_from', name='uq_pickup_version_day')
    )
    op.create_table('pickup_range',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.CheckConstraint('weekday >= 0 AND weekday <= 6', name='ck_pickup_range_weekday'),
    sa.ForeignKeyConstraint(['version_id'], ['pickup_version.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_pickup_range_version_id'), 'pickup_range', ['version_id'],
                    unique=False)
    op.create_table('collection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('collector_id', sa.Integer(), nullable=False),
    sa.Column('happened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.ForeignKeyConstraint(['collector_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['community_id'], ['area.id'], ),
    sa.ForeignKeyConstraint(['station_id'], ['station.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('community_id', 'client_id', name='uq_collection_client')
    )
    op.create_index('ix_collection_community_day', 'collection', ['community_id', 'local_date'],
                    unique=False)
    op.create_index('ix_collection_station_day', 'collection', ['station_id', 'local_date'],
                    unique=False)
    op.create_index(op.f('ix_collection_collector_id'), 'collection', ['collector_id'],
                    unique=False)
    op.create_table('collection_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collection_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('bins', sa.Integer(), nullable=False),
    sa.Column('kg', sa.Numeric(precision=9, scale=2), nullable=False),
    sa.Column('contaminated_bins', sa.Integer(), nullable=False),
    sa.Column('photo', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.CheckConstraint('bins >= 1 AND bins <= 100', name='ck_collection_line_bins'),
    sa.CheckConstraint('kg >= 0 AND kg <= 10000', name='ck_collection_line_kg'),
    sa.CheckConstraint('contaminated_bins >= 0 AND contaminated_bins <= bins',
                       name='ck_collection_line_contaminated'),
    sa.ForeignKeyConstraint(['collection_id'], ['collection.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['community_id'], ['area.id'], ),
    sa.ForeignKeyConstraint(['station_id'], ['station.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('collection_id', 'category', name='uq_collection_line_category')
    )
    op.create_index('ix_collection_line_community_day', 'collection_line',
                    ['community_id', 'local_date'], unique=False)
    op.create_index(op.f('ix_collection_line_collection_id'), 'collection_line',
                    ['collection_id'], unique=False)
    with op.batch_alter_table('dirty_day', schema=None) as batch_op:
        batch_op.add_column(sa.Column('collections', sa.Integer(), server_default='0',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('dirty_day', schema=None) as batch_op:
        batch_op.drop_column('collections')
    op.drop_index(op.f('ix_collection_line_collection_id'), table_name='collection_line')
    op.drop_index('ix_collection_line_community_day', table_name='collection_line')
    op.drop_table('collection_line')
    op.drop_index(op.f('ix_collection_collector_id'), table_name='collection')
    op.drop_index('ix_collection_station_day', table_name='collection')
    op.drop_index('ix_collection_community_day', table_name='collection')
    op.drop_table('collection')
    op.drop_index(op.f('ix_pickup_range_version_id'), table_name='pickup_range')
    op.drop_table('pickup_range')
    op.drop_table('pickup_version')
    op.drop_table('collection_station_tag')
