"""Read and write what the pipeline produced: page records, document results, fields."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from extractor.datamodel import (
    CheckResult,
    DocumentInfo,
    DocumentResult,
    FieldStatus,
    FieldValue,
    PageRecord,
    ReportMeta,
)
from extractor.stages.validate import ProseClaim, prose_claims
from extractor.storage.models import CheckRow, Document, DocumentState, FieldRow, PageRow
from extractor.storage.review_view import META_KEYS, MACHINE, refresh_copies, view_checks, view_fields, view_meta
from extractor.storage.upsert import insert_ignore

_log = logging.getLogger(__name__)

# Name of the page stage in the pages table (the key of its idempotent upsert).
PAGE_STAGE = "understand_page"


def page_input_hash(sha256: str, index: int, fingerprint: str) -> str:
    """Key of a page's output: the file, the page, and the code, models and options that read it.

    The workers and an embedded run (``nianbao extract``) key pages alike, so a page one of them
    stored is found by the other.

    Args:
        sha256: the document file's hash.
        index: 0-based page.
        fingerprint: `extractor.pipeline.pipeline_fingerprint` of the pipeline that reads the page,
            so that a worker on new code or models reads the page again.
    """
    return hashlib.sha256(f"{PAGE_STAGE}\n{sha256}\n{index}\n{fingerprint}".encode()).hexdigest()


def finish_input_hash(page_hashes: list[str]) -> str:
    """Key of a document's assembly: the ordered page keys it was built from."""
    return hashlib.sha256("\n".join(page_hashes).encode()).hexdigest()


def find_page(session: Session, document_id: int, stage: str, input_hash: str) -> PageRow | None:
    return session.scalar(
        select(PageRow).where(
            PageRow.document_id == document_id, PageRow.stage == stage, PageRow.input_hash == input_hash
        )
    )


def save_page(
    session: Session,
    document_id: int,
    index: int,
    stage: str,
    input_hash: str,
    record: PageRecord | None,
    error: str | None = None,
    ocr: bool = False,
    worker: str = "",
    seconds: float = 0.0,
) -> bool:
    """Store a page's output once; a second save of the same inputs is ignored.

    Returns:
        True when this call stored it.
    """
    return insert_ignore(
        session,
        PageRow,
        {
            "document_id": document_id,
            "index": index,
            "stage": stage,
            "input_hash": input_hash,
            "record": record.model_dump(mode="json") if record is not None else None,
            "error": error,
            "ocr": ocr,
            "worker": worker,
            "seconds": seconds,
            "created_at": dt.datetime.now(dt.UTC),
        },
        ["document_id", "stage", "input_hash"],
    )


def save_result(session: Session, document: Document, result: DocumentResult, finish_hash: str,
                pages: list[PageRecord] | None = None) -> None:
    """Store a document's assembled result: meta, fields, checks, state; does not commit.

    Fields a person already reviewed are kept as they are: re-assembling a document (new
    pipeline options) must not undo a correction.

    Args:
        session: an open session.
        document: the stored document.
        result: what ``Pipeline.finish`` returned.
        finish_hash: key of the page inputs it was assembled from (:func:`finish_input_hash`).
        pages: the page records it was assembled from; the numbers their prose states are kept
            so a review re-runs the prose check (None keeps none).
    """
    machine = FieldRow.batch_id == MACHINE
    reviewed = {
        f.field_id
        for f in session.scalars(
            select(FieldRow).where(FieldRow.document_id == document.id, machine,
                                   FieldRow.status == FieldStatus.REVIEWED.value)
        )
    }
    session.execute(
        delete(FieldRow).where(FieldRow.document_id == document.id, machine, FieldRow.field_id.not_in(reviewed))
    )
    session.execute(delete(CheckRow).where(CheckRow.document_id == document.id, CheckRow.batch_id == MACHINE))
    for field_id, value in result.fields.items():
        if field_id in reviewed:
            continue
        session.add(
            FieldRow(
                document_id=document.id,
                field_id=field_id,
                value=None if value.value is None else float(value.value),
                raw=value.raw,
                status=value.status.value,
                confidence=value.confidence,
                page=value.page,
                bbox=value.bbox,
                reasons=list(value.reasons),
                suggestion=None if value.suggestion is None else float(value.suggestion),
            )
        )
    for check in result.checks:
        session.add(
            CheckRow(document_id=document.id, identity=check.identity, ok=check.ok,
                     fields=list(check.fields), detail=check.detail)
        )
    document.result = result.model_dump(mode="json")
    document.prose_claims = (
        None if pages is None else [dataclasses.asdict(c) for c in prose_claims(result.fields, pages)]
    )
    document.template = result.template
    document.agency = result.meta.agency
    document.year = result.meta.year
    document.published = result.meta.published
    document.pages = result.document.pages
    document.finish_hash = finish_hash
    document.finished_at = dt.datetime.now(dt.UTC)
    if result.template is None:
        document.state = DocumentState.FAILED.value
        document.error = "; ".join(result.errors) or "no template recognised"
    else:
        document.state = DocumentState.DONE.value
        document.error = None
    # Batches that reviewed the document take the new result but for the fields they decided.
    refresh_copies(session, document.id, FieldStatus.REVIEWED.value)


def mark_failed(session: Session, document: Document, error: str) -> None:
    """Record why a document could not be processed; does not commit."""
    document.state = DocumentState.FAILED.value
    document.error = error
    document.finished_at = dt.datetime.now(dt.UTC)


def stored_result(session: Session, document: Document, item_id: str | None = None,
                  source: str | None = None, batch_id: str | None = None) -> DocumentResult:
    """The document's result as it stands now: stored meta and checks, fields as reviewed.

    Args:
        session: an open session.
        document: the stored document.
        item_id: the id to report (a batch item's id); the stored result's id when None.
        source: the source to report; the stored result's when None.
        batch_id: whose review: that batch's copy and decided metadata when it has them
            (storage.review_view); the machine's when None.
    """
    base = DocumentResult.model_validate(document.result) if document.result else None
    info = base.document if base else DocumentInfo(id=str(document.id), source="", sha256=document.sha256)
    info = info.model_copy(update={k: v for k, v in (("id", item_id), ("source", source)) if v is not None})
    fields = {row.field_id: field_value(row) for row in view_fields(session, document.id, batch_id)}
    order = list(base.fields) if base else []
    ordered = {k: fields[k] for k in order if k in fields} | {k: v for k, v in sorted(fields.items()) if k not in order}
    checks = [
        CheckResult(identity=c.identity, ok=c.ok, fields=list(c.fields), detail=c.detail)
        for c in view_checks(session, document.id, batch_id)
    ]
    errors = list(base.errors) if base else ([document.error] if document.error else [])
    return DocumentResult(
        document=info,
        template=document.template,
        meta=ReportMeta(**dict(zip(META_KEYS, view_meta(session, document, batch_id)))),
        fields=ordered,
        checks=checks,
        errors=errors,
    )


def stored_claims(document: Document) -> list[ProseClaim] | None:
    """The prose claims kept with the document's result; None when none were kept."""
    if document.prose_claims is None:
        return None
    return [ProseClaim(**claim) for claim in document.prose_claims]


def field_value(row: FieldRow) -> FieldValue:
    """A stored field as the pipeline's record (its reasons a copy: validation appends to them)."""
    return FieldValue(
        value=stored_number(row.value), raw=row.raw, confidence=row.confidence, status=FieldStatus(row.status),
        page=row.page, bbox=row.bbox, reasons=list(row.reasons or []), suggestion=stored_number(row.suggestion),
    )


def stored_number(value: float | None) -> int | float | None:
    """Counts come back from a float column as floats; give integers back their type."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value
