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
    from sqlalchemy import text

    from extractor.storage.db import alembic_config

    url = (f"sqlite:///{tmp_path / 'chain.db'}" if dialect == "sqlite"
           else fresh_pg_database("nianbao_migration_chain_test"))
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
