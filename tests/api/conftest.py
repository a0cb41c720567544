"""Fixtures of the attacker's suite: the real app on the real PostgreSQL (database
nianbao_attack_test), two processed batches, and one account of every role.

The victim's batch belongs to one uploader and is assigned to one reviewer; the attackers are
another uploader and another reviewer, each with a batch of their own, and they probe the
victim's ids. Small limits (a 2 MiB archive, a 6 MiB quota, 20 members) keep the upload tests fast.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

# Database created (and dropped first) for this suite.
TEST_DB = os.environ.get("NIANBAO_TEST_API_DB", "nianbao_attack_test")  # another name keeps parallel runs apart
# Synthetic seed and documents: document 1 of seed 901 has a planted cell, so its batch has review items.
SEED = 901
VICTIM_DOC, OTHER_DOC = 1, 0
# The small upload limits of the suite, bytes.
MAX_UPLOAD = 2 * 1024 * 1024
QUOTA = 6 * 1024 * 1024
MAX_MEMBERS = 20
# Password of every account of the suite.
PASSWORD = "correct horse 1"


class RecordingDispatcher:
    """Keeps the ids of the batches the API enqueued (no broker in these tests)."""

    def __init__(self) -> None:
        self.enqueued: list[str] = []

    def enqueue_batch(self, batch_id: str) -> None:
        self.enqueued.append(batch_id)


@pytest.fixture(scope="session")
def attack_settings(tmp_path_factory, fresh_pg_database):
    from extractor.settings import DbSettings, ReviewSettings, Settings, StorageSettings
    from extractor.storage import upgrade_database

    url = fresh_pg_database(TEST_DB)
    upgrade_database(url)
    root = tmp_path_factory.mktemp("attack")
    (root / "import").mkdir()
    return Settings(
        db=DbSettings(url=url),
        storage=StorageSettings(root=root / "store", import_root=root / "import", max_upload_bytes=MAX_UPLOAD,
                                user_quota_bytes=QUOTA, max_archive_members=MAX_MEMBERS),
        review=ReviewSettings(secret_key="attack-test-key", lease_seconds=120),
    )


@pytest.fixture(scope="session")
def sessions(attack_settings):
    from extractor.storage import make_engine, make_sessionmaker

    engine = make_engine(attack_settings.db)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def dispatcher() -> RecordingDispatcher:
    return RecordingDispatcher()


@pytest.fixture(scope="session")
def app(attack_settings, dispatcher):
    from extractor.api import create_app

    return create_app(attack_settings, dispatcher=dispatcher)


def _process(settings, pdf: Path, name: str, out: Path) -> str:
    """Extract one report in-process and record it as a batch, as `nianbao extract` does."""
    from extractor.bulk import run_extract
    from extractor.pipeline import PipelineOptions
    from extractor.storage.embedded import EmbeddedRecorder

    recorder = EmbeddedRecorder.open(settings, [pdf], name, PipelineOptions().model_dump_json())
    try:
        run_extract([pdf], out, on_document=recorder.record)
    finally:
        recorder.close()
    return recorder.batch_id


def _account(session, role: str, tag: str):
    from extractor.review.accounts import create_user, issue_token
    from extractor.storage import UserRole

    email = f"{tag}-{uuid.uuid4().hex[:6]}@example.org"
    user = create_user(session, email, PASSWORD, UserRole(role))
    token_id, token = issue_token(session, user, tag)
    return SimpleNamespace(id=user.id, email=email, role=role, token=token, token_id=token_id, tag=tag)


@pytest.fixture(scope="session")
def world(attack_settings, sessions, tmp_path_factory):
    """The victim's batch with its ids, and every account (with an API token each)."""
    from sqlalchemy import select

    from extractor.review.accounts import assign
    from extractor.review.queue import queue_progress
    from extractor.storage import Batch, BatchDocument, ReviewItem, User
    from extractor.synth import generate

    pdfs = generate(n=max(VICTIM_DOC, OTHER_DOC) + 1, out=tmp_path_factory.mktemp("attack-synth"), seed=SEED,
                    level="digital")
    victim_batch = _process(attack_settings, pdfs[VICTIM_DOC], "victim", tmp_path_factory.mktemp("victim-out"))
    other_batch = _process(attack_settings, pdfs[OTHER_DOC], "other", tmp_path_factory.mktemp("other-out"))
    with sessions() as session:
        users = {
            "admin": _account(session, "admin", "admin"),
            "owner": _account(session, "uploader", "owner"),  # the victim's uploader
            "assignee": _account(session, "reviewer", "assignee"),  # reviews the victim's batch
            "other_uploader": _account(session, "uploader", "other-uploader"),
            "other_reviewer": _account(session, "reviewer", "other-reviewer"),
        }
        session.get(Batch, victim_batch).owner_id = users["owner"].id
        session.get(Batch, other_batch).owner_id = users["other_uploader"].id
        session.flush()
        for key, batch_id in (("assignee", victim_batch), ("other_reviewer", other_batch)):
            assign(session, batch_id, session.get(User, users[key].id))
        queue_progress(session, victim_batch)  # builds the review items
        document_id = session.scalar(select(BatchDocument.document_id).where(BatchDocument.batch_id == victim_batch))
        item_id = session.scalar(select(ReviewItem.id).where(ReviewItem.batch_id == victim_batch)
                                 .order_by(ReviewItem.priority, ReviewItem.id))
        session.commit()
    assert item_id is not None, "the victim's batch needs a review item"
    return SimpleNamespace(users=users, victim_batch=victim_batch, other_batch=other_batch,
                           document_id=document_id, item_id=item_id)
