"""report_plus.photo, latitude, longitude: a +1 keeps the photo its person took

Until now a +1's photo was checked and dropped; existing +1s keep no photo (NULL).

Revision ID: b3d6e1f9a2c4
Revises: a7c3e9d2f415
Create Date: 2026-12-06 16:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op

revision: str = 'b3d6e1f9a2c4'
down_revision: str | None = 'a7c3e9d2f415'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('report_plus') as batch_op:
        batch_op.add_column(sa.Column('photo', sqlmodel.sql.sqltypes.AutoString(length=200),
                                      nullable=True))
        batch_op.add_column(sa.Column('latitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('longitude', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('report_plus') as batch_op:
        batch_op.drop_column('longitude')
        batch_op.drop_column('latitude')
        batch_op.drop_column('photo')
