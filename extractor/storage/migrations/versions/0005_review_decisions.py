"""Review that saves reviewers' time: identity and metadata items, item versions (one decision
per version), decisions and identity acceptances (audit, undo), leases per item group.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# JSON columns are JSONB on PostgreSQL, as in the models.
_JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    # Existing items are field items; their lease group is their field's section (the first
    # part of the field id), as sync_document assigns it.
    with op.batch_alter_table('review_items') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default='field'))
        batch.add_column(sa.Column('group_key', sa.String(length=32), nullable=False, server_default=''))
        batch.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    op.execute("UPDATE review_items SET group_key = substr(field_id, 1, instr(field_id || '.', '.') - 1)"
               if op.get_bind().dialect.name == 'sqlite'
               else "UPDATE review_items SET group_key = split_part(field_id, '.', 1)")
    op.create_table('review_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('item_version', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['review_items.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('item_id', 'item_version')
    )
    for col in ('item_id', 'document_id', 'batch_id', 'user_id'):
        op.create_index(op.f(f'ix_review_decisions_{col}'), 'review_decisions', [col], unique=False)
    op.create_table('identity_acceptances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('identity', sa.String(length=200), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decision_id'], ['review_decisions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id']),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_identity_acceptances_document_id'), 'identity_acceptances', ['document_id'], unique=False)
    op.create_index(op.f('ix_identity_acceptances_decision_id'), 'identity_acceptances', ['decision_id'], unique=False)
    with op.batch_alter_table('corrections') as batch:
        batch.add_column(sa.Column('decision_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('old_reasons', _JSON, nullable=True))
        batch.add_column(sa.Column('old_suggestion', sa.Float(), nullable=True))
        batch.add_column(sa.Column('old_text', sa.Text(), nullable=True))
        batch.add_column(sa.Column('new_text', sa.Text(), nullable=True))
        batch.create_foreign_key('fk_corrections_decision_id', 'review_decisions', ['decision_id'], ['id'],
                                 ondelete='SET NULL')
        batch.create_index(op.f('ix_corrections_decision_id'), ['decision_id'], unique=False)
    # Leases are short-lived: the table is rebuilt with its new key (document, group) and
    # reviewers simply take their items again.
    op.drop_index(op.f('ix_review_leases_user_id'), table_name='review_leases')
    op.drop_table('review_leases')
    _create_leases(with_group=True)


def downgrade() -> None:
    op.drop_index(op.f('ix_review_leases_user_id'), table_name='review_leases')
    op.drop_table('review_leases')
    _create_leases(with_group=False)
    with op.batch_alter_table('corrections') as batch:
        batch.drop_index(op.f('ix_corrections_decision_id'))
        batch.drop_constraint('fk_corrections_decision_id', type_='foreignkey')
        for col in ('new_text', 'old_text', 'old_suggestion', 'old_reasons', 'decision_id'):
            batch.drop_column(col)
    op.drop_table('identity_acceptances')
    op.drop_table('review_decisions')
    # Identity and metadata items did not exist before.
    op.execute("DELETE FROM review_items WHERE kind != 'field'")
    with op.batch_alter_table('review_items') as batch:
        for col in ('version', 'group_key', 'kind'):
            batch.drop_column(col)


def _create_leases(with_group: bool) -> None:
    columns = [sa.Column('document_id', sa.Integer(), nullable=False)]
    key = ['document_id']
    if with_group:
        columns.append(sa.Column('group_key', sa.String(length=32), nullable=False))
        key.append('group_key')
    op.create_table('review_leases', *columns,
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint(*key)
    )
    op.create_index(op.f('ix_review_leases_user_id'), 'review_leases', ['user_id'], unique=False)
