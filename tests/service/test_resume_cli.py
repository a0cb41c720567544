"""`nianbao resume`: an unknown batch is an error; a batch with nothing unfinished queues nothing."""

from __future__ import annotations

import sys

from typer.testing import CliRunner


def test_resume_names_an_unknown_batch_and_queues_nothing_for_a_finished_one(tmp_path, monkeypatch):
    # A SQLite store with one batch whose only document is done; `resume` on a wrong id, then on it.
    # Exit 1 naming the id; then "0 documents queued again" (no broker is needed for nothing).
    from extractor import settings as settings_module
    from extractor.cli import app
    from extractor.storage import (BatchDocument, Document, DocumentState, create_batch, make_engine,
                                   make_sessionmaker, upgrade_database)

    app_before = "workers.app" in sys.modules
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("NIANBAO_DB__URL", url)
    upgrade_database(url)
    with settings_module.scoped(settings_module.Settings()):
        factory = make_sessionmaker(make_engine(settings_module.get_settings().db))
        with factory() as session:
            batch = create_batch(session, "done")
            batch.state = "ingested"
            doc = Document(sha256="a" * 64, blob_key="inputs/a.pdf", kind="pdf", format="pdf", size=1,
                           state=DocumentState.DONE.value)
            session.add(doc)
            session.flush()
            session.add(BatchDocument(batch_id=batch.id, document_id=doc.id, item_id="a", source="a.pdf"))
            session.commit()
            batch_id = batch.id
        runner = CliRunner()
        missing = runner.invoke(app, ["resume", "nosuchbatch"])
        assert missing.exit_code == 1 and "no batch nosuchbatch" in missing.output
        done = runner.invoke(app, ["resume", batch_id])
        assert done.exit_code == 0 and "0 documents queued again" in done.output, done.output
    # Nothing to send, so the process's Celery app was not created (with this test's settings).
    assert ("workers.app" in sys.modules) == app_before
