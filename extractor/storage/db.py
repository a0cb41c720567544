"""Engines, sessions and schema migrations for the store."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from extractor.settings import DbSettings

_log = logging.getLogger(__name__)

# Folder of the Alembic environment (env.py, versions/), inside the package so it ships with it.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(db: DbSettings) -> Engine:
    """An engine for `db.url`; SQLite gets foreign keys on and its folder created."""
    if db.url.startswith("sqlite"):
        _make_sqlite_folder(db.url)
        engine = create_engine(db.url, echo=db.echo)
        # SQLite ignores foreign keys unless each connection asks for them.
        event.listen(engine, "connect", lambda conn, _rec: conn.execute("PRAGMA foreign_keys=ON"))
        return engine
    # pool_pre_ping: a worker that sat idle past the server's timeout gets a fresh connection
    # instead of an OperationalError on its next task. pool_timeout: a request waits seconds, not
    # SQLAlchemy's 30, for a connection before the API answers 503.
    return create_engine(db.url, echo=db.echo, pool_size=db.pool_size, max_overflow=db.max_overflow,
                         pool_timeout=db.pool_timeout, pool_pre_ping=True)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: records read in a task stay usable after its commit.
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits when the block ends cleanly and rolls back otherwise."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str):
    """The Alembic configuration for `url`, independent of the working directory."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    """Bring the schema at `url` to `revision` (creating it on an empty database)."""
    from alembic import command

    _log.info("migrating %s to %s", url.split("@")[-1], revision)
    command.upgrade(alembic_config(url), revision)


def ensure_schema(url: str) -> None:
    """Make sure the schema at `url` is the one this code needs.

    A SQLite file is the embedded store of one machine: it is created or upgraded in place. A
    server database is shared with running services, so it is only checked; `nianbao migrate`
    upgrades it.

    Raises:
        RuntimeError: a server database is not at the newest revision.
    """
    if url.startswith("sqlite"):
        # Alembic opens its own engine, so the folder of a first run's file must exist first.
        _make_sqlite_folder(url)
        upgrade_database(url)
        return
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    if current != head:
        raise RuntimeError(
            f"the database {url.split('@')[-1]} is at schema revision {current or 'none'}, this version needs "
            f"{head}: run `nianbao migrate`"
        )


def _make_sqlite_folder(url: str) -> None:
    """Create the folder of a SQLite file URL (nothing for an in-memory database)."""
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
