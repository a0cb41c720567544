"""/documents: one stored report's result as it stands after review."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from extractor.api.deps import get_db_session
from extractor.datamodel import DocumentResult
from extractor.storage import BatchDocument, Document
from extractor.storage.results import stored_result

_log = logging.getLogger(__name__)

router = APIRouter(prefix="/documents", tags=["documents"])


@router.get("/{document_id}", response_model=DocumentResult)
def get_document(document_id: int, session: Annotated[Session, Depends(get_db_session)]) -> DocumentResult:
    """The document's fields (with source page and box), checks and errors."""
    doc = session.get(Document, document_id)
    if doc is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such document")
    item = session.scalars(
        select(BatchDocument).where(BatchDocument.document_id == document_id).order_by(BatchDocument.id)
    ).first()
    return stored_result(session, doc, item.item_id if item else None, item.source if item else None)
