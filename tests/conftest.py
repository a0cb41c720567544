"""Fixtures shared by test packages: the real PostgreSQL on localhost, a recorded layout model."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pytest

# Where the local PostgreSQL is (CI starts it; see .ci/run), as a URL to its admin database.
PG_ADMIN_URL = os.environ.get("NIANBAO_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def fresh_pg_database() -> Callable[[str], str]:
    """A function that creates an empty database (dropping what an earlier run left) and returns its URL."""
    from sqlalchemy import create_engine, text

    def make(name: str) -> str:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    return make


class RecordedLayoutEngine:
    """A layout engine replaying one raw output (as `RapidCdlaEngine.raw` gives), counting its calls."""

    def __init__(self, raw: dict) -> None:
        self.raw_output, self.calls = raw, 0

    def raw(self, image: np.ndarray) -> dict:
        self.calls += 1
        return self.raw_output


@pytest.fixture
def recorded_layout_engine() -> type[RecordedLayoutEngine]:
    """The class of a layout engine that replays a recorded output and counts how often it was asked."""
    return RecordedLayoutEngine
