"""Reviews belong to batches: a batch's reviewed copy of a document's fields and checks, review
items, corrections, identity acceptances and decided metadata per batch.

Before, a document's review items sat in the first batch that listed it, and a correction
changed the one set of fields every batch holding the document exported. Existing reviews are
moved into the batch whose queue held them: the document's fields and checks are copied there,
corrections and identity acceptances name the batch of their decision, decided metadata goes to
the batch's ``batch_documents.meta``, and the machine's rows and metadata get back what the
pipeline read (``documents.result``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# Names for the unnamed constraints SQLite reflects, so batch mode can drop them.
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s_%(column_1_name)s"}
# JSON columns are JSONB on PostgreSQL, as in the models.
_JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
# Metadata a reviewer may decide (columns of documents; keys of a result's "meta").
_META_KEYS = ("agency", "year", "published")
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
    with op.batch_alter_table('identity_acceptances') as batch:
        batch.add_column(sa.Column('batch_id', sa.String(length=32), nullable=False, server_default=''))
    with op.batch_alter_table('batch_documents') as batch:
        batch.add_column(sa.Column('review_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('meta', _JSON, nullable=True))
    _move_reviews_into_batches(bind)


def _move_reviews_into_batches(bind) -> None:
    """Each reviewed document's fields and checks copied into the batch that held its items."""
    import json

    sqlite = bind.dialect.name == "sqlite"
    json_param = (lambda name: f":{name}") if sqlite else (lambda name: f"CAST(:{name} AS JSONB)")
    # A decision names its batch (its item's); older corrections take the batch of the document's items.
    bind.execute(sa.text("UPDATE corrections SET batch_id = (SELECT d.batch_id FROM review_decisions d "
                         "WHERE d.id = corrections.decision_id) WHERE decision_id IS NOT NULL"))
    bind.execute(sa.text("UPDATE identity_acceptances SET batch_id = (SELECT d.batch_id FROM review_decisions d "
                         "WHERE d.id = identity_acceptances.decision_id)"))
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
        bind.execute(sa.text("UPDATE corrections SET batch_id = :b WHERE document_id = :d AND batch_id IS NULL"),
                     params)
        result = bind.execute(sa.text("SELECT result FROM documents WHERE id = :d"), params).scalar()
        result = json.loads(result) if isinstance(result, str) else result
        machine = (result or {}).get("fields", {})
        for field_id, value in machine.items():
            reasons = value.get("reasons") or []
            bind.execute(sa.text(
                f"UPDATE fields SET value = :v, status = :s, reasons = {json_param('r')}, suggestion = :g "
                "WHERE document_id = :d AND batch_id = '' AND field_id = :f AND status = 'reviewed'"),
                {"d": document_id, "f": field_id, "v": value.get("value"), "s": value.get("status", "auto"),
                 "r": json.dumps(reasons), "g": value.get("suggestion")})
        _move_meta(bind, document_id, batch_id, (result or {}).get("meta") or {}, json_param)
    bind.execute(sa.text(
        "UPDATE batch_documents SET review_hash = (SELECT d.review_hash FROM documents d "
        "WHERE d.id = batch_documents.document_id) WHERE EXISTS (SELECT 1 FROM review_items r "
        "WHERE r.batch_id = batch_documents.batch_id AND r.document_id = batch_documents.document_id)"))


def _move_meta(bind, document_id: int, batch_id: str, read: dict, json_param) -> None:
    """Metadata decided in the batch (a ``meta.<key>`` correction) becomes the batch's; the document
    gets back what the pipeline read."""
    import json

    keys = [k for k in _META_KEYS if bind.execute(sa.text(
        "SELECT 1 FROM corrections WHERE document_id = :d AND field_id = :f LIMIT 1"),
        {"d": document_id, "f": f"meta.{k}"}).first() is not None]
    if not keys:
        return
    current = bind.execute(sa.text(f"SELECT {', '.join(keys)} FROM documents WHERE id = :d"),
                           {"d": document_id}).one()
    decided = dict(zip(keys, current))
    bind.execute(sa.text(f"UPDATE batch_documents SET meta = {json_param('m')} "
                         "WHERE batch_id = :b AND document_id = :d"),
                 {"b": batch_id, "d": document_id, "m": json.dumps(decided)})
    bind.execute(sa.text(f"UPDATE documents SET {', '.join(f'{k} = :{k}' for k in keys)} WHERE id = :d"),
                 {"d": document_id, **{k: read.get(k) for k in keys}})


def downgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    bind.execute(sa.text("DELETE FROM fields WHERE batch_id <> ''"))
    bind.execute(sa.text("DELETE FROM checks WHERE batch_id <> ''"))
    with op.batch_alter_table('batch_documents') as batch:
        batch.drop_column('meta')
        batch.drop_column('review_hash')
    with op.batch_alter_table('identity_acceptances') as batch:
        batch.drop_column('batch_id')
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
