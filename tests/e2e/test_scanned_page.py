"""A scanned page through the pipeline's page step: the layout model runs only when it is needed."""

from __future__ import annotations

import glob
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from extractor.pipeline import Pipeline
from extractor.stages.layout import LayoutStage
from extractor.stages.rasterise import open_document

_FONTS = sorted(glob.glob("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"))
_ROW_NUMBERS = ["3", "12", "0", "7", "25"]


def _scan(path: Path, borderless_row: bool) -> Path:
    """A 200 dpi page image: a ruled 3 x 3 table of numbers, and maybe a row of numbers without rules under it."""
    font = ImageFont.truetype(_FONTS[0], 30) if _FONTS else ImageFont.load_default(30)
    img = Image.new("RGB", (1400, 1000), "white")
    draw = ImageDraw.Draw(img)
    for y in (150, 230, 310, 390):
        draw.line([(150, y), (1150, y)], fill="black", width=3)
    for x in (150, 483, 816, 1150):
        draw.line([(x, 150), (x, 390)], fill="black", width=3)
    for r in range(3):
        for c in range(3):
            draw.text((290 + 333 * c, 170 + 80 * r), str(10 * r + c + 1), fill="black", font=font)
    if borderless_row:
        for i, text in enumerate(_ROW_NUMBERS):
            draw.text((200 + 200 * i, 600), text, fill="black", font=font)
    img.save(path, dpi=(200, 200))
    return path


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline()


def _understand(pipeline: Pipeline, path: Path, engine_type: type) -> tuple[list, int]:
    # The model "finds" the borderless row as a table (the recorded output), whenever it is asked.
    engine = engine_type(
        {"width": 1400, "height": 1000, "boxes": [[150, 560, 1150, 680]], "class_names": ["table"], "scores": [0.9]}
    )
    pipeline._layout = LayoutStage(engine=engine)
    with open_document(path) as source:
        record = pipeline.understand_page(source, 0)
    return record.tables, engine.calls


def test_scanned_page_whose_tables_are_ruled_skips_the_layout_model(pipeline, tmp_path, recorded_layout_engine):
    tables, calls = _understand(pipeline, _scan(tmp_path / "ruled.png", borderless_row=False), recorded_layout_engine)
    assert calls == 0
    (table,) = tables
    assert table.ruled and sorted(c.text for c in table.cells) == sorted(str(10 * r + c + 1) for r in range(3) for c in range(3))


def test_scanned_page_with_a_row_of_numbers_outside_the_rules_runs_the_layout_model(
    pipeline, tmp_path, recorded_layout_engine
):
    tables, calls = _understand(pipeline, _scan(tmp_path / "borderless.png", borderless_row=True), recorded_layout_engine)
    assert calls == 1
    ruled, borderless = tables
    assert ruled.ruled and len(ruled.cells) == 9
    assert not borderless.ruled
    assert [c.text for c in sorted(borderless.cells, key=lambda c: c.col)] == _ROW_NUMBERS
