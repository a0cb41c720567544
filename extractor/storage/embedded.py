"""Record an embedded run (``nianbao extract``) in the store, as the service would have.

The service registers a batch's inputs (:func:`register_inputs`: files stored by hash, one
Document per distinct file), stores each page record (:func:`save_page`) and the assembled
result (:func:`save_result`). An embedded run computes the same things in one process; this
module writes them with those same functions, so ``nianbao serve`` lists, reviews and exports
an extracted batch exactly like a submitted one. Review items are built from the stored fields
when the batch's queue is first read (:mod:`extractor.review.queue`), as for the service.

Re-running extract on the same input records into the same batch and adds nothing new: a
document whose result is stored under the same page keys is left as it is, reviews included.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from extractor.datamodel import DocumentResult, PageRecord
from extractor.ingest import InputDocument
from extractor.settings import Settings
from extractor.storage.blobs import ContentStore
from extractor.storage.db import ensure_schema, make_engine, make_sessionmaker, session_scope
from extractor.storage.models import Batch, Document, DocumentState
from extractor.storage.register import create_batch, register_inputs
from extractor.storage.results import PAGE_STAGE, finish_input_hash, page_input_hash, save_page, save_result

_log = logging.getLogger(__name__)

# Document states that need no more work.
_FINAL = (DocumentState.DONE.value, DocumentState.FAILED.value)


class EmbeddedRecorder:
    """Writes the documents of one ``extract`` run into one batch of the store.

    Use :meth:`open`, pass :meth:`record` to ``run_extract(on_document=...)``, then :meth:`close`.
    """

    def __init__(self, sessions: sessionmaker[Session], batch_id: str, batch_name: str, options_json: str) -> None:
        self._sessions = sessions
        self.batch_id = batch_id
        self.batch_name = batch_name
        self._options_json = options_json
        self._worker = f"{socket.gethostname()}:{os.getpid()}"
        self.recorded = 0  # documents whose result this run stored
        self.kept = 0  # documents already stored under the same page keys (left as they were)

    @classmethod
    def open(cls, settings: Settings, paths: list[Path], name: str, options_json: str) -> EmbeddedRecorder:
        """Prepare the store and register `paths` into a batch (reused when the same run came before).

        Steps:
            1. The schema is created (SQLite) or checked (a server database).
            2. A batch of the same name and inputs is reused, else one is created.
            3. The inputs are registered with :func:`register_inputs`: files copied into the
               content store, a Document per distinct SHA-256, shared with earlier batches.

        Args:
            settings: where the database and the content store are.
            paths: the run's inputs, as given to ``run_extract``.
            name: the batch's name.
            options_json: `extractor.pipeline.pipeline_fingerprint` of the run (part of the page keys).

        Raises:
            RuntimeError: a server database needs ``nianbao migrate`` first.
        """
        ensure_schema(settings.db.url)
        sessions = make_sessionmaker(make_engine(settings.db))
        source = ", ".join(str(p.resolve()) for p in paths)
        with session_scope(sessions) as session:
            batch = _same_batch(session, name, source) or create_batch(session, name, source_path=source)
            register_inputs(session, ContentStore(settings.storage.root), batch, list(paths))
            batch_id = batch.id
        _log.info("recording into batch %s (%s)", batch_id, name)
        return cls(sessions, batch_id, name, options_json)

    def holds(self, doc: InputDocument, result: DocumentResult) -> bool:
        """Whether the store has `doc`'s result under the page keys of this run (`run_extract`'s
        `is_done`: a result kept from an earlier run must be in the store too)."""
        with session_scope(self._sessions) as session:
            document = session.scalar(select(Document).where(Document.sha256 == doc.sha256))
            held = document is not None and self._is_stored(document, result)
        self.kept += held
        return held

    def _is_stored(self, document: Document, result: DocumentResult) -> bool:
        return document.finish_hash == self._finish_key(document.sha256, result) and document.state in _FINAL

    def _finish_key(self, sha256: str, result: DocumentResult) -> str:
        return finish_input_hash(
            [page_input_hash(sha256, i, self._options_json) for i in range(result.document.pages or 0)]
        )

    def record(self, doc: InputDocument, result: DocumentResult, pages: list[PageRecord]) -> None:
        """Store one document's page records and result (once per set of page inputs); commits."""
        with session_scope(self._sessions) as session:
            document = session.scalar(select(Document).where(Document.sha256 == doc.sha256))
            if document is None:
                # register_inputs saw the same files; a file changed on disk since then.
                _log.warning("%s is not registered (changed during the run?); not recorded", doc.source)
                return
            if self._is_stored(document, result):
                self.kept += 1
                return
            keys = [page_input_hash(doc.sha256, i, self._options_json) for i in range(result.document.pages or 0)]
            finish_key = finish_input_hash(keys)
            document.started_at = document.started_at or dt.datetime.now(dt.UTC)
            for page in pages:
                save_page(session, document.id, page.index, PAGE_STAGE, keys[page.index], page,
                          ocr="ocr" in page.timings or "ocr_cells" in page.timings,
                          worker=self._worker, seconds=sum(page.timings.values()))
            save_result(session, document, result, finish_key, pages=pages)
            self.recorded += 1

    def close(self) -> None:
        self._sessions.kw["bind"].dispose()

    def describe(self, database_url: str) -> str:
        """What was recorded and how to review it, for the terminal."""
        where = database_url.split("@")[-1]
        return (f"batch {self.batch_id} ({self.batch_name}) in {where}: {self.recorded} documents recorded, "
                f"{self.kept} already there; review with `nianbao serve` (assign reviewers with "
                f"`nianbao assign {self.batch_id} EMAIL`)")


def _same_batch(session: Session, name: str, source: str) -> Batch | None:
    """The latest batch with this name read from the same inputs (a re-run of one command)."""
    return session.scalar(
        select(Batch)
        .where(Batch.name == name, Batch.source_path == source, Batch.source_key.is_(None))
        .order_by(Batch.created_at.desc())
        .limit(1)
    )
