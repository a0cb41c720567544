"""An export of a batch: dataset file(s), codebook and a manifest with their hashes."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from extractor.export.codebook import codebook
from extractor.export.tables import Selection, batch_results, long_frame, wide_frame
from extractor.export.writers import SUFFIX, ExportFormat, write_bytes
from extractor.storage.models import Batch, InputErrorRow

_log = logging.getLogger(__name__)

# Date stamped on every zip member, so the zip's bytes depend on its contents only.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# Version of the export layout, in the manifest; bump when columns change meaning.
EXPORT_VERSION = 1


class Layout(str, Enum):
    """Shape of the dataset."""

    WIDE = "wide"  # one row per report, one column per field id
    LONG = "long"  # one row per (report, field)
    BOTH = "both"  # both files


@dataclass
class ExportBundle:
    """The files of one export, by name, and the manifest describing them."""

    files: dict[str, bytes] = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)

    def manifest_bytes(self) -> bytes:
        # backslashreplace: a source name that was not UTF-8 (lone surrogates) must not fail the export.
        text = json.dumps(self.manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        return text.encode("utf-8", "backslashreplace")

    def write_dir(self, out: Path) -> list[Path]:
        """Write every file and ``manifest.json`` into `out` (created)."""
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, data in {**self.files, "manifest.json": self.manifest_bytes()}.items():
            (out / name).write_bytes(data)
            paths.append(out / name)
        return paths

    def zip_bytes(self) -> bytes:
        """A zip of the files and the manifest, identical for identical contents."""
        sink = io.BytesIO()
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in sorted(self.files.items()) + [("manifest.json", self.manifest_bytes())]:
                info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, data)
        return sink.getvalue()


def export_batch(
    session: Session,
    batch_id: str,
    fmt: ExportFormat = ExportFormat.CSV,
    layout: Layout = Layout.WIDE,
    statuses: bool = False,
    selection: Selection = Selection.ALL,
    excel: bool = False,
) -> ExportBundle:
    """Export a batch's dataset with its codebook.

    Args:
        session: an open session.
        batch_id: the batch.
        fmt: file format of the dataset and codebook.
        layout: wide, long or both.
        statuses: add a ``<field id>.status`` column per field to the wide layout.
        selection: every report, or only the fully reviewed ones.
        excel: CSV with a UTF-8 byte-order mark and CRLF line ends, for Excel (ignored otherwise).

    Returns:
        The files (``dataset-wide.<ext>``, ``dataset-long.<ext>``, ``codebook.<ext>``) and a
        manifest holding each file's SHA-256, the options and the batch's input errors. It has no
        clock time in it: the same data exported with the same options gives the same bytes.

    Raises:
        KeyError: there is no such batch.
    """
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise KeyError(batch_id)
    results = batch_results(session, batch_id, selection)
    suffix = SUFFIX[fmt]
    bundle = ExportBundle()
    rows: dict[str, int] = {}
    if layout in (Layout.WIDE, Layout.BOTH):
        frame = wide_frame(session, results, statuses)
        bundle.files[f"dataset-wide{suffix}"] = write_bytes(frame, fmt, excel)
        rows[f"dataset-wide{suffix}"] = len(frame.rows)
    if layout in (Layout.LONG, Layout.BOTH):
        frame = long_frame(results)
        bundle.files[f"dataset-long{suffix}"] = write_bytes(frame, fmt, excel)
        rows[f"dataset-long{suffix}"] = len(frame.rows)
    book = codebook(statuses)
    bundle.files[f"codebook{suffix}"] = write_bytes(book, fmt, excel)
    rows[f"codebook{suffix}"] = len(book.rows)
    errors = session.execute(
        select(InputErrorRow.source, InputErrorRow.reason)
        .where(InputErrorRow.batch_id == batch_id)
        .order_by(InputErrorRow.source, InputErrorRow.reason)
    ).all()
    files = [
        {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "rows": rows[name]}
        for name, data in sorted(bundle.files.items())
    ]
    bundle.manifest = {
        "export_version": EXPORT_VERSION,
        "batch_id": batch.id,
        "batch_name": batch.name,
        "format": fmt.value,
        "layout": layout.value,
        "statuses": statuses,
        "selection": selection.value,
        **({"excel": True} if excel and fmt is ExportFormat.CSV else {}),
        "reports": len(results),
        "files": files,
        # One hash for the whole export: of the files' names and hashes, in name order.
        "sha256": hashlib.sha256("".join(f"{f['name']}\n{f['sha256']}\n" for f in files).encode()).hexdigest(),
        "input_errors": [{"source": s, "reason": r} for s, r in errors],
    }
    _log.info("export of batch %s: %d reports, %s", batch_id, len(results), bundle.manifest["sha256"][:12])
    return bundle
