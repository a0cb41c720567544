"""/documents: one stored report's result as it stands after review."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from extractor.api.deps import CurrentUser, get_db_session, require_document
from extractor.datamodel import DocumentResult
from extractor.storage import BatchDocument
from extractor.storage.results import stored_result

_log = logging.getLogger(__name__)

router = APIRouter(prefix="/documents", tags=["documents"])


@router.get("/{document_id}", response_model=DocumentResult)
def get_document(document_id: int, user: CurrentUser,
                 session: Annotated[Session, Depends(get_db_session)]) -> DocumentResult:
    """The document's fields (with source page and box), checks and errors (404 outside the caller's batches)."""
    doc = require_document(session, user, document_id)
    from extractor.review.accounts import visible_batches

    query = select(BatchDocument).where(BatchDocument.document_id == document_id).order_by(BatchDocument.id)
    allowed = visible_batches(session, user)
    if allowed is not None:
        # Its name in a batch the caller sees: another batch's file names are not theirs to read.
        query = query.where(BatchDocument.batch_id.in_(allowed))
    item = session.scalars(query).first()
    # As that batch sees it: its own review, when it made one.
    return stored_result(session, doc, item.item_id if item else None, item.source if item else None,
                         batch_id=item.batch_id if item else None)
