"""The records the reviewer page shows: the current item (a field, an identity with its cells,
or a metadata value), the picture that goes with it, and a document laid out as its template."""

from __future__ import annotations

import datetime as dt
import logging

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from collections import Counter

from extractor.datamodel import CheckResult, PageRecord
from extractor.review.images import ItemPicture, union
from extractor.review.meta import META_KEYS, META_LABELS, check_meta, locate
from extractor.review.queue import IDENTITY_PREFIX, META_PREFIX, accepted_identities, lease_of
from extractor.storage import BatchDocument, CheckRow, Document, FieldRow, ItemKind, PageRow, ReviewItem
from extractor.storage.results import stored_number
from extractor.storage.review_view import view_checks, view_fields, view_meta
from extractor.templates import get_template

_log = logging.getLogger(__name__)


class IdentityCellOut(BaseModel):
    """A cell of an identity shown with its item."""

    field_id: str
    label: str  # row / column label
    value: int | float | None
    status: str
    suggestion: int | float | None
    side: str  # "lhs" (the total) or "rhs" (its parts)


class IdentityOut(BaseModel):
    name: str
    detail: str  # what does not add up, as the check says it
    cells: list[IdentityCellOut]


class MetaOut(BaseModel):
    key: str  # agency | year | published
    label: str  # Chinese label
    label_en: str
    value: str | int | None
    confidence: float
    problems: list[str]


class ReviewItemOut(BaseModel):
    """One field, identity or metadata value to decide, with what a reviewer needs to decide."""

    id: int
    kind: str = Field(description="field | identity | meta")
    version: int = Field(description="send it back with the decision: one decision per version")
    group_key: str = Field(description="the lease group: the section of the document, or meta")
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
    image_url: str | None = Field(None, description="PNG for this item: the cell, the expected row and column, "
                                  "the identity's cells or the metadata line")
    page_url: str | None = Field(None, description="the whole page with the same highlights")
    picture: str | None = Field(None, description="what image_url shows: cell | expected | identity | meta | page")
    identity: IdentityOut | None = None
    identities: list[IdentityOut] = Field(default_factory=list,
                                          description="broken identities the field is in (field items)")
    meta: MetaOut | None = None
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
    published: str | None = None
    tables: list[TableOut]
    checks: list[CheckResult]
    accepted: list[str] = Field(default_factory=list, description="identities accepted as printed by a reviewer")


def item_out(session: Session, item: ReviewItem) -> ReviewItemOut:
    document = session.get(Document, item.document_id)
    lease = lease_of(session, item)
    common = dict(id=item.id, kind=item.kind, version=item.version, group_key=item.group_key, batch_id=item.batch_id,
                  document_id=item.document_id, source=_source(session, document.id), field_id=item.field_id,
                  priority=item.priority, state=item.state, lease_expires_at=lease.expires_at if lease else None,
                  image_url=f"/review/api/items/{item.id}/image.png?v={item.version}",
                  page_url=f"/review/api/items/{item.id}/image.png?full=1&v={item.version}")
    rows = {r.field_id: r for r in view_fields(session, item.document_id, item.batch_id)}
    picture = item_picture(session, item, document, rows)
    common["picture"] = picture.what if picture else None
    if picture is None:
        common["image_url"] = common["page_url"] = None
    if item.kind == ItemKind.META.value:
        key = item.field_id.removeprefix(META_PREFIX)
        check = check_meta(*view_meta(session, document, item.batch_id))[key]
        zh, en = META_LABELS[key]
        return ReviewItemOut(**common, section="meta", group=None, row_label=zh, col_label="", label_en=en,
                             allowed={"agency": "text", "year": "year (4 digits)", "published": "date (2026-01-21)"}[key],
                             value=None, raw=None if check.value is None else str(check.value), suggestion=None,
                             confidence=check.confidence, status="flagged", reasons=list(check.problems), page=None,
                             bbox=None, crop_url=None,
                             meta=MetaOut(key=key, label=zh, label_en=en, value=check.value,
                                          confidence=check.confidence, problems=list(check.problems)))
    template = get_template(document.template)
    if item.kind == ItemKind.IDENTITY.value:
        name = item.field_id.removeprefix(IDENTITY_PREFIX)
        identity = _identity_out(session, document, item.batch_id, template, rows, name)
        return ReviewItemOut(**common, section=name.split(".")[0], group=None, row_label=name, col_label="",
                             label_en=identity.detail, value=None, raw=None, suggestion=None, confidence=None,
                             status="flagged", reasons=[identity.detail], page=None, bbox=None, crop_url=None,
                             identity=identity)
    row = rows[item.field_id]
    definition = template.fields[item.field_id]
    broken = [c for c in view_checks(session, document.id, item.batch_id)
              if not c.ok and not c.identity.startswith("narrative.")]
    accepted = accepted_identities(session, document.id, item.batch_id)
    identities = [_identity_out(session, document, item.batch_id, template, rows, c.identity, c) for c in broken
                  if item.field_id in c.fields and c.identity not in accepted]
    return ReviewItemOut(
        **common, section=definition.section, group=definition.group, row_label=definition.row_label,
        col_label=definition.col_label, label_en=definition.label_en, allowed=definition.allowed(),
        value=stored_number(row.value), raw=row.raw,
        suggestion=stored_number(row.suggestion), confidence=row.confidence, status=row.status,
        reasons=list(row.reasons or []), page=row.page, bbox=row.bbox,
        crop_url=f"/review/api/items/{item.id}/crop.png" if row.bbox is not None and row.page is not None else None,
        identities=identities,
    )


def _identity_out(session: Session, document: Document, batch_id: str, template, rows: dict[str, FieldRow],
                  name: str, check: CheckRow | None = None) -> IdentityOut:
    if check is None:
        check = _check_named(session, document.id, batch_id, name)
    spec = next((i for i in template.identities if i.name == name), None)
    lhs = set(spec.lhs) if spec is not None else set()
    cells = []
    for fid in (check.fields if check else []):
        row, definition = rows.get(fid), template.fields.get(fid)
        cells.append(IdentityCellOut(
            field_id=fid, label=definition.label if definition else fid,
            value=stored_number(row.value) if row else None, status=row.status if row else "missing",
            suggestion=stored_number(row.suggestion) if row else None, side="lhs" if fid in lhs else "rhs"))
    return IdentityOut(name=name, detail=check.detail if check else "", cells=cells)


def item_picture(session: Session, item: ReviewItem, document: Document,
                 rows: dict[str, FieldRow]) -> ItemPicture | None:
    """What to draw for an item (see :mod:`extractor.review.images`); None when no page is stored."""
    pages = document.pages or 0
    if item.kind == ItemKind.META.value:
        key = item.field_id.removeprefix(META_PREFIX)
        value = dict(zip(META_KEYS, view_meta(session, document, item.batch_id)))[key]
        found = locate(key, value, page_records(session, document.id))
        if found is not None:
            return ItemPicture(page=found[0], focus=found[1], outlines=[found[1]], what="meta")
        return ItemPicture(page=max(pages - 1, 0) if key == "published" else 0, focus=None, what="page")
    if document.template is None:
        return None
    template = get_template(document.template)
    located = {fid: r for fid, r in rows.items() if r.page is not None and r.bbox is not None}
    if item.kind == ItemKind.IDENTITY.value:
        name = item.field_id.removeprefix(IDENTITY_PREFIX)
        check = _check_named(session, document.id, item.batch_id, name)
        cells = [located[f] for f in (check.fields if check else []) if f in located]
        if not cells:
            return None
        page = Counter(c.page for c in cells).most_common(1)[0][0]
        on_page = [c for c in cells if c.page == page]
        return ItemPicture(page=page, focus=union([c.bbox for c in on_page]),
                           outlines=[c.bbox for c in on_page if c.status == "flagged"],
                           context=[c.bbox for c in on_page if c.status != "flagged"], what="identity")
    row = rows.get(item.field_id)
    if row is not None and row.field_id in located:
        return ItemPicture(page=row.page, focus=row.bbox, outlines=[row.bbox], what="cell")
    definition = template.fields.get(item.field_id)
    if definition is None:
        return None
    section = [(template.fields[f], r) for f, r in located.items() if f in template.fields
               and template.fields[f].section == definition.section]
    same_row = [r for d, r in section if d.row == definition.row and d.group == definition.group]
    same_col = [r for d, r in section if d.col == definition.col and d.group == definition.group]
    anchors = same_row or same_col or [r for _, r in section]
    if not anchors:
        return ItemPicture(page=0, focus=None, what="page") if pages else None
    page = Counter(r.page for r in anchors).most_common(1)[0][0]
    table = union([r.bbox for _, r in section if r.page == page])
    bands = []
    row_boxes = [r.bbox for r in same_row if r.page == page]
    col_boxes = [r.bbox for r in same_col if r.page == page]
    if row_boxes:
        box = union(row_boxes)
        bands.append([table[0], box[1], table[2], box[3]])
    if col_boxes:
        box = union(col_boxes)
        bands.append([box[0], table[1], box[2], table[3]])
    return ItemPicture(page=page, focus=table, bands=bands, what="expected")


def page_records(session: Session, document_id: int) -> list[PageRecord]:
    """The stored page records of a document, newest per page, in page order."""
    latest: dict[int, PageRow] = {}
    for page in session.scalars(select(PageRow).where(PageRow.document_id == document_id,
                                                      PageRow.record.is_not(None)).order_by(PageRow.created_at)):
        latest[page.index] = page
    return [PageRecord.model_validate(latest[i].record) for i in sorted(latest)]


def _check_named(session: Session, document_id: int, batch_id: str, name: str) -> CheckRow | None:
    """The batch's view of the check of identity `name` (its copy's, else the machine's)."""
    return next((c for c in view_checks(session, document_id, batch_id) if c.identity == name), None)


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
    agency, year, published = view_meta(session, document, batch_id)
    accepted = accepted_identities(session, document.id, batch_id) if batch_id else set()
    return DocumentView(document_id=document.id, source=_source(session, document.id), template=document.template,
                        agency=agency, year=year, published=published, tables=tables,
                        checks=checks, accepted=sorted(accepted))


def _source(session: Session, document_id: int) -> str | None:
    return session.scalar(
        select(BatchDocument.source).where(BatchDocument.document_id == document_id).order_by(BatchDocument.id)
    )
