"""A worker killed mid-batch loses nothing and repeats nothing (acks_late, the reconciler, idempotent steps)."""

from __future__ import annotations

from sqlalchemy import func, select


def test_killed_worker_restarted_finishes_every_document_exactly_once(service_env, sessions, start_worker, helpers,
                                                                       tmp_path):
    # Three reports queued; the only worker is SIGKILLed right after the first page is stored.
    # A new worker finishes the batch: every document done, one record per page, fields as in-process.
    from extractor.settings import get_settings
    from extractor.storage import BatchDocument, ContentStore, Document, FieldRow, PageRow, create_batch, register_inputs
    from workers.dispatch import enqueue_documents
    from workers.process import stop_worker
    from workers.reconcile import reconcile

    pdfs = helpers.make_reports(tmp_path / "reports", 3, seed=503)
    with sessions() as session:
        batch = create_batch(session, "crash", source_path=str(tmp_path / "reports"))
        todo = register_inputs(session, ContentStore(get_settings().storage.root), batch, pdfs)
        session.commit()
    enqueue_documents(todo)

    first = start_worker("w1")
    killed_at = helpers.wait_finished(sessions, batch.id, until=lambda p: p.pages_done >= 1)
    stop_worker(first, kill=True)
    assert not killed_at.finished
    start_worker("w2")
    # Redis hands back what w1 held unacknowledged after the visibility timeout. A message w1's BRPOP
    # had taken off the queue but not yet recorded as unacknowledged when it died is lost to the broker:
    # the reconciler (beat in a deployment) queues its document again once it is stuck.
    stuck_after = 3 * int(service_env["NIANBAO_CELERY__VISIBILITY_TIMEOUT"])
    reconciler = get_settings().celery.model_copy(update={"stuck_after": stuck_after})
    progress = helpers.wait_finished(sessions, batch.id, sweep=lambda session: reconcile(session, reconciler))

    assert progress.by_state["done"] == 3 and progress.pages_done == progress.pages_total
    embedded = helpers.inprocess_values(pdfs)
    with sessions() as session:
        for item in session.scalars(select(BatchDocument).where(BatchDocument.batch_id == batch.id)):
            doc: Document = item.document
            indexes = session.scalars(select(PageRow.index).where(PageRow.document_id == doc.id)).all()
            assert sorted(indexes) == list(range(doc.pages))
            fields = {f.field_id: f.value for f in session.scalars(select(FieldRow).where(FieldRow.document_id == doc.id))}
            expected = embedded[item.item_id]
            assert fields == {k: (None if v is None else float(v)) for k, v in expected.items()}
            assert session.scalar(select(func.count()).select_from(FieldRow).where(FieldRow.document_id == doc.id)) == len(expected)
