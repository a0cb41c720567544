"""The records the reviewer page shows: the current item, and a document laid out as its template."""

from __future__ import annotations

import datetime as dt
import logging

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from extractor.datamodel import CheckResult
from extractor.storage import BatchDocument, Document, FieldRow, ReviewItem, ReviewLease
from extractor.storage.review_view import view_checks, view_fields, view_of
from extractor.storage.results import stored_number
from extractor.templates import get_template

_log = logging.getLogger(__name__)


class ReviewItemOut(BaseModel):
    """One field to confirm or correct, with what a reviewer needs to decide."""

    id: int
    batch_id: str
    document_id: int
    source: str | None = Field(description="the report file as named in its batch")
    field_id: str
    section: str
    group: str | None
    row_label: str
    col_label: str
    label_en: str
    allowed: str = Field("", description="the values a reviewer may type: type and plausible range (field contract)")
    value: int | float | None = Field(description="the value as read (printed)")
    raw: str | None = Field(description="the cell text as read")
    suggestion: int | float | None = Field(description="the value the identities imply, if one cell explains them")
    confidence: float | None
    status: str
    reasons: list[str]
    page: int | None
    bbox: list[float] | None
    priority: int
    state: str
    crop_url: str | None = Field(description="PNG of the page around the cell, the cell outlined")
    lease_expires_at: dt.datetime | None


class CellOut(BaseModel):
    field_id: str | None  # None: no such cell in this row
    value: int | float | None = None
    raw: str | None = None
    status: str | None = None
    suggestion: int | float | None = None


class RowOut(BaseModel):
    key: str
    label: str
    cells: list[CellOut]


class TableOut(BaseModel):
    """One table of the template (section 二 has one per 第二十条 group)."""

    title: str
    cols: list[str]  # column labels
    rows: list[RowOut]


class DocumentView(BaseModel):
    document_id: int
    source: str | None
    template: str | None
    agency: str | None
    year: int | None
    tables: list[TableOut]
    checks: list[CheckResult]


def item_out(session: Session, item: ReviewItem) -> ReviewItemOut:
    document = session.get(Document, item.document_id)
    row = session.scalar(
        select(FieldRow).where(FieldRow.document_id == item.document_id, FieldRow.field_id == item.field_id,
                               FieldRow.batch_id == view_of(session, item.document_id, item.batch_id))
    )
    definition = get_template(document.template).fields[item.field_id]
    lease = session.get(ReviewLease, item.document_id, populate_existing=True)
    return ReviewItemOut(
        id=item.id, batch_id=item.batch_id, document_id=item.document_id, source=_source(session, document.id),
        field_id=item.field_id, section=definition.section, group=definition.group, row_label=definition.row_label,
        col_label=definition.col_label, label_en=definition.label_en, allowed=definition.allowed(),
        value=stored_number(row.value), raw=row.raw,
        suggestion=stored_number(row.suggestion), confidence=row.confidence, status=row.status,
        reasons=list(row.reasons or []), page=row.page, bbox=row.bbox, priority=item.priority, state=item.state,
        crop_url=f"/review/api/items/{item.id}/crop.png" if row.bbox is not None and row.page is not None else None,
        lease_expires_at=lease.expires_at if lease else None,
    )


def document_view(session: Session, document: Document, batch_id: str | None = None) -> DocumentView:
    """The document's fields laid out as the template's tables, and its checks, as batch `batch_id`
    sees them (its reviewed copy when it has one; the machine's when None)."""
    rows = {r.field_id: r for r in view_fields(session, document.id, batch_id)}
    checks = [
        CheckResult(identity=c.identity, ok=c.ok, fields=list(c.fields), detail=c.detail)
        for c in view_checks(session, document.id, batch_id)
    ]
    tables: list[TableOut] = []
    if document.template:
        template = get_template(document.template)
        groups: dict[tuple[str, str | None], list] = {}
        for definition in template.fields.values():
            groups.setdefault((definition.section, definition.group), []).append(definition)
        for (section, group), defs in groups.items():
            cols = list(dict.fromkeys(d.col for d in defs))
            col_labels = {d.col: d.col_label for d in defs}
            row_keys = list(dict.fromkeys(d.row for d in defs))
            by_cell = {(d.row, d.col): d for d in defs}
            table_rows = []
            for key in row_keys:
                label = next(d.row_label for d in defs if d.row == key)
                cells = []
                for col in cols:
                    d = by_cell.get((key, col))
                    r = rows.get(d.id) if d else None
                    cells.append(CellOut(field_id=d.id if d else None, value=stored_number(r.value) if r else None,
                                         raw=r.raw if r else None, status=r.status if r else None,
                                         suggestion=stored_number(r.suggestion) if r else None))
                table_rows.append(RowOut(key=key, label=label, cells=cells))
            title = template.section_titles.get(section, section) + (f" · {group}" if group else "")
            tables.append(TableOut(title=title, cols=[col_labels[c] for c in cols], rows=table_rows))
    return DocumentView(document_id=document.id, source=_source(session, document.id), template=document.template,
                        agency=document.agency, year=document.year, tables=tables, checks=checks)


def _source(session: Session, document_id: int) -> str | None:
    return session.scalar(
        select(BatchDocument.source).where(BatchDocument.document_id == document_id).order_by(BatchDocument.id)
    )
