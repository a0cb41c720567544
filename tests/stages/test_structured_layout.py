"""The virtual page of an HTML or Word report: boxes that do not overlap, text inside its cells, same every time."""

from __future__ import annotations

from extractor.stages.structured.blocks import Paragraph, place_rows
from extractor.stages.structured.layout import lay_out, wrap


def _blocks():
    table = place_rows([
        [("三、本年度办理结果", 3, 1), ("（一）予以公开", 1, 1), ("12", 1, 1)],
        [("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", 1, 1), ("3", 1, 1)],
        [("（三）不予公开", 1, 1), ("", 1, 1)],
    ])
    return [Paragraph("某某县财政局2024年政府信息公开工作年度报告"), Paragraph("正文" * 80), table]


def test_cells_tile_the_table_and_each_line_of_text_lies_in_its_cell():
    # A row-spanning label, a label long enough to wrap, a blank value cell.
    record = lay_out(_blocks(), dpi=200).record

    (table,) = record.tables
    boxes = [c.bbox for c in table.cells]
    assert all(a.intersection(b) == 0 for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert sum(b.area for b in boxes) == table.bbox.area
    long_label = table.cells[3]
    assert len(long_label.token_texts) >= 2 and "".join(long_label.token_texts) == long_label.text.replace(" ", "")
    for token in record.tokens:
        if token.bbox.y1 >= table.bbox.y1:
            assert any(c.bbox.contains_point(*token.bbox.center) and token.text in c.token_texts for c in table.cells)
    assert record.tokens[0].text.startswith("某某县") and record.width == 1654


def test_layout_is_the_same_every_time_and_scales_with_the_resolution():
    # Review draws the page again long after extraction: the boxes must land on the same cells.
    first, again, half = (lay_out(_blocks(), dpi=d).record for d in (200, 200, 100))

    assert first == again
    assert abs(half.tables[0].cells[2].bbox.x1 * 2 - first.tables[0].cells[2].bbox.x1) < 1e-6


def test_wrap_breaks_by_width_counting_narrow_characters_as_half():
    # 10 ems wide: ten CJK characters a line, or about eighteen digits.
    assert wrap("汉" * 25, 10 * 20, 20) == ["汉" * 10, "汉" * 10, "汉" * 5]
    assert len(wrap("1" * 30, 10 * 20, 20)[0]) == 18
