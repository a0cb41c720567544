"""Review fixtures: the real PostgreSQL (database nianbao_review_test), born-digital synthetic
reports processed in-process into its store, and users.

The reports come from seed 901, whose documents 1, 2 and 7 each carry one deliberately wrong
printed cell (planted), so their queue holds a cell with a repair suggestion.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

# Database created (and dropped first) for the review tests; apart from the service tests' one
# (NIANBAO_TEST_REVIEW_DB: another name keeps parallel runs apart).
TEST_DB = os.environ.get("NIANBAO_TEST_REVIEW_DB", "nianbao_review_test")
# Run seed and document indexes of the synthetic reports used here (each has a planted cell).
SEED = 901
# Documents of the queue tests and of the browser test.
QUEUE_DOCS = (1, 2)
BROWSER_DOCS = (7,)
# Unplanted documents of the prose re-check tests, one per test.
PROSE_DOCS = (0, 3)
# Unplanted documents of the decision tests (API) and of the second browser test, one batch each.
DECISION_DOCS = (4,)
BROWSER_DECISION_DOCS = (5,)


@pytest.fixture(scope="session")
def review_settings(tmp_path_factory, fresh_pg_database):
    from extractor.settings import DbSettings, ReviewSettings, Settings, StorageSettings
    from extractor.storage import upgrade_database

    url = fresh_pg_database(TEST_DB)
    upgrade_database(url)
    return Settings(
        db=DbSettings(url=url),
        storage=StorageSettings(root=tmp_path_factory.mktemp("review-store")),
        review=ReviewSettings(secret_key="review-test-key", lease_seconds=120),
    )


@pytest.fixture(scope="session")
def sessions(review_settings):
    from extractor.storage import make_engine, make_sessionmaker

    engine = make_engine(review_settings.db)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def synth_reports(tmp_path_factory) -> list[Path]:
    from extractor.synth import generate

    return generate(n=max(QUEUE_DOCS + BROWSER_DOCS) + 1, out=tmp_path_factory.mktemp("synth"), seed=SEED,
                    level="digital")


def process_batch(settings, pdfs: list[Path], name: str, out: Path) -> str:
    """Extract `pdfs` in-process into `out` and record them as a batch, as `nianbao extract` does."""
    from extractor.bulk import run_extract
    from extractor.pipeline import PipelineOptions
    from extractor.storage.embedded import EmbeddedRecorder

    recorder = EmbeddedRecorder.open(settings, pdfs, name, PipelineOptions().model_dump_json())
    try:
        run_extract(pdfs, out, on_document=recorder.record)
    finally:
        recorder.close()
    return recorder.batch_id


@pytest.fixture(scope="session")
def queue_batch(review_settings, synth_reports, tmp_path_factory) -> str:
    return process_batch(review_settings, [synth_reports[i] for i in QUEUE_DOCS], "queue-test",
                         tmp_path_factory.mktemp("queue-out"))


@pytest.fixture(scope="session")
def browser_batch(review_settings, synth_reports, tmp_path_factory) -> str:
    return process_batch(review_settings, [synth_reports[i] for i in BROWSER_DOCS], "browser-test",
                         tmp_path_factory.mktemp("browser-out"))


@pytest.fixture(scope="session")
def prose_batch(review_settings, synth_reports, tmp_path_factory) -> str:
    return process_batch(review_settings, [synth_reports[i] for i in PROSE_DOCS], "prose-test",
                         tmp_path_factory.mktemp("prose-out"))


@pytest.fixture(scope="session")
def decisions_batch(review_settings, synth_reports, tmp_path_factory) -> str:
    return process_batch(review_settings, [synth_reports[i] for i in DECISION_DOCS], "decisions-test",
                         tmp_path_factory.mktemp("decisions-out"))


@pytest.fixture(scope="session")
def browser_decisions_batch(review_settings, synth_reports, tmp_path_factory) -> str:
    return process_batch(review_settings, [synth_reports[i] for i in BROWSER_DECISION_DOCS], "browser-decisions",
                         tmp_path_factory.mktemp("browser-decisions-out"))


def break_total(sessions, batch_id: str, field_id: str = "apply.new_received.total", by: int = 1,
                agency: str | None = None) -> int:
    """Make the batch's document a report whose own total does not add up: `field_id` printed `by` more.

    The document is validated again (as if the machine had read it so); with `agency`, its
    agency becomes that text. Returns the document id.
    """
    from extractor.review.corrections import revalidate
    from extractor.storage import BatchDocument, Document, FieldRow
    from extractor.storage.review_view import MACHINE

    with sessions() as session:
        from sqlalchemy import select

        doc_id = session.scalar(select(BatchDocument.document_id).where(BatchDocument.batch_id == batch_id))
        document = session.get(Document, doc_id)
        # The machine's row (batch copies are made from it when a batch first decides).
        row = session.scalar(select(FieldRow).where(FieldRow.document_id == doc_id, FieldRow.batch_id == MACHINE,
                                                    FieldRow.field_id == field_id))
        row.value = float(row.value + by)
        if agency is not None:
            document.agency = agency
        revalidate(session, document, batch_id)
        session.commit()
        return doc_id


@pytest.fixture(scope="session")
def bounds_batch(review_settings, tmp_path_factory) -> str:
    """A batch of its own (one digital report, seed 9191) for the range tests: no other test leases it."""
    from extractor.synth import generate

    pdfs = generate(n=1, out=tmp_path_factory.mktemp("bounds-synth"), seed=9191, level="digital")
    return process_batch(review_settings, pdfs, "bounds-test", tmp_path_factory.mktemp("bounds-out"))


@pytest.fixture
def make_user(sessions):
    """Create an account with a unique e-mail: make_user(role, batches=(...)) → SimpleNamespace."""
    from extractor.review.accounts import assign, create_user
    from extractor.storage import UserRole

    def _make(role: str = "reviewer", batches: tuple[str, ...] = (), password: str = "correct horse 1"):
        email = f"{role}-{uuid.uuid4().hex[:8]}@example.org"
        with sessions() as session:
            user = create_user(session, email, password, UserRole(role))
            for batch_id in batches:
                assign(session, batch_id, user)
            session.commit()
            return SimpleNamespace(id=user.id, email=email, password=password)

    return _make


@pytest.fixture
def helpers_process_batch():
    """:func:`process_batch`, for test modules (test files cannot import conftest under importlib)."""
    return process_batch
