"""The Alembic migrations build exactly the schema of the models, on PostgreSQL and SQLite."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from extractor.storage import Base, upgrade_database


def _differences(url: str) -> list:
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    return diff


def test_migrated_postgres_schema_matches_the_models(service_env):
    # The test database, migrated to head by the session fixture.
    # Autogenerate finds nothing to add, drop or alter.
    assert _differences(service_env["NIANBAO_DB__URL"]) == []


def test_migrated_sqlite_schema_matches_the_models(tmp_path):
    # An empty SQLite file (the embedded store) migrated to head.
    # The same models, the same schema.
    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    upgrade_database(url)
    assert _differences(url) == []


def test_extract_refuses_a_server_database_that_is_not_migrated(fresh_pg_database, service_env):
    # `extract` records into PostgreSQL only when its schema is current: an empty database is
    # refused with the command that fixes it; the migrated service database is accepted.
    from extractor.storage.db import ensure_schema

    with pytest.raises(RuntimeError, match="run `nianbao migrate`"):
        ensure_schema(fresh_pg_database("nianbao_unmigrated_test"))
    ensure_schema(service_env["NIANBAO_DB__URL"])


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_security_migration_keeps_old_rows_and_goes_down_and_up_again(dialect, tmp_path, fresh_pg_database):
    # A store at revision 0003 with a batch and an account (scrypt hash), upgraded to head,
    # downgraded to 0003 and upgraded again.
    # The batch has no owner (admins and assignees see it), the hash is kept for its rehash at
    # sign-in, and the schema matches the models at the end.
    import os

    from sqlalchemy import text

    from extractor.storage.db import alembic_config

    url = (f"sqlite:///{tmp_path / 'chain.db'}" if dialect == "sqlite"
           else fresh_pg_database(os.environ.get("NIANBAO_TEST_DB", "nianbao_test") + "_chain"))
    upgrade_database(url, "0003")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (email, name, role, created_at, password_hash, active) "
                          "VALUES ('old@example.org', '', 'reviewer', CURRENT_TIMESTAMP, 'scrypt$16384$8$1$c2FsdA==$aGFzaA==', true)"))
        conn.execute(text("INSERT INTO batches (id, name, state, created_at) VALUES ('b0', 'old', 'ingested', CURRENT_TIMESTAMP)"))
    upgrade_database(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT owner_id, upload_bytes FROM batches WHERE id = 'b0'")).one() == (None, None)
        assert conn.execute(text("SELECT password_hash FROM users")).scalar().startswith("scrypt$")
    from alembic import command

    command.downgrade(alembic_config(url), "0003")
    upgrade_database(url)
    engine.dispose()
    assert _differences(url) == []


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_batch_review_migration_moves_old_reviews_into_their_batch(dialect, tmp_path, fresh_pg_database):
    # A store at 0006: one document in batches P and Q, its field corrected from 95 to 4242 in P's queue
    # (before, that changed the one row both batches export), an identity accepted as printed and the
    # agency corrected there too (on the document itself, before). After 0007: P's copy holds 4242,
    # reviewed; the machine's row, which Q sees, holds 95 again as the pipeline read it; the
    # corrections and the acceptance are P's; P's agency is the decided one, the document's the one read.
    import json
    import os

    from sqlalchemy import text

    url = (f"sqlite:///{tmp_path / 'reviews.db'}" if dialect == "sqlite"
           else fresh_pg_database(os.environ.get("NIANBAO_TEST_DB", "nianbao_test") + "_mig7"))
    upgrade_database(url, "0006")
    engine = create_engine(url)
    result = {"document": {"id": "d", "source": "d.pdf", "sha256": "a" * 64}, "template": "gov-2021",
              "meta": {"agency": "作报告为深入贯彻", "year": 2024, "published": None},
              "fields": {"f.one": {"value": 95, "raw": "95", "status": "flagged", "reasons": ["low confidence"]}}}
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (id, email, name, role, created_at, active) "
                          "VALUES (7, 'r@example.org', '', 'reviewer', CURRENT_TIMESTAMP, true)"))
        for batch in ("p", "q"):
            conn.execute(text(f"INSERT INTO batches (id, name, state, created_at) VALUES ('{batch}', '{batch}', "
                              "'ingested', CURRENT_TIMESTAMP)"))
        conn.execute(text("INSERT INTO documents (id, sha256, blob_key, kind, format, size, state, created_at, result, "
                          "finish_hash, review_hash, attempts, agency, year) VALUES (1, :sha, 'k', 'pdf', 'pdf', 1, "
                          "'done', CURRENT_TIMESTAMP, :result, 'h', 'h', 0, '某某县自然资源局', 2024)"),
                     {"sha": "a" * 64, "result": json.dumps(result)})
        for i, batch in enumerate(("p", "q")):
            conn.execute(text(f"INSERT INTO batch_documents (batch_id, document_id, item_id, source) VALUES "
                              f"('{batch}', 1, 'd{i}', 'd.pdf')"))
        conn.execute(text("INSERT INTO fields (document_id, field_id, value, raw, status, reasons) VALUES "
                          "(1, 'f.one', 4242, '95', 'reviewed', :r)"), {"r": json.dumps(["low confidence", "corrected"])})
        conn.execute(text("INSERT INTO checks (document_id, identity, ok, fields, detail) VALUES "
                          "(1, 'i.one', true, :f, '')"), {"f": json.dumps(["f.one"])})
        conn.execute(text("INSERT INTO review_items (id, document_id, field_id, batch_id, priority, state, created_at, "
                          "kind, group_key, version) VALUES (1, 1, 'f.one', 'p', 3, 'done', CURRENT_TIMESTAMP, "
                          "'field', 'f', 2), (2, 1, 'identity:i.two', 'p', 2, 'done', CURRENT_TIMESTAMP, "
                          "'identity', 'i', 2), (3, 1, 'meta.agency', 'p', 1, 'done', CURRENT_TIMESTAMP, 'meta', "
                          "'meta', 2)"))
        for decision, item in ((1, 1), (2, 2), (3, 3)):
            conn.execute(text("INSERT INTO review_decisions (id, item_id, item_version, document_id, batch_id, "
                              "user_id, action, comment, created_at) VALUES (:d, :i, 1, 1, 'p', 7, 'correct', '', "
                              "CURRENT_TIMESTAMP)"), {"d": decision, "i": item})
        conn.execute(text("INSERT INTO corrections (document_id, field_id, old_value, new_value, note, created_at, "
                          "kind, decision_id) VALUES (1, 'f.one', 95, 4242, '', CURRENT_TIMESTAMP, 'correct', 1), "
                          "(1, 'identity:i.two', NULL, NULL, '', CURRENT_TIMESTAMP, 'as_printed', 2), "
                          "(1, 'f.one', 90, 95, '', CURRENT_TIMESTAMP, 'correct', NULL)"))
        conn.execute(text("INSERT INTO corrections (document_id, field_id, note, created_at, kind, decision_id, "
                          "old_text, new_text) VALUES (1, 'meta.agency', '', CURRENT_TIMESTAMP, 'correct', 3, "
                          "'作报告为深入贯彻', '某某县自然资源局')"))
        conn.execute(text("INSERT INTO identity_acceptances (document_id, identity, decision_id, user_id, reason, "
                          "created_at) VALUES (1, 'i.two', 2, 7, '', CURRENT_TIMESTAMP)"))
    upgrade_database(url)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT batch_id, value FROM fields ORDER BY batch_id")).all())
        statuses = dict(conn.execute(text("SELECT batch_id, status FROM fields")).all())
        checks = conn.execute(text("SELECT batch_id FROM checks ORDER BY batch_id")).scalars().all()
        corrections = conn.execute(text("SELECT DISTINCT batch_id FROM corrections")).scalars().all()
        accepted = conn.execute(text("SELECT batch_id FROM identity_acceptances")).scalars().all()
        hashes = dict(conn.execute(text("SELECT batch_id, review_hash FROM batch_documents")).all())
        metas = dict(conn.execute(text("SELECT batch_id, meta FROM batch_documents")).all())
        agency, year = conn.execute(text("SELECT agency, year FROM documents")).one()
    engine.dispose()
    assert rows == {"": 95, "p": 4242} and statuses == {"": "flagged", "p": "reviewed"}
    assert checks == ["", "p"] and corrections == ["p"] and accepted == ["p"] and hashes == {"p": "h", "q": None}
    meta_p = json.loads(metas["p"]) if isinstance(metas["p"], str) else metas["p"]
    assert meta_p == {"agency": "某某县自然资源局"} and metas["q"] is None
    assert (agency, year) == ("作报告为深入贯彻", 2024)
    assert _differences(url) == []
