"""mis-drop reasons, a drop's reason, repeat and void, and the communities' scan settings

Data: the city-wide default reasons (community_id NULL) are seeded with their bilingual
labels and how-to-sort-it-right texts. Works on SQLite (batch mode) and PostgreSQL.

Revision ID: a7c4e2d91b35
Revises: 6e733fec8c92
Create Date: 2026-12-06 10:55:00.000000
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op

revision: str = 'a7c4e2d91b35'
down_revision: str | None = '6e733fec8c92'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (code, label_zh, label_en, howto_zh, howto_en, needs_note); the same list as
# community.stations.reasons.DEFAULT_REASONS at the time of this revision.
DEFAULTS = [
    ("kitchen_plastic_bag", "厨余混有塑料袋", "Kitchen waste mixed with plastic bags",
     "厨余垃圾请破袋投放：把垃圾倒入厨余桶，塑料袋投入其他垃圾桶。",
     "Open the bag: pour the kitchen waste into the kitchen bin and put the empty plastic "
     "bag into the residual waste bin."),
    ("residual_in_kitchen", "其他垃圾混入厨余", "Residual waste mixed into kitchen waste",
     "纸巾、骨头（大骨）、贝壳、一次性餐具等属于其他垃圾，请不要混入厨余。",
     "Tissues, large bones, shells and disposable tableware are residual waste; keep them "
     "out of the kitchen bin."),
    ("recyclable_dirty", "可回收物脏污", "Recyclables dirty",
     "可回收物请保持清洁干燥：瓶罐倒空冲洗，纸类不要沾油污。",
     "Keep recyclables clean and dry: empty and rinse bottles and cans, keep paper free of "
     "grease."),
    ("hazardous_mixed", "有害垃圾未单独投放", "Hazardous waste not put out separately",
     "电池、灯管、药品、油漆等有害垃圾请单独投入有害垃圾桶，灯管请包好防止破碎。",
     "Batteries, lamps, medicines and paint are hazardous: put them in the hazardous bin on "
     "their own; wrap lamps so they do not break."),
    ("bulky_mixed", "大件/装修垃圾混投", "Bulky or renovation waste mixed in",
     "大件家具和装修垃圾请预约清运或投放到指定堆放点，不要投入日常垃圾桶。",
     "Book a collection for furniture and renovation waste or take it to the marked area; "
     "never put it into the everyday bins."),
    ("other", "其他", "Other", "", "", True),
]


def upgrade() -> None:
    misdrop = op.create_table(
        'misdrop_reason',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=True),
        sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('label_zh', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('label_en', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column('howto_zh', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('howto_en', sqlmodel.sql.sqltypes.AutoString(length=800), nullable=False),
        sa.Column('needs_note', sa.Boolean(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['community_id'], ['area.id'], ),
        sa.ForeignKeyConstraint(['created_by'], ['account.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('community_id', 'code', name='uq_misdrop_reason_code'),
    )
    with op.batch_alter_table('misdrop_reason', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_misdrop_reason_community_id'), ['community_id'],
                              unique=False)
        batch_op.create_index('uq_misdrop_reason_default_code', ['code'], unique=True,
                              postgresql_where=sa.text('community_id IS NULL'),
                              sqlite_where=sa.text('community_id IS NULL'))

    op.create_table(
        'scan_setting',
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('default_quality', sqlmodel.sql.sqltypes.AutoString(length=10),
                  nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.Integer(), nullable=True),
        sa.CheckConstraint("default_quality IN ('correct', 'ungraded')",
                           name='ck_scan_setting_quality'),
        sa.ForeignKeyConstraint(['community_id'], ['area.id'], ),
        sa.ForeignKeyConstraint(['updated_by'], ['account.id'], ),
        sa.PrimaryKeyConstraint('community_id'),
    )

    with op.batch_alter_table('drop_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_code', sqlmodel.sql.sqltypes.AutoString(length=32),
                                      nullable=True))
        batch_op.add_column(sa.Column('repeat_of', sa.BigInteger().with_variant(
            sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('voided_by', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_drop_record_voided_by_account', 'account',
                                    ['voided_by'], ['id'])

    conn = op.get_bind()
    now = datetime.now(UTC)
    if conn.dialect.name == "sqlite":  # stored as naive UTC there (community.types)
        now = now.replace(tzinfo=None)
    for n, row in enumerate(DEFAULTS):
        code, zh, en, howto_zh, howto_en = row[:5]
        conn.execute(misdrop.insert().values(
            community_id=None, code=code, label_zh=zh, label_en=en, howto_zh=howto_zh,
            howto_en=howto_en, needs_note=len(row) > 5 and bool(row[5]), active=True,
            position=(n + 1) * 10, created_at=now, created_by=None))


def downgrade() -> None:
    with op.batch_alter_table('drop_record', schema=None) as batch_op:
        batch_op.drop_constraint('fk_drop_record_voided_by_account', type_='foreignkey')
        batch_op.drop_column('voided_by')
        batch_op.drop_column('voided_at')
        batch_op.drop_column('repeat_of')
        batch_op.drop_column('reason_code')
    op.drop_table('scan_setting')
    with op.batch_alter_table('misdrop_reason', schema=None) as batch_op:
        batch_op.drop_index('uq_misdrop_reason_default_code',
                            postgresql_where=sa.text('community_id IS NULL'),
                            sqlite_where=sa.text('community_id IS NULL'))
        batch_op.drop_index(batch_op.f('ix_misdrop_reason_community_id'))
    op.drop_table('misdrop_reason')
