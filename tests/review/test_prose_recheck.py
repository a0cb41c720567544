"""The prose cross-check after a review: re-run on the claims kept with the document (PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import select


def _misread(sessions, batch_id: str, position: int):
    """Turn a prose-confirmed field of the batch's `position`-th document into a misread.

    The stored value becomes the stated number + 1 and the document is validated again, as if the
    machine had read the cell wrong. Returns (document id, field id, stated number, item id).
    """
    from extractor.review.corrections import revalidate
    from extractor.storage import BatchDocument, CheckRow, Document, FieldRow, ReviewItem
    from extractor.storage.results import stored_claims
    from extractor.storage.review_view import copy_for_batch

    with sessions() as session:
        doc_ids = session.scalars(select(BatchDocument.document_id).where(BatchDocument.batch_id == batch_id)
                                  .order_by(BatchDocument.item_id)).all()
        document = session.get(Document, doc_ids[position])
        claim = stored_claims(document)[0]
        copy_for_batch(session, document.id, batch_id)  # what the batch's first decision does
        row = session.scalar(select(FieldRow).where(FieldRow.document_id == document.id,
                                                    FieldRow.batch_id == batch_id,
                                                    FieldRow.field_id == claim.field_id))
        assert row.value == claim.stated and row.status == "auto"
        row.value = float(claim.stated + 1)
        revalidate(session, document, batch_id)
        session.commit()
        check = session.scalar(select(CheckRow).where(CheckRow.document_id == document.id,
                                                      CheckRow.batch_id == batch_id,
                                                      CheckRow.identity == f"narrative.{claim.field_id}"))
        assert not check.ok and row.status == "flagged"
        assert any(r.startswith(f"prose states {claim.stated}") for r in row.reasons)
        item = session.scalar(select(ReviewItem).where(ReviewItem.document_id == document.id,
                                                       ReviewItem.field_id == claim.field_id))
        assert item.state == "pending"
        return document.id, claim.field_id, claim.stated, item.id


def _decide(sessions, user_ns, item_id: int, value):
    from extractor.review.corrections import decide
    from extractor.review.queue import acquire_lease, release_leases
    from extractor.storage import ReviewItem, User

    with sessions() as session:
        user = session.get(User, user_ns.id)
        item = session.get(ReviewItem, item_id)
        assert acquire_lease(session, item.document_id, item.group_key, user, 120)
        decide(session, user, item, value)
        release_leases(session, user)
        session.commit()


def _state(sessions, document_id: int, field_id: str):
    """(narrative check ok, field status, field reasons, item state) as stored now."""
    from extractor.storage import CheckRow, FieldRow, ReviewItem

    with sessions() as session:
        # The batch's copy (each test's document lives in the one prose batch).
        check = session.scalar(select(CheckRow).where(CheckRow.document_id == document_id, CheckRow.batch_id != "",
                                                      CheckRow.identity == f"narrative.{field_id}"))
        row = session.scalar(select(FieldRow).where(FieldRow.document_id == document_id, FieldRow.batch_id != "",
                                                    FieldRow.field_id == field_id))
        item = session.scalar(select(ReviewItem).where(ReviewItem.document_id == document_id,
                                                       ReviewItem.field_id == field_id))
        return check.ok, row.status, list(row.reasons), item.state


def test_a_correction_that_agrees_with_the_prose_clears_the_disagreement(sessions, prose_batch, make_user):
    # A field read one more than the prose states is flagged; the reviewer types the stated number.
    # The prose check holds again, the field is reviewed with a note, its item is done.
    from extractor.review.prose import PROSE_AGREES

    document_id, field_id, stated, item_id = _misread(sessions, prose_batch, 0)
    reviewer = make_user(batches=(prose_batch,))

    _decide(sessions, reviewer, item_id, stated)

    ok, status, reasons, item_state = _state(sessions, document_id, field_id)
    assert (ok, status, item_state) == (True, "reviewed", "done")
    assert reasons[-1] == PROSE_AGREES


def test_a_correction_that_contradicts_the_prose_goes_back_to_review_until_confirmed(sessions, prose_batch,
                                                                                     make_user):
    # The reviewer of a misread field types yet another number than the prose states (a typo),
    # then confirms it when the field comes back. The disagreement is raised and the item reopened;
    # the confirmation stands, with the check still failing.
    document_id, field_id, stated, item_id = _misread(sessions, prose_batch, 1)
    reviewer = make_user(batches=(prose_batch,))

    _decide(sessions, reviewer, item_id, stated + 10)
    ok, status, reasons, item_state = _state(sessions, document_id, field_id)
    assert (ok, status, item_state) == (False, "flagged", "pending")
    assert any(r.startswith(f"prose states {stated}") for r in reasons)

    _decide(sessions, reviewer, item_id, None)
    ok, status, _, item_state = _state(sessions, document_id, field_id)
    assert (ok, status, item_state) == (False, "reviewed", "done")
