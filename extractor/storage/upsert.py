"""INSERT … ON CONFLICT DO NOTHING for PostgreSQL and SQLite, the idempotent write of the tasks."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(session: Session, model: type, values: dict[str, Any], conflict: list[str]) -> bool:
    """Insert a row unless one with the same `conflict` columns exists.

    Returns:
        True when this call inserted the row, False when it was already there (a rerun, or
        another worker got there first).
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict)
    return session.execute(stmt).rowcount == 1
