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
