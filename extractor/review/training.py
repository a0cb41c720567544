"""Reviewer decisions as training data for the classifier (``nianbao export-corrections``).

File format: JSON Lines, UTF-8, one decision per line, oldest first, with these keys:

=============  =====================================================================================
``document``   ``{"id": int, "sha256": str, "file": str | null, "source": str | null}``: the stored
               document (``file`` is its path in the content store when the store is given)
``template``   template id (``gov-2021`` / ``gov-2019``)
``field``      field id (``apply.granted.natural_person``)
``row_label``  / ``col_label``: the official labels of the field
``page``       0-based page of the cell (null when the field was never located)
``bbox``       ``[x1, y1, x2, y2]`` of the cell in page pixels at ``dpi``, top-left origin
``dpi``        resolution ``bbox`` refers to (render the page at this dpi to crop the cell)
``old``        the machine's value before the decision (null: unreadable)
``new``        the value after the decision (the truth for training)
``kind``       ``confirm`` (old was right), ``as_printed`` (right: its identity does not add up in
               print) or ``correct``; undo rows, metadata and identity records are left out
``cell_text``  the cell text the machine read (``''`` for a blank cell)
``status``     the field's status before the decision (flagged, derived, auto, reviewed)
``reason``     the reason given, or the flag reasons that sent the field to review
``reviewer``   the reviewer's e-mail
``at``         ISO time of the decision (UTC)
``latest``     true for the last decision on this document and field (earlier ones were revised)
=============  =====================================================================================

``nianbao train --with-corrections FILE`` should use the ``latest`` lines: crop ``bbox`` from
page ``page`` rendered at ``dpi`` and learn ``new`` for ``cell_text``/``field``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from extractor.storage import BatchDocument, ContentStore, Correction, Document, User
from extractor.storage.results import stored_number
from extractor.templates import get_template

_log = logging.getLogger(__name__)


def correction_records(session: Session, store: ContentStore | None = None,
                       batch_id: str | None = None) -> Iterator[dict]:
    """Every stored decision as a training record (see the module docstring), oldest first."""
    query = select(Correction, Document, User).join(Document, Document.id == Correction.document_id).outerjoin(
        User, User.id == Correction.user_id
    )
    if batch_id is not None:
        # Decisions made in that batch (a review belongs to its batch).
        query = query.where(Correction.batch_id == batch_id)
    rows = session.execute(query.order_by(Correction.created_at, Correction.id)).all()
    last = {}
    for correction, _doc, _user in rows:
        last[(correction.document_id, correction.field_id)] = correction.id
    for correction, doc, user in rows:
        if correction.kind == "undo" or correction.field_id.startswith(("meta.", "identity:")):
            continue  # not a cell's reading: undo rows, metadata and identities accepted as printed
        source = session.scalar(
            select(BatchDocument.source).where(BatchDocument.document_id == doc.id).order_by(BatchDocument.id)
        )
        definition = get_template(doc.template).fields.get(correction.field_id) if doc.template else None
        yield {
            "document": {"id": doc.id, "sha256": doc.sha256, "source": source,
                         "file": str(store.path(doc.blob_key)) if store else None},
            "template": doc.template,
            "field": correction.field_id,
            "row_label": definition.row_label if definition else None,
            "col_label": definition.col_label if definition else None,
            "page": correction.page,
            "bbox": correction.bbox,
            "dpi": (doc.result or {}).get("document", {}).get("dpi"),
            "old": stored_number(correction.old_value),
            "new": stored_number(correction.new_value),
            "kind": correction.kind,
            "cell_text": correction.raw,
            "status": correction.old_status,
            "reason": correction.note,
            "reviewer": user.email if user else None,
            "at": correction.created_at.isoformat(),
            "latest": last[(correction.document_id, correction.field_id)] == correction.id,
        }


def write_corrections(session: Session, out: Path, store: ContentStore | None = None,
                      batch_id: str | None = None) -> int:
    """Write the JSONL file; returns the number of lines."""
    out.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with out.open("w", encoding="utf-8") as fh:
        for record in correction_records(session, store, batch_id):
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    return n
