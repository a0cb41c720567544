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
                session.add(ReviewItem(document_id=doc_p, field_id=field_id, batch_id=batch_id, priority=5,
                                       group_key="apply"))
        session.commit()
        q_before = export_batch(session, batch_q, ExportFormat.CSV, Layout.BOTH).zip_bytes()
        item = session.scalar(select(ReviewItem).where(ReviewItem.batch_id == batch_p, ReviewItem.field_id == field_id))
        assert acquire_lease(session, doc_p, item.group_key, user, 120)
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


def test_identities_accepted_and_metadata_decided_in_one_batch_stay_that_batchs(
        review_settings, sessions, make_user, tmp_path_factory, request):
    # One report in batches P and Q whose printed total is one too large and whose agency was read
    # as a title fragment. In P a reviewer accepts the total's broken identities as printed and types
    # the agency. P's export has the typed agency and P's total item is closed; Q accepts nothing,
    # exports the machine's agency byte for byte as before and still has both items pending.
    from extractor.export import ExportFormat, Layout, export_batch
    from extractor.review.corrections import Action, decide, revalidate
    from extractor.review.queue import (
        accepted_identities,
        acquire_lease,
        refresh_queue,
        release_leases,
    )
    from extractor.storage import BatchDocument, Document, FieldRow, ReviewItem, User
    from extractor.storage.review_view import MACHINE, view_meta
    from extractor.synth import generate

    process_batch = request.getfixturevalue("helpers_process_batch")
    pdfs = generate(n=1, out=tmp_path_factory.mktemp("own2-synth"), seed=9393, level="digital")
    batch_p = process_batch(review_settings, pdfs, "own2-p", tmp_path_factory.mktemp("own2-p"))
    batch_q = process_batch(review_settings, pdfs, "own2-q", tmp_path_factory.mktemp("own2-q"))
    reviewer = make_user(batches=(batch_p, batch_q))
    with sessions() as session:
        doc_id = session.scalar(select(BatchDocument.document_id).where(BatchDocument.batch_id == batch_p))
        document = session.get(Document, doc_id)
        row = session.scalar(select(FieldRow).where(FieldRow.document_id == doc_id, FieldRow.batch_id == MACHINE,
                                                    FieldRow.field_id == "apply.new_received.total"))
        row.value += 1  # as if printed so: the machine's reading, seen by both batches
        document.agency = "作报告为深入贯彻"
        session.flush()
        for batch_id in (batch_p, batch_q):
            revalidate(session, document, batch_id)
            refresh_queue(session, batch_id)
        session.commit()
        q_before = export_batch(session, batch_q, ExportFormat.CSV, Layout.BOTH).zip_bytes()

        def items(batch_id: str) -> dict[str, ReviewItem]:
            return {i.field_id: i for i in session.scalars(select(ReviewItem).where(
                ReviewItem.batch_id == batch_id, ReviewItem.document_id == doc_id))}

        p_items = items(batch_p)
        total = p_items["apply.new_received.total"]
        user = session.get(User, reviewer.id)
        assert acquire_lease(session, doc_id, total.group_key, user, 120)
        decide(session, user, total, action=Action.AS_PRINTED, reason="总计印错")
        assert acquire_lease(session, doc_id, "meta", user, 120)
        decide(session, user, p_items["meta.agency"], text="某某县自然资源局")
        release_leases(session, user)
        session.commit()

        assert any(name.startswith("apply.") for name in accepted_identities(session, doc_id, batch_p))
        assert accepted_identities(session, doc_id, batch_q) == set()
        assert view_meta(session, document, batch_p)[0] == "某某县自然资源局"
        assert view_meta(session, document, batch_q)[0] == "作报告为深入贯彻"
        q_items = items(batch_q)
        assert q_items[total.field_id].state == "pending" and q_items["meta.agency"].state == "pending"
        assert items(batch_p)[total.field_id].state == "done"
        p_after = export_batch(session, batch_p, ExportFormat.CSV, Layout.WIDE)
        header, values = p_after.files["dataset-wide.csv"].decode().splitlines()[:2]
        assert dict(zip(header.split(","), values.split(",")))["agency"] == "某某县自然资源局"
        assert export_batch(session, batch_q, ExportFormat.CSV, Layout.BOTH).zip_bytes() == q_before
