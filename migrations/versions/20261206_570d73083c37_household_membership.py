"""household membership: heads, removal, invitations and join slips; cards grant nothing

- `household_member` gains a role (`head`/`member`), how the member joined, and who removed
  them when. Existing approved members stay members (`joined_via = 'legacy'`); the earliest
  approved member of each household becomes its head.
- `household_invitation` (a member's one-time, expiring invitation) and `household_join_code`
  (the one-time code on a slip a manager prints) are new; both store hashes only.
- The card's link code is dropped: every existing link code is void, never valid again.
- `area.link_mode` ("code" or "approval") becomes `area.join_requests`: whether a resident
  without an invitation or slip may ask the manager. Both old modes let residents send
  requests (code mode once the code was spent), so every community keeps allowing them.

Revision ID: 570d73083c37
Revises: 802c7f505da7
Create Date: 2026-12-06 07:48:43.564453
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op


revision: str = '570d73083c37'
down_revision: str | None = '802c7f505da7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HEAD_WHERE = "role = 'head' AND status = 'approved'"


def upgrade() -> None:
    op.create_table('household_invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_by', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['account.id'], ),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], ),
    sa.ForeignKeyConstraint(['revoked_by'], ['account.id'], ),
    sa.ForeignKeyConstraint(['used_by'], ['account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('household_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_invitation_household_id'), ['household_id'], unique=False)

    op.create_table('household_join_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_by', sa.Integer(), nullable=True),
    sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['account.id'], ),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], ),
    sa.ForeignKeyConstraint(['used_by'], ['account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code_hash')
    )
    with op.batch_alter_table('household_join_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_join_code_household_id'), ['household_id'], unique=False)

    with op.batch_alter_table('household_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=10), server_default='member', nullable=False))
        batch_op.add_column(sa.Column('joined_via', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True))
        batch_op.add_column(sa.Column('removed_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key('fk_household_member_removed_by_account', 'account',
                                    ['removed_by'], ['id'])
        batch_op.create_check_constraint(
            'ck_household_member_status',
            "status IN ('pending', 'approved', 'rejected', 'removed')")
        batch_op.create_check_constraint('ck_household_member_role', "role IN ('head', 'member')")

    # Existing members: approved ones joined the old way; the earliest of each household heads it.
    op.execute("UPDATE household_member SET joined_via = 'legacy' WHERE status = 'approved'")
    op.execute(
        "UPDATE household_member SET role = 'head' WHERE status = 'approved' AND id = ("
        " SELECT m.id FROM household_member m WHERE m.household_id = household_member.household_id"
        " AND m.status = 'approved' ORDER BY m.created_at, m.id LIMIT 1)")
    with op.batch_alter_table('household_member', schema=None) as batch_op:
        batch_op.create_index('uq_household_member_head', ['household_id'], unique=True,
                              sqlite_where=sa.text(HEAD_WHERE),
                              postgresql_where=sa.text(HEAD_WHERE))

    with op.batch_alter_table('area', schema=None) as batch_op:
        batch_op.add_column(sa.Column('join_requests', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.drop_column('link_mode')

    # Every link code printed so far is void: the column goes.
    with op.batch_alter_table('card', schema=None) as batch_op:
        batch_op.drop_column('link_code')
        batch_op.drop_column('link_code_used_at')


def downgrade() -> None:
    # Link codes cannot come back: restored cards carry an empty, already spent code, and every
    # community waits for a manager's approval.
    with op.batch_alter_table('card', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_code', sa.VARCHAR(length=8), server_default='', nullable=False))
        batch_op.add_column(sa.Column('link_code_used_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE card SET link_code_used_at = issued_at")

    with op.batch_alter_table('area', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_mode', sa.VARCHAR(length=16), server_default='approval', nullable=False))
        batch_op.drop_column('join_requests')

    # Removed members had no place in the old model: they leave no row.
    op.execute("DELETE FROM household_member WHERE status = 'removed'")
    with op.batch_alter_table('household_member', schema=None) as batch_op:
        batch_op.drop_index('uq_household_member_head',
                            sqlite_where=sa.text(HEAD_WHERE), postgresql_where=sa.text(HEAD_WHERE))
        batch_op.drop_constraint('ck_household_member_role', type_='check')
        batch_op.drop_constraint('ck_household_member_status', type_='check')
        batch_op.drop_constraint('fk_household_member_removed_by_account', type_='foreignkey')
        batch_op.drop_column('removed_at')
        batch_op.drop_column('removed_by')
        batch_op.drop_column('joined_via')
        batch_op.drop_column('role')

    with op.batch_alter_table('household_join_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_join_code_household_id'))
    op.drop_table('household_join_code')
    with op.batch_alter_table('household_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_invitation_household_id'))
    op.drop_table('household_invitation')
