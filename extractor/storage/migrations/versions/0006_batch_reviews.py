"""Reviews belong to batches: a batch's reviewed copy of a document's fields and checks, review
items and corrections per batch.

Before, a document's review items sat in the first batch that listed it, and a correction
changed the one set of fields every batch holding the document exported. Existing reviews are
moved into the batch whose queue held them: the document's fields and checks are copied there,
and the machine's rows get back the values the pipeline read (``documents.result``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# Names for the unnamed constraints SQLite reflects, so batch mode can drop them.
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s_%(column_1_name)s"}
# Columns of a field row copied into a batch's copy.
_FIELD_COLUMNS = "field_id, value, raw, status, confidence, page, bbox, reasons, suggestion"


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    with op.batch_alter_table('fields', naming_convention=_NAMING) as batch:
        batch.add_column(sa.Column('batch_id', sa.String(length=32), nullable=False, server_default=''))
        batch.drop_constraint('uq_fields_document_id_field_id' if sqlite else 'fields_document_id_field_id_key',
                              type_='unique')
        batch.create_unique_constraint('uq_fields_document_batch_field', ['document_id', 'batch_id', 'field_id'])
    with op.batch_alter_table('checks') as batch:
        batch.add_column(sa.Column('batch_id', sa.String(length=32), nullable=False, server_default=''))
    with op.batch_alter_table('review_items', naming_convention=_NAMING) as batch:
        batch.drop_constraint('uq_review_items_document_id_field_id' if sqlite
                              else 'review_items_document_id_field_id_key', type_='unique')
        batch.create_unique_constraint('uq_review_items_batch_document_field', ['batch_id', 'document_id', 'field_id'])
    with op.batch_alter_table('corrections') as batch:
        batch.add_column(sa.Column('batch_id', sa.String(length=32), nullable=True))
    with op.batch_alter_table('batch_documents') as batch:
        batch.add_column(sa.Column('review_hash', sa.String(length=64), nullable=True))
    _move_reviews_into_batches(bind)


def _move_reviews_into_batches(bind) -> None:
    """Each reviewed document's fields and checks copied into the batch that held its items."""
    import json

    reviewed = bind.execute(sa.text(
        "SELECT DISTINCT r.document_id, r.batch_id FROM review_items r "
        "WHERE r.state = 'done' OR EXISTS (SELECT 1 FROM corrections c WHERE c.document_id = r.document_id)"
    )).all()
    for document_id, batch_id in reviewed:
        params = {"d": document_id, "b": batch_id}
        bind.execute(sa.text(f"INSERT INTO fields (document_id, batch_id, {_FIELD_COLUMNS}) "
                             f"SELECT document_id, :b, {_FIELD_COLUMNS} FROM fields WHERE document_id = :d "
                             "AND batch_id = ''"), params)
        bind.execute(sa.text("INSERT INTO checks (document_id, batch_id, identity, ok, fields, detail) "
                             "SELECT document_id, :b, identity, ok, fields, detail FROM checks "
                             "WHERE document_id = :d AND batch_id = '' ORDER BY id"), params)
        bind.execute(sa.text("UPDATE corrections SET batch_id = :b WHERE document_id = :d"), params)
        result = bind.execute(sa.text("SELECT result FROM documents WHERE id = :d"), params).scalar()
        result = json.loads(result) if isinstance(result, str) else result
        machine = (result or {}).get("fields", {})
        reasons_param = ":r" if bind.dialect.name == "sqlite" else "CAST(:r AS JSONB)"
        for field_id, value in machine.items():
            reasons = value.get("reasons") or []
            bind.execute(sa.text(
                f"UPDATE fields SET value = :v, status = :s, reasons = {reasons_param}, suggestion = :g "
                "WHERE document_id = :d AND batch_id = '' AND field_id = :f AND status = 'reviewed'"),
                {"d": document_id, "f": field_id, "v": value.get("value"), "s": value.get("status", "auto"),
                 "r": json.dumps(reasons), "g": value.get("suggestion")})
    bind.execute(sa.text(
        "UPDATE batch_documents SET review_hash = (SELECT d.review_hash FROM documents d "
        "WHERE d.id = batch_documents.document_id) WHERE EXISTS (SELECT 1 FROM review_items r "
        "WHERE r.batch_id = batch_documents.batch_id AND r.document_id = batch_documents.document_id)"))


def downgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    bind.execute(sa.text("DELETE FROM fields WHERE batch_id <> ''"))
    bind.execute(sa.text("DELETE FROM checks WHERE batch_id <> ''"))
    with op.batch_alter_table('batch_documents') as batch:
        batch.drop_column('review_hash')
    with op.batch_alter_table('corrections') as batch:
        batch.drop_column('batch_id')
    with op.batch_alter_table('review_items') as batch:
        batch.drop_constraint('uq_review_items_batch_document_field', type_='unique')
        batch.create_unique_constraint('uq_review_items_document_id_field_id' if sqlite
                                       else 'review_items_document_id_field_id_key',
                                       ['document_id', 'field_id'])
    with op.batch_alter_table('checks') as batch:
        batch.drop_column('batch_id')
    with op.batch_alter_table('fields') as batch:
        batch.drop_constraint('uq_fields_document_batch_field', type_='unique')
        batch.drop_column('batch_id')
        batch.create_unique_constraint('uq_fields_document_id_field_id' if sqlite else 'fields_document_id_field_id_key',
                                       ['document_id', 'field_id'])
