"""A drop's own points on its row; no ledger row per drop, no points_scored_drop (issue 16)

`drop_record.points` (SMALLINT, default 0) holds what a drop's first scoring credited (its
earn); the drop row is that earn entry (`community.points.facts`). Moved here: every live
(not reversed) earn entry with source "drop:<its drop>" becomes its drop's `points` and is
deleted. Earn entries already reversed stay in the ledger with their reversals (they are
ordinary ledger entries, read as before). Strike entries (0 points: the strike is the
drop's quality) and their 0-point reversals are deleted. `points_scored_drop` is dropped:
points read the drop rows, with `ix_drop_record_strikes` for the strike windows.

Downgrade rebuilds points_scored_drop from the drop rows and turns each drop's points back
into an earn entry (its reversal, if any, pointed at it again); strike entries are not
rebuilt (they carried no points).

The codes below are copied, not imported: a migration keeps the codes of its day.

Revision ID: a3c7e2d15b90
Revises: e6d85d974320
Create Date: 2026-12-06 22:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op

revision: str = 'a3c7e2d15b90'
down_revision: str | None = 'e6d85d974320'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STRIKES = "quality = 2 AND repeat_of IS NULL AND voided_at IS NULL"
CATEGORY = "CASE {c} WHEN 1 THEN 'kitchen' WHEN 2 THEN 'recyclable' WHEN 3 THEN 'hazardous' " \
           "WHEN 4 THEN 'other' END"
QUALITY = "CASE {c} WHEN 1 THEN 'correct' WHEN 2 THEN 'incorrect' WHEN 3 THEN 'ungraded' END"
BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
# A drop's own earn entry: source "drop:<its drop id>" (a correction another drop made is
# "drop:<that drop>/e<id>", never moved).
OWN_EARN = ("e.kind = 'earn' AND e.drop_id IS NOT NULL "
            "AND e.source = 'drop:' || CAST(e.drop_id AS VARCHAR(20))")
LIVE = ("NOT EXISTS (SELECT 1 FROM ledger_entry r WHERE r.community_id = e.community_id "
        "AND r.reverses_id = e.id)")


def upgrade() -> None:
    q = op.get_bind().execute
    with op.batch_alter_table('drop_record') as batch_op:
        batch_op.add_column(sa.Column('points', sa.SmallInteger(), server_default='0',
                                      nullable=False))
    op.create_index('ix_drop_record_strikes', 'drop_record',
                    ['household_id', 'local_date', 'happened_at', 'id'],
                    postgresql_where=sa.text(STRIKES), sqlite_where=sa.text(STRIKES))
    q(sa.text(f"CREATE TEMPORARY TABLE own_earn AS SELECT e.id, e.community_id, e.drop_id, "
              f"e.local_date, e.amount FROM ledger_entry e WHERE {OWN_EARN} AND {LIVE}"))
    q(sa.text("UPDATE drop_record SET points = (SELECT o.amount FROM own_earn o "
              "WHERE o.community_id = drop_record.community_id AND o.drop_id = drop_record.id "
              "AND o.local_date = drop_record.local_date) "
              "WHERE EXISTS (SELECT 1 FROM own_earn o WHERE o.community_id = "
              "drop_record.community_id AND o.drop_id = drop_record.id "
              "AND o.local_date = drop_record.local_date)"))
    q(sa.text("DELETE FROM ledger_entry WHERE id IN (SELECT id FROM own_earn)"))
    q(sa.text("DROP TABLE own_earn"))
    q(sa.text("DELETE FROM ledger_entry WHERE kind = 'reversal' AND reverses_id IN "
              "(SELECT s.id FROM ledger_entry s WHERE s.kind = 'strike')"))
    q(sa.text("DELETE FROM ledger_entry WHERE kind = 'strike'"))
    op.drop_table('points_scored_drop')


def downgrade() -> None:
    q = op.get_bind().execute
    op.create_table(
        'points_scored_drop',
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('drop_id', BigId, autoincrement=False, nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('local_date', sa.Date(), nullable=False),
        sa.Column('happened_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column('quality', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('in_window', sa.Boolean(), nullable=False),
        sa.Column('rule_version', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['points_account.id']),
        sa.ForeignKeyConstraint(['community_id'], ['area.id']),
        sa.PrimaryKeyConstraint('community_id', 'drop_id'))
    op.create_index('ix_points_scored_drop_account_day', 'points_scored_drop',
                    ['account_id', 'local_date', 'happened_at'])
    op.create_index('ix_points_scored_drop_strikes', 'points_scored_drop',
                    ['account_id', 'local_date', 'happened_at', 'drop_id'],
                    postgresql_where=sa.text("quality = 'incorrect'"),
                    sqlite_where=sa.text("quality = 'incorrect'"))
    scored = ("FROM drop_record d JOIN points_account a ON a.community_id = d.community_id "
              "AND a.household_id = d.household_id WHERE d.household_id IS NOT NULL "
              "AND d.repeat_of IS NULL")
    q(sa.text("INSERT INTO points_scored_drop (community_id, drop_id, account_id, local_date, "
              "happened_at, category, quality, in_window, rule_version) "
              f"SELECT d.community_id, d.id, a.id, d.local_date, d.happened_at, "
              f"{CATEGORY.format(c='d.category')}, {QUALITY.format(c='d.quality')}, "
              f"d.in_window, NULL {scored} AND d.voided_at IS NULL"))
    q(sa.text("INSERT INTO ledger_entry (community_id, account_id, amount, kind, source, "
              "rule_version, actor_id, reason, at, local_date, reverses_id, drop_id) "
              "SELECT d.community_id, a.id, d.points, 'earn', "
              "'drop:' || CAST(d.id AS VARCHAR(20)), NULL, NULL, "
              f"'category:' || {CATEGORY.format(c='d.category')}, d.received_at, d.local_date, "
              f"NULL, d.id {scored} AND d.points <> 0"))
    # Each drop-row reversal (reverses_id NULL) reverses its drop's earn entry again.
    own = ("(SELECT e.id FROM ledger_entry e WHERE e.community_id = ledger_entry.community_id "
           "AND e.kind = 'earn' AND e.source = 'drop:' || CAST(ledger_entry.drop_id AS "
           "VARCHAR(20)) AND e.local_date = ledger_entry.local_date)")
    q(sa.text(f"UPDATE ledger_entry SET reverses_id = {own}, "
              f"source = 'reversal:' || CAST({own} AS VARCHAR(20)) "
              "WHERE kind = 'reversal' AND reverses_id IS NULL AND drop_id IS NOT NULL"))
    op.drop_index('ix_drop_record_strikes', table_name='drop_record',
                  postgresql_where=sa.text(STRIKES), sqlite_where=sa.text(STRIKES))
    with op.batch_alter_table('drop_record') as batch_op:
        batch_op.drop_column('points')
