"""Prose claims kept per document, so a review re-runs the prose cross-check.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    # Nullable, no backfill: documents stored before keep their prose checks as they were.
    with op.batch_alter_table('documents') as batch:
        batch.add_column(sa.Column('prose_claims', _JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('documents') as batch:
        batch.drop_column('prose_claims')
