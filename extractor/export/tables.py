"""Build the wide and long tables of a batch from the store."""

from __future__ import annotations

import logging
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from extractor.datamodel import DocumentResult, FieldStatus
from extractor.export.codebook import LONG_COLUMNS, META_COLUMNS, field_kinds
from extractor.export.frame import Column, ColumnKind, Frame
from extractor.output import dataset_field_ids
from extractor.storage.models import BatchDocument, Document, DocumentState
from extractor.storage.results import stored_result

_log = logging.getLogger(__name__)


class Selection(str, Enum):
    """Which reports of a batch are exported."""

    ALL = "all"  # every report, failed ones included (values empty, errors say why)
    REVIEWED = "reviewed"  # only reports done with no field left flagged for review


def batch_results(session: Session, batch_id: str, selection: Selection = Selection.ALL) -> list[DocumentResult]:
    """The batch's reports (one per distinct file), as they stand after review, by id.

    A copy of a file already listed earlier in the batch is left out: it is the same report.
    """
    items = session.scalars(
        select(BatchDocument)
        .where(BatchDocument.batch_id == batch_id, BatchDocument.duplicate_of.is_(None))
        .order_by(BatchDocument.item_id)
    ).all()
    results = []
    for item in items:
        doc: Document = item.document
        # The batch's own review: another batch's corrections to the same file do not count here.
        result = stored_result(session, doc, item.item_id, item.source, batch_id=batch_id)
        result.document.sha256 = doc.sha256
        result.document.pages = doc.pages
        if selection is Selection.REVIEWED and not _fully_reviewed(doc, result):
            continue
        results.append(result)
    return results


def _fully_reviewed(doc: Document, result: DocumentResult) -> bool:
    return doc.state == DocumentState.DONE.value and all(
        f.status is not FieldStatus.FLAGGED for f in result.fields.values()
    )


def _states(session: Session, results: list[DocumentResult]) -> dict[str, str]:
    shas = [r.document.sha256 for r in results]
    return dict(session.execute(select(Document.sha256, Document.state).where(Document.sha256.in_(shas))).all())


def wide_frame(session: Session, results: list[DocumentResult], statuses: bool = False) -> Frame:
    """One row per report: meta columns, every field id, then ``<field id>.status`` if asked."""
    field_ids = dataset_field_ids()
    kinds = field_kinds()
    columns = [Column(name, kind) for name, kind, _, _ in META_COLUMNS]
    columns += [Column(fid, kinds[fid]) for fid in field_ids]
    if statuses:
        columns += [Column(f"{fid}.status", ColumnKind.STR) for fid in field_ids]
    frame = Frame(columns=columns)
    states = _states(session, results)
    for r in results:
        row = [
            r.document.id, r.document.source, r.document.sha256, r.document.pages, r.template,
            r.meta.agency, r.meta.year, r.meta.published, states.get(r.document.sha256),
            "; ".join(r.errors) or None,
            sum(1 for f in r.fields.values() if f.status is FieldStatus.FLAGGED),
        ]
        for fid in field_ids:
            f = r.fields.get(fid)
            row.append(None if f is None else _typed(f.value, kinds[fid]))
        if statuses:
            row += [None if fid not in r.fields else r.fields[fid].status.value for fid in field_ids]
        frame.rows.append(row)
    return frame


def long_frame(results: list[DocumentResult]) -> Frame:
    """One row per (report, field) the report has a value entry for, in template order."""
    frame = Frame(columns=[Column(name, kind) for name, kind, _, _ in LONG_COLUMNS])
    for r in results:
        for fid, f in r.fields.items():
            frame.rows.append([
                r.document.id, fid, None if f.value is None else float(f.value), f.raw, f.status.value,
                f.confidence, None if f.page is None else f.page + 1,
            ])
    return frame


def _typed(value: int | float | None, kind: ColumnKind) -> int | float | None:
    """The value for its column; a count that is not a whole number stays as it is, never rounded.

    The writers decide how each format holds it (:func:`extractor.export.writers.exportable`).
    """
    if value is None:
        return None
    if kind is ColumnKind.FLOAT:
        return value if isinstance(value, int) and abs(value) > 2**53 else float(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
