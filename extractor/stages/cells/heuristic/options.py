"""Options of the heuristic cell reader."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from extractor.stages.cells.base import CellReaderOptions


class HeuristicCellReaderOptions(CellReaderOptions):
    """Tunables of the heuristic cell reader (ink measured on the crop, lines read by PP-OCR).

    Pixel lengths are given where a table's characters are as high as in a 200 dpi scan of our
    reports, and scaled with the text height measured over the table (:mod:`.sizes`).
    """

    kind: ClassVar[Literal["heuristic"]] = "heuristic"

    slash_degrees: float = Field(
        12.0, description="a lone stroke leaning more than this from vertical is '/', not '1' (measured: 1 ≤ 4.4°, / ≈ 24°)"
    )
    min_ink: int = Field(
        12, description="fewer ink pixels than this make a cell blank (scaled with lengths: the least marks are thin)"
    )
    min_line_height: int = Field(6, description="ink runs lower than this (pixels) are specks, not a text line")
    margin_y: float = Field(0.5, description="space kept above and below a text line, in line heights")
    margin_x: float = Field(1.0, description="space kept left and right of a text line, in line heights")
    text_line_ratio: float = Field(
        3.0,
        description="given a text recogniser, a line crop wider than this many times its height (label text; a "
        "number is rarely that wide) is read by it first (PP-OCRv6 tiny read the 103 such crops of three typical "
        "scans 5.7x faster than small), and again by the cell recogniser unless that reading is sure of text",
    )
    text_line_score: float = Field(
        0.9,
        description="a text recogniser's reading is kept at this score or above, holding no digit. Below it, on "
        "hard scans, tiny read faint zeros and merged values as characters ('王' 0.44, '量。' 0.70) and labels a "
        "little worse than small ('保护第二方今法' 0.88)",
    )
