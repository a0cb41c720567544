"""Read a Word (.docx) report: its paragraphs and tables, merged cells included.

python-docx opens the package (and refuses what is not one); the body is then read from its
XML in document order, because python-docx's own table API repeats a merged cell in every grid
position it covers and would hide the spans the assembler needs. A horizontal merge is a
``w:gridSpan``, a vertical one a run of ``w:vMerge`` cells (``restart``, then continuations).
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

from extractor.stages.rasterise.errors import DocumentError
from extractor.stages.structured.blocks import Block, Paragraph, SourceCell, TableBlock, clean_text

_log = logging.getLogger(__name__)

# WordprocessingML namespace.
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_NS = {"w": _W}
# Largest uncompressed size of the parts read (document.xml and the package's other parts),
# bytes: a report is a few hundred kB; anything near this is a zip bomb.
MAX_PART_BYTES = 64 * 1024 * 1024
# Largest column span honoured.
_MAX_SPAN = 200


def _q(name: str) -> str:
    return f"{{{_W}}}{name}"


def read_docx(path: Path, source: str = "DOCX file") -> list[Block]:
    """The blocks of a .docx file in reading order (body paragraphs and tables).

    Headers, footers, comments and text boxes are not read: reports keep their title, prose and
    tables in the body.

    Raises:
        DocumentError: not a readable Word document, or a part too large to read safely.
    """
    _check_sizes(path, source)
    try:
        import docx

        document = docx.Document(str(path))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many types for a broken package
        raise DocumentError(source, f"not a readable Word document ({type(exc).__name__}: {exc})") from exc
    blocks: list[Block] = []
    _read_container(document.element.body, blocks)
    return blocks


def _check_sizes(path: Path, source: str) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.file_size > MAX_PART_BYTES:
                    raise DocumentError(
                        source, f"part {info.filename} would unpack to {info.file_size:,} bytes (limit {MAX_PART_BYTES:,})"
                    )
    except zipfile.BadZipFile as exc:
        raise DocumentError(source, f"not a readable Word document ({exc})") from exc


def _read_container(element, blocks: list[Block]) -> None:
    for child in element:
        if child.tag == _q("p"):
            text = _paragraph_text(child)
            if text:
                blocks.append(Paragraph(text))
        elif child.tag == _q("tbl"):
            table = table_block(child)
            if table.cells:
                blocks.append(table)
        elif child.tag in (_q("sdt"), _q("customXml"), _q("sdtContent")):
            # Content controls and custom XML wrap ordinary paragraphs and tables.
            _read_container(child.find(_q("sdtContent")) if child.tag == _q("sdt") else child, blocks)


def _paragraph_text(p) -> str:
    """A paragraph's visible text: its runs' text, tabs and breaks as spaces."""
    parts: list[str] = []
    for node in p.iter(_q("t"), _q("tab"), _q("br"), _q("cr")):
        parts.append((node.text or "") if node.tag == _q("t") else " ")
    return clean_text("".join(parts))


def _cell_text(tc) -> str:
    texts = [_paragraph_text(p) for p in tc.iter(_q("p"))]
    return clean_text(" ".join(t for t in texts if t))


def _val(element, path: str) -> str | None:
    found = element.find(path, _NS)
    if found is None:
        return None
    return found.get(_q("val"), "")


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def table_block(tbl) -> TableBlock:
    """The grid of a Word table: spans from ``gridSpan``, vertical merges from ``vMerge``.

    Steps:
        1. Each row starts at its ``gridBefore`` column; each cell takes ``gridSpan`` columns.
        2. A cell with ``vMerge`` but no ``restart`` continues the merged cell above it in the
           same column (when there is one), which grows by a row; its own text (Word leaves it
           empty) is dropped.
    """
    cells: list[dict] = []
    open_merge: dict[int, dict] = {}  # grid column → the cell a vertical merge there continues
    rows = tbl.findall(_q("tr"))
    n_cols = 0
    for r, tr in enumerate(rows):
        col = _int(_val(tr, "w:trPr/w:gridBefore"), 0)
        for tc in tr.findall(_q("tc")):
            span = max(1, min(_MAX_SPAN, _int(_val(tc, "w:tcPr/w:gridSpan"), 1)))
            vmerge = _val(tc, "w:tcPr/w:vMerge")
            above = open_merge.get(col)
            if vmerge is not None and vmerge != "restart" and above is not None and above["col_span"] == span:
                above["row_span"] = r - above["row"] + 1
            else:
                cell = {"text": _cell_text(tc), "row": r, "col": col, "row_span": 1, "col_span": span}
                cells.append(cell)
                for c in range(col, col + span):
                    open_merge.pop(c, None)
                if vmerge is not None:
                    open_merge[col] = cell
            col += span
        n_cols = max(n_cols, col)
        # A column without a vMerge cell in this row ends the merge there.
        continued = {c["col"] for c in cells if c["row"] + c["row_span"] - 1 == r}
        for c in [c for c in open_merge if c not in continued]:
            open_merge.pop(c)
    return TableBlock(n_rows=len(rows), n_cols=n_cols, cells=[SourceCell(**c) for c in cells])
