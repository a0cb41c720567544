"""How far a batch has come: documents by state, pages done, pages per minute."""

from __future__ import annotations

import datetime as dt
import logging

from pydantic import BaseModel, Field
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from extractor.storage.models import Batch, BatchDocument, BatchState, Document, DocumentState, InputErrorRow, PageRow

_log = logging.getLogger(__name__)

# Document states that need no more work.
_FINAL = (DocumentState.DONE.value, DocumentState.FAILED.value)


class BatchProgress(BaseModel):
    """A batch's progress, as the API returns it and the CLI draws it."""

    batch_id: str
    name: str
    state: str = Field(description="received | ingested | failed (ingestion), see `finished` for processing")
    error: str | None = None
    files: int = Field(description="report files in the batch, duplicates included")
    documents: int = Field(description="distinct documents (identical files counted once)")
    by_state: dict[str, int] = Field(description="documents per state: queued, processing, done, failed")
    input_errors: int = Field(description="inputs that did not become documents")
    pages_total: int | None = Field(description="pages of the documents opened so far; None before any is")
    pages_done: int
    pages_per_minute: float | None = Field(
        description="pages computed for this batch per minute, from submission to the latest page "
        "(to now while running); None before the first page"
    )
    finished: bool = Field(description="ingested and every document done or failed")
    created_at: dt.datetime


def batch_progress(session: Session, batch_id: str, now: dt.datetime | None = None) -> BatchProgress | None:
    """The progress of one batch, or None when there is no such batch."""
    batch = session.get(Batch, batch_id)
    if batch is None:
        return None
    now = now or dt.datetime.now(dt.UTC)
    # Three queries in all: a status request is the API's most frequent (see `nianbao bench-load`).
    doc_ids = select(BatchDocument.document_id).where(BatchDocument.batch_id == batch_id).scalar_subquery()
    files, errors = session.execute(select(
        select(func.count()).select_from(BatchDocument).where(BatchDocument.batch_id == batch_id).scalar_subquery(),
        select(func.count()).select_from(InputErrorRow).where(InputErrorRow.batch_id == batch_id).scalar_subquery(),
    )).one()
    by_state = {s.value: 0 for s in DocumentState}
    pages_total = None
    for state, count, pages in session.execute(
        select(Document.state, func.count(), func.sum(Document.pages)).where(Document.id.in_(doc_ids))
        .group_by(Document.state)
    ):
        by_state[state] = count
        if pages is not None:
            pages_total = (pages_total or 0) + int(pages)
    # Rate over the pages computed since this batch arrived; pages of documents already known
    # from an earlier batch cost nothing and are left out.
    created = _aware(batch.created_at)
    recent = PageRow.created_at >= batch.created_at
    pages_done, fresh, last = session.execute(
        select(func.count(distinct(PageRow.document_id * 100_000 + PageRow.index)), func.count().filter(recent),
               func.max(PageRow.created_at).filter(recent)).where(PageRow.document_id.in_(doc_ids))
    ).one()
    documents = sum(by_state.values())
    finished = batch.state == BatchState.FAILED.value or (
        batch.state == BatchState.INGESTED.value and sum(by_state[s] for s in _FINAL) == documents
    )
    rate = None
    if fresh:
        end = _aware(last) if finished else now
        minutes = max((end - created).total_seconds() / 60.0, 1e-6)
        rate = round(fresh / minutes, 2)
    return BatchProgress(
        batch_id=batch.id,
        name=batch.name,
        state=batch.state,
        error=batch.error,
        files=files or 0,
        documents=documents,
        by_state=by_state,
        input_errors=errors or 0,
        pages_total=pages_total,
        pages_done=pages_done or 0,
        pages_per_minute=rate,
        finished=finished,
        created_at=created,
    )


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
