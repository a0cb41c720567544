"""Word documents: paragraphs and tables in order, horizontal and vertical merges, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.stages.rasterise import DocumentError, open_document
from extractor.stages.structured import StructuredSource
from extractor.stages.structured.blocks import Paragraph, TableBlock
from extractor.stages.structured.docx import read_docx

_TITLE = "某某县财政局2024年政府信息公开工作年度报告"


def _docx(path: Path, n_apply_tables: int = 1) -> Path:
    """A report-like .docx: a title, a table whose first column is merged down three rows
    (w:vMerge) and whose header spans two columns (w:gridSpan), and a signature."""
    import docx

    document = docx.Document()
    document.add_paragraph(_TITLE)
    for _ in range(n_apply_tables):
        table = document.add_table(rows=4, cols=3)
        table.cell(0, 0).merge(table.cell(0, 2)).text = "申请人情况"
        table.cell(1, 0).merge(table.cell(3, 0)).text = "本年新收"
        for r in (1, 2, 3):
            table.cell(r, 1).text = f"行{r}"
            table.cell(r, 2).text = str(r * 10)
    document.add_paragraph("某某县财政局")
    document.save(str(path))
    return path


def test_vertical_and_horizontal_merges_become_row_and_column_spans(tmp_path):
    # python-docx writes the merges as Word does: gridSpan on the header, vMerge restart/continue down column 0.
    blocks = read_docx(_docx(tmp_path / "r.docx"))

    assert blocks[0] == Paragraph(_TITLE) and blocks[-1] == Paragraph("某某县财政局")
    table = blocks[1]
    assert isinstance(table, TableBlock) and (table.n_rows, table.n_cols) == (4, 3)
    cells = {(c.row, c.col): (c.text, c.row_span, c.col_span) for c in table.cells}
    assert cells[(0, 0)] == ("申请人情况", 1, 3)
    assert cells[(1, 0)] == ("本年新收", 3, 1)
    assert cells[(3, 2)] == ("30", 1, 1)
    assert (2, 0) not in cells and len(table.cells) == 8


def test_a_docx_opens_as_one_laid_out_page_with_its_tables(tmp_path):
    # Content sniffing, not the suffix: the file is called .bin.
    path = _docx(tmp_path / "report.bin")

    with open_document(path) as source:
        assert isinstance(source, StructuredSource) and source.format == "docx" and len(source) == 1
        record = source.page(0, 200).record
    assert len(record.tables) == 1 and record.tables[0].cells[1].text == "本年新收"
    assert record.tokens[0].text == _TITLE


def test_a_docx_with_two_reports_is_refused(tmp_path):
    # Two section 三 tables: two reports in one file.
    with pytest.raises(DocumentError, match="holds 2 reports"):
        open_document(_docx(tmp_path / "two.docx", n_apply_tables=2))


def test_a_broken_docx_is_refused_with_a_reason(tmp_path):
    # A zip that claims to be Word (content types and document part) but whose XML is cut off.
    import zipfile

    path = tmp_path / "broken.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types")
        archive.writestr("word/document.xml", "<w:document")
    with pytest.raises(DocumentError, match="not a readable Word document"):
        open_document(path)
