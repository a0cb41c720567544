"""Write extraction results: one JSON per document and a wide dataset.csv."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path

from extractor.datamodel import DocumentResult
from extractor.templates import get_template, list_templates

# The batch's refused inputs, written beside the per-document JSON files.
INPUT_ERRORS_FILE = "input-errors.json"
# Columns before the field ids in dataset.csv.
META_COLUMNS = ("document_id", "source", "sha256", "pages", "template", "agency", "year", "published", "errors")


def dataset_field_ids() -> list[str]:
    """Every field id of every template, newest template's order first, each once."""
    ids: dict[str, None] = {}
    for template_id in list_templates():
        ids.update(dict.fromkeys(get_template(template_id).fields))
    return list(ids)


def write_document(result: DocumentResult, out_dir: Path) -> Path:
    """Write ``<out_dir>/<doc-id>.json`` (UTF-8, stable key order)."""
    path = out_dir / f"{result.document.id}.json"
    path.write_text(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def read_document(path: Path) -> DocumentResult:
    return DocumentResult.model_validate_json(path.read_text(encoding="utf-8"))


def write_dataset(results: Iterable[DocumentResult], path: Path) -> Path:
    """One row per document, one column per field id; missing or unreadable values are empty."""
    field_ids = dataset_field_ids()
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([*META_COLUMNS, *field_ids])
        for r in sorted(results, key=lambda r: r.document.id):
            row = [
                r.document.id,
                r.document.source,
                r.document.sha256,
                r.document.pages if r.document.pages is not None else "",
                r.template or "",
                r.meta.agency or "",
                r.meta.year if r.meta.year is not None else "",
                r.meta.published or "",
                "; ".join(r.errors),
            ]
            for fid in field_ids:
                field = r.fields.get(fid)
                row.append("" if field is None or field.value is None else field.value)
            writer.writerow(row)
    return path
