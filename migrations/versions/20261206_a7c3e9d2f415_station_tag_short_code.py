"""collection_station_tag.code: the short code printed under a station's collection QR

Existing tags get a random code each (their QR keeps its long token, so printed stickers
keep working; the code appears once the sheet is printed again). The column is filled
before it becomes NOT NULL and unique.

Revision ID: a7c3e9d2f415
Revises: c5e8a3f2b914
Create Date: 2026-12-06 14:55:00.000000
"""
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op

revision: str = 'a7c3e9d2f415'
down_revision: str | None = 'c5e8a3f2b914'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy of community/collection/rules.py's alphabet: a migration must not change with the code.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def upgrade() -> None:
    with op.batch_alter_table('collection_station_tag') as batch_op:
        batch_op.add_column(sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=8),
                                      nullable=True))
    conn = op.get_bind()
    tags = sa.table('collection_station_tag', sa.column('station_id', sa.Integer()),
                    sa.column('code', sa.String()))
    used: set[str] = set()
    for (station_id,) in conn.execute(sa.select(tags.c.station_id)).all():
        code = ""
        while not code or code in used:
            code = "".join(secrets.choice(ALPHABET) for _ in range(8))
        used.add(code)
        conn.execute(tags.update().where(tags.c.station_id == station_id).values(code=code))
    with op.batch_alter_table('collection_station_tag') as batch_op:
        batch_op.alter_column('code', existing_type=sqlmodel.sql.sqltypes.AutoString(length=8),
                              nullable=False)
        batch_op.create_unique_constraint('collection_station_tag_code_key', ['code'])


def downgrade() -> None:
    with op.batch_alter_table('collection_station_tag') as batch_op:
        batch_op.drop_constraint('collection_station_tag_code_key', type_='unique')
        batch_op.drop_column('code')
