"""Review loop: passwords, API tokens, batch assignments, review items and leases, suggestions,
correction snapshots.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('password_hash', sa.String(length=300), nullable=True))
        batch.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table('documents') as batch:
        batch.add_column(sa.Column('review_hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('fields') as batch:
        batch.add_column(sa.Column('suggestion', sa.Float(), nullable=True))
    with op.batch_alter_table('corrections') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default='correct'))
        batch.add_column(sa.Column('old_status', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('raw', sa.Text(), nullable=True))
        batch.add_column(sa.Column('page', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('bbox', _JSON, nullable=True))
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_api_tokens_user_id'), 'api_tokens', ['user_id'], unique=False)
    op.create_table('batch_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('batch_id', 'user_id')
    )
    op.create_index(op.f('ix_batch_assignments_batch_id'), 'batch_assignments', ['batch_id'], unique=False)
    op.create_index(op.f('ix_batch_assignments_user_id'), 'batch_assignments', ['user_id'], unique=False)
    op.create_table('review_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('field_id', sa.String(length=200), nullable=False),
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['closed_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('document_id', 'field_id')
    )
    op.create_index(op.f('ix_review_items_document_id'), 'review_items', ['document_id'], unique=False)
    op.create_index('ix_review_queue', 'review_items', ['batch_id', 'state', 'priority'], unique=False)
    op.create_table('review_leases',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('document_id')
    )
    op.create_index(op.f('ix_review_leases_user_id'), 'review_leases', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_review_leases_user_id'), table_name='review_leases')
    op.drop_table('review_leases')
    op.drop_index('ix_review_queue', table_name='review_items')
    op.drop_index(op.f('ix_review_items_document_id'), table_name='review_items')
    op.drop_table('review_items')
    op.drop_index(op.f('ix_batch_assignments_user_id'), table_name='batch_assignments')
    op.drop_index(op.f('ix_batch_assignments_batch_id'), table_name='batch_assignments')
    op.drop_table('batch_assignments')
    op.drop_index(op.f('ix_api_tokens_user_id'), table_name='api_tokens')
    op.drop_table('api_tokens')
    with op.batch_alter_table('corrections') as batch:
        for column in ('bbox', 'page', 'raw', 'old_status', 'kind'):
            batch.drop_column(column)
    with op.batch_alter_table('fields') as batch:
        batch.drop_column('suggestion')
    with op.batch_alter_table('documents') as batch:
        batch.drop_column('review_hash')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('active')
        batch.drop_column('password_hash')
