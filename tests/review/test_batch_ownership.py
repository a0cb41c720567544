"""Reviews belong to batches: the same report in two batches is reviewed in each on its own (PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import select


def test_a_correction_in_one_batch_leaves_the_other_batchs_export_queue_and_view(
        review_settings, sessions, make_user, tmp_path_factory, request):
    # One report recorded in batch P and in batch Q (one Document: same bytes). A reviewer corrects a
    # field to 4242 in P. P exports 4242; Q's export is byte for byte what it was, its item still pending.
    from extractor.export import ExportFormat, Layout, export_batch
    from extractor.review.corrections import decide
    from extractor.review.queue import acquire_lease, next_item, release_leases
    from extractor.review.views import document_view
    from extractor.storage import BatchDocument, Document, ReviewItem, User
    from extractor.synth import generate

    process_batch = request.getfixturevalue("helpers_process_batch")
    pdfs = generate(n=1, out=tmp_path_factory.mktemp("own-synth"), seed=9292, level="digital")
    batch_p = process_batch(review_settings, pdfs, "own-p", tmp_path_factory.mktemp("own-p"))
    batch_q = process_batch(review_settings, pdfs, "own-q", tmp_path_factory.mktemp("own-q"))
    reviewer = make_user(batches=(batch_p, batch_q))
    field_id = "apply.new_received.natural_person"
    with sessions() as session:
        doc_p, doc_q = (session.scalar(select(BatchDocument.document_id).where(BatchDocument.batch_id == b))
                        for b in (batch_p, batch_q))
        assert doc_p == doc_q  # one document, listed by both batches
        user = session.get(User, reviewer.id)
        for batch_id in (batch_p, batch_q):
            next_item(session, user, batch_id, 120)  # builds each batch's queue
            release_leases(session, user)
            if session.scalar(select(ReviewItem).where(ReviewItem.batch_id == batch_id,
                                                       ReviewItem.field_id == field_id)) is None:
                # The report read cleanly: queue the field in both batches as a flag would.
                session.add(ReviewItem(document_id=doc_p, field_id=field_id, batch_id=batch_id, priority=5))
        session.commit()
        q_before = export_batch(session, batch_q, ExportFormat.CSV, Layout.BOTH).zip_bytes()
        item = session.scalar(select(ReviewItem).where(ReviewItem.batch_id == batch_p, ReviewItem.field_id == field_id))
        assert acquire_lease(session, doc_p, user, 120)
        decide(session, user, item, 4242, "typed in P")
        release_leases(session, user)
        session.commit()

        p_after = export_batch(session, batch_p, ExportFormat.CSV, Layout.WIDE)
        q_after = export_batch(session, batch_q, ExportFormat.CSV, Layout.BOTH)
        header, row = p_after.files["dataset-wide.csv"].decode().splitlines()[:2]
        assert dict(zip(header.split(","), row.split(",")))[field_id] == "4242"
        assert q_after.zip_bytes() == q_before  # Q's export unchanged
        q_item = session.scalar(select(ReviewItem).where(ReviewItem.batch_id == batch_q, ReviewItem.field_id == field_id))
        assert q_item.state == "pending"  # Q's reviewers still decide it themselves
        document = session.get(Document, doc_p)
        cells = {c.field_id: c for t in document_view(session, document, batch_q).tables for r in t.rows
                 for c in r.cells if c.field_id}
        assert cells[field_id].value != 4242 and cells[field_id].status != "reviewed"
        cells_p = {c.field_id: c for t in document_view(session, document, batch_p).tables for r in t.rows
                   for c in r.cells if c.field_id}
        assert (cells_p[field_id].value, cells_p[field_id].status) == (4242, "reviewed")
