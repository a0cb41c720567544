"""Grid stage on small synthetic tables drawn in the test (rules + text).

The tables are drawn at 200 dpi; every test of the stage runs on the drawing as it is and as
scanned at 150 and 300 dpi (resampled, tokens and region scaled; the cells' boxes are mapped
back to the drawing's pixels for the assertions).
"""

from __future__ import annotations

import glob

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

import pytest

from extractor.datamodel import BBox, Table, TextToken
from extractor.stages.grid import GridStage

_FONTS = sorted(glob.glob("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"))


def _font(size: int = 22) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(_FONTS[0], size) if _FONTS else ImageFont.load_default(size)


def _draw_table(
    xs: list[int],
    ys: list[int],
    merged: list[tuple[int, int, int, int]],
    texts: dict[tuple[int, int], str],
    size: tuple[int, int] = (700, 560),
    gaps: list[tuple[int, int, int, int]] = (),
    rules: bool = True,
) -> tuple[np.ndarray, list[TextToken]]:
    """A white page with a ruled table: every grid edge is drawn except inside merged cells.

    `merged` holds (row, col, row_span, col_span); `texts` maps a cell's top-left position to its
    text, drawn centred; `gaps` are white rectangles (x1, y1, x2, y2) painted over the rules to
    break them. Returns the RGB image and one token per text, boxed where it was drawn.
    """
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    owner = {}
    for r, c, rs, cs in merged:
        for rr in range(r, r + rs):
            for cc in range(c, c + cs):
                owner[(rr, cc)] = (r, c)
    if rules:
        for r in range(len(ys)):
            for c in range(len(xs) - 1):
                inner = 0 < r < len(ys) - 1 and owner.get((r - 1, c), (r - 1, c)) == owner.get((r, c), (r, c))
                if not inner:
                    draw.line([(xs[c], ys[r]), (xs[c + 1], ys[r])], fill="black", width=2)
        for c in range(len(xs)):
            for r in range(len(ys) - 1):
                inner = 0 < c < len(xs) - 1 and owner.get((r, c - 1), (r, c - 1)) == owner.get((r, c), (r, c))
                if not inner:
                    draw.line([(xs[c], ys[r]), (xs[c], ys[r + 1])], fill="black", width=2)
        for g in gaps:
            draw.rectangle(g, fill="white")
    spans = {(r, c): (rs, cs) for r, c, rs, cs in merged}
    font = _font()
    tokens = []
    for (r, c), text in texts.items():
        rs, cs = spans.get((r, c), (1, 1))
        cx, cy = (xs[c] + xs[c + cs]) / 2, (ys[r] + ys[r + rs]) / 2
        left, top, right, bottom = draw.textbbox((cx, cy), text, font=font, anchor="mm")
        draw.text((cx, cy), text, font=font, fill="black", anchor="mm")
        tokens.append(TextToken(text=text, bbox=BBox(x1=left, y1=top, x2=right, y2=bottom), score=0.9))
    return np.array(img), tokens


# Every test of a drawn table runs on it as scanned at these resolutions.
at_every_dpi = pytest.mark.parametrize("dpi", [150, 200, 300])


def _scaled_box(box: BBox, k: float) -> BBox:
    return BBox(x1=box.x1 * k, y1=box.y1 * k, x2=box.x2 * k, y2=box.y2 * k)


def _predict(image: np.ndarray, region: BBox, tokens: list[TextToken], page_index: int, dpi: float) -> Table:
    """The grid stage's table of `region` of a drawing made at 200 dpi, as scanned at `dpi`: the
    image resampled and the tokens and region scaled; the cells' and table's boxes in pixels of
    the drawing again."""
    k = dpi / 200
    if dpi != 200:
        image = cv2.resize(image, None, fx=k, fy=k, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
    tokens = [t.model_copy(update={"bbox": _scaled_box(t.bbox, k)}) for t in tokens]
    table = GridStage().predict(image, _scaled_box(region, k), tokens, page_index, dpi=dpi)
    cells = [c.model_copy(update={"bbox": _scaled_box(c.bbox, 1 / k)}) for c in table.cells]
    return table.model_copy(update={"cells": cells, "bbox": _scaled_box(table.bbox, 1 / k)})


def _spans(table) -> set[tuple[int, int, int, int]]:
    return {(c.row, c.col, c.row_span, c.col_span) for c in table.cells if c.row_span > 1 or c.col_span > 1}


def _text(table, row: int, col: int) -> str:
    return next(c.text for c in table.cells if c.row == row and c.col == col)


# Section 三 in miniature: a 3-row header block (申请人情况 over 自然人 / 法人或其他组织 / 总计,
# 法人或其他组织 over two columns) and a tall group label 三、本年度办理结果 over three rows.
_XS = [20, 80, 250, 330, 410, 490, 570]
_YS = [20, 80, 140, 200, 260, 320, 380, 440]
_MERGED = [(0, 0, 3, 2), (0, 2, 1, 4), (1, 2, 2, 1), (1, 3, 1, 2), (1, 5, 2, 1), (3, 0, 1, 2), (4, 0, 3, 1)]
_TEXTS = {
    (0, 0): "说明",
    (0, 2): "申请人情况",
    (1, 2): "自然人",
    (1, 3): "法人或其他组织",
    (1, 5): "总计",
    (2, 3): "商业",
    (2, 4): "科研",
    (3, 0): "一、本年新收",
    (3, 2): "21",
    (3, 5): "21",
    (4, 0): "三",
    (4, 1): "（一）予以公开",
    (4, 2): "7",
    (5, 1): "（二）部分公开",
    (6, 1): "（三）不予公开",
    (6, 5): "305",
}


@at_every_dpi
def test_merged_vertical_label_and_two_level_header_give_spans(dpi):
    # A ruled table with a two-level header and a vertical group label over three rows.
    # Every merged cell comes out with its row/col span and its text; the grid is 7 x 6.
    image, tokens = _draw_table(_XS, _YS, _MERGED, _TEXTS)
    table = _predict(image, BBox(x1=10, y1=10, x2=580, y2=450), tokens, 3, dpi)
    assert (table.n_rows, table.n_cols, table.ruled) == (7, 6, True)
    assert _spans(table) == set(_MERGED)
    assert _text(table, 1, 3) == "法人或其他组织"
    assert _text(table, 4, 0) == "三"
    assert _text(table, 6, 5) == "305"
    assert all(c.page == 3 for c in table.cells)
    assert table.score == 1.0


@at_every_dpi
def test_broken_rules_still_give_the_grid(dpi):
    # The same table with a row rule and a column rule dotted (3 px dropped out of every 6, as on
    # a faint scan) and two 10 px holes in row rules. The gaps are closed, so no extra cell is merged.
    dots = [(x, 198, x + 2, 203) for x in range(252, 568, 6)] + [(408, y, 413, y + 2) for y in range(202, 438, 6)]
    holes = [(150, 198, 159, 203), (440, 378, 449, 383)]
    gaps = dots + holes
    image, tokens = _draw_table(_XS, _YS, _MERGED, _TEXTS, gaps=gaps)
    table = _predict(image, BBox(x1=10, y1=10, x2=580, y2=450), tokens, 0, dpi)
    assert (table.n_rows, table.n_cols) == (7, 6)
    assert _spans(table) == set(_MERGED)


@at_every_dpi
def test_skewed_noisy_scan_still_gives_the_grid(dpi):
    # The table rotated 0.8°, blurred, with noise and JPEG 60 compression, tokens moved along.
    # The crop is deskewed from its rules and the same merged cells and texts come out.
    image, tokens = _draw_table(_XS, _YS, _MERGED, _TEXTS)
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 0.8, 1.0)
    image = cv2.warpAffine(image, m, (w, h), borderValue=(255, 255, 255))
    image = cv2.GaussianBlur(image, (3, 3), 0.8)
    noise = np.random.default_rng(0).normal(0, 8, image.shape)
    image = np.clip(image + noise, 0, 255).astype(np.uint8)
    image = cv2.imdecode(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 60])[1], cv2.IMREAD_COLOR)
    moved = []
    for t in tokens:
        cx, cy = m @ np.array([*t.bbox.center, 1.0])
        half_w, half_h = t.bbox.width / 2, t.bbox.height / 2
        moved.append(t.model_copy(update={"bbox": BBox(x1=cx - half_w, y1=cy - half_h, x2=cx + half_w, y2=cy + half_h)}))
    table = _predict(image, BBox(x1=5, y1=5, x2=590, y2=460), moved, 0, dpi)
    assert (table.n_rows, table.n_cols) == (7, 6)
    assert _spans(table) == set(_MERGED)
    assert _text(table, 6, 5) == "305"


@at_every_dpi
def test_token_across_columns_is_split_by_character_position(dpi):
    # One OCR line "12 34 56" runs over three value cells of a one-row ruled table.
    # It is split where the characters fall, one number per cell.
    xs, ys = [20, 120, 220, 320], [20, 80]
    image, _ = _draw_table(xs, ys, [], {}, size=(360, 120))
    token = TextToken(text="12 34 56", bbox=BBox(x1=40, y1=40, x2=300, y2=60))
    table = _predict(image, BBox(x1=10, y1=10, x2=330, y2=90), [token], 0, dpi)
    assert [_text(table, 0, c) for c in range(3)] == ["12", "34", "56"]


@at_every_dpi
def test_borderless_table_comes_from_token_alignment(dpi):
    # A table with no rules: a header "申请人情况" over two columns, then three rows of numbers.
    # Rows and columns come from token alignment; the header spans two columns; ruled=False.
    xs, ys = [20, 200, 300, 400], [20, 70, 120, 170, 220]
    merged = [(0, 1, 1, 2)]
    texts = {(0, 0): "项目", (0, 1): "申请人情况"}
    texts.update({(r, c): str(r * 10 + c) for r in range(1, 4) for c in range(3)})
    texts.update({(r, 0): f"第{r}行" for r in range(1, 4)})
    image, tokens = _draw_table(xs, ys, merged, texts, size=(440, 260), rules=False)
    table = _predict(image, BBox(x1=10, y1=10, x2=420, y2=230), tokens, 0, dpi)
    assert (table.n_rows, table.n_cols, table.ruled) == (4, 3, False)
    assert table.score < 1.0
    assert _spans(table) == {(0, 1, 1, 2)}
    assert _text(table, 2, 2) == "22"
    assert _text(table, 3, 0) == "第3行"


@at_every_dpi
def test_half_ruled_table_falls_back_to_token_alignment(dpi):
    # Rules enclose only the first two columns; the third column's numbers sit outside them.
    # Most tokens fall outside the ruled grid, so the grid is rebuilt from token alignment.
    xs, ys = [20, 200, 300], [20, 70, 120, 170]
    image, _ = _draw_table(xs, ys, [], {}, size=(460, 200))
    tokens = []
    for r in range(3):
        for c, x in enumerate((60, 230, 330, 400)):
            tokens.append(TextToken(text=str(r * 10 + c), bbox=BBox(x1=x, y1=35 + 50 * r, x2=x + 30, y2=55 + 50 * r)))
    table = _predict(image, BBox(x1=10, y1=10, x2=450, y2=180), tokens, 0, dpi)
    assert (table.n_rows, table.n_cols, table.ruled) == (3, 4, False)


def _dash_out(xs: list[int], ys: list[int], h_hole: int = 26, v_hole: int = 16) -> list[tuple[int, int, int, int]]:
    """A white hole in the middle of every edge of the grid (a poor copy). Row rules: 26 px,
    more than is bridged, so no edge is covered enough to count as ruled as it is, but the
    pieces left run in from the crossings. Column rules: 16 px, bridged."""
    gaps = []
    # Not in the first and last stretch of a rule (an unbroken piece must reach the frame), and
    # not in the short rules of the header block (pieces of them would meet no rule at all).
    for y in ys[3:-1]:
        gaps += [((a + b - h_hole) // 2, y - 3, (a + b + h_hole) // 2, y + 3) for a, b in zip(xs[1:-2], xs[2:-1])]
    for x in xs:
        gaps += [(x - 3, (a + b - v_hole) // 2, x + 3, (a + b + v_hole) // 2) for a, b in zip(ys[1:-2], ys[2:-1])]
    return gaps


@at_every_dpi
def test_dashed_rules_keep_the_cells_apart(dpi):
    # Every edge broken by a hole in its middle (see _dash_out). Value cells stay single, the real
    # merged cells (header block, group label) stay merged.
    image, tokens = _draw_table(_XS, _YS, _MERGED, _TEXTS, gaps=_dash_out(_XS, _YS))
    table = _predict(image, BBox(x1=10, y1=10, x2=580, y2=450), tokens, 0, dpi)
    assert (table.n_rows, table.n_cols) == (7, 6)
    assert _spans(table) == set(_MERGED)
    assert _text(table, 3, 2) == "21" and _text(table, 6, 5) == "305"


@at_every_dpi
def test_rule_stopping_short_of_a_crossing_still_counts(dpi):
    # A column rule (x = 410) that stops 18 px short of the table's top and bottom rules: one
    # end meets a row rule closely (it crosses row rules in between), the other from a little way off.
    image, tokens = _draw_table(_XS, _YS, [], {(3, 3): "1", (3, 4): "2"})
    cv2.line(image, (410, 20), (410, 38), (255, 255, 255), 3)
    cv2.line(image, (410, 422), (410, 440), (255, 255, 255), 3)
    table = _predict(image, BBox(x1=10, y1=10, x2=580, y2=450), tokens, 0, dpi)
    assert table.n_cols == 6
    assert _text(table, 3, 3) == "1" and _text(table, 3, 4) == "2"


@at_every_dpi
def test_red_seal_strokes_are_not_rules(dpi):
    # A red seal (a ring and a bar) stamped over the table adds no row or column.
    image, tokens = _draw_table(_XS, _YS, [], {(3, 3): "1"})
    cv2.circle(image, (300, 250), 90, (220, 30, 30), 6)
    cv2.line(image, (240, 150), (240, 350), (220, 30, 30), 6)
    table = _predict(image, BBox(x1=10, y1=10, x2=580, y2=450), tokens, 0, dpi)
    assert (table.n_rows, table.n_cols) == (7, 6)


@at_every_dpi
def test_rule_left_as_dashes_between_broken_corners_keeps_the_cells_apart(dpi):
    # A poor copy: the column rule between "1" and "2" (x = 410) is two short dashes, and the row
    # rules are broken where they meet it, so no piece runs in from a corner. Thin dashes with
    # no text about them are a rule all the same: the two values stay in their own cells.
    image, tokens = _draw_table(_XS, _YS, [], {(3, 3): "1", (3, 4): "2"})
    cv2.line(image, (410, 202), (410, 206), (255, 255, 255), 4)
    cv2.line(image, (410, 224), (410, 228), (255, 255, 255), 4)
    cv2.line(image, (410, 248), (410, 258), (255, 255, 255), 4)
    for y in (200, 260):
        cv2.line(image, (398, y), (422, y), (255, 255, 255), 4)
    table = _predict(image, BBox(x1=10, y1=10, x2=580, y2=450), tokens, 0, dpi)
    assert _text(table, 3, 3) == "1" and _text(table, 3, 4) == "2"


@at_every_dpi
def test_label_written_across_a_missing_rule_stays_merged(dpi):
    # A label merged over two rows, its text centred on where the row rule would be: the strokes
    # along that line belong to characters, not to a rule, so the cell is not split.
    merged = [(3, 0, 2, 2)]
    image, tokens = _draw_table(_XS, _YS, merged, {(3, 0): "一、本年新收申请"})
    table = _predict(image, BBox(x1=10, y1=10, x2=580, y2=450), tokens, 0, dpi)
    assert _spans(table) == set(merged)


@at_every_dpi
def test_faded_row_rule_under_a_full_width_title_is_kept(dpi):
    # A group title merged across the table (第二十条第（八）项) over a header row whose column rules
    # have faded at their tops, and the rule between them broken off at both ends: it meets no
    # crossing rule, but a rule along most of the table is a rule. The title stays one row.
    merged = [(0, 0, 1, 6)]
    texts = {(0, 0): "第二十条第（八）项", (1, 0): "信息内容", (2, 2): "3"}
    image, tokens = _draw_table(_XS, _YS, merged, texts)
    cv2.line(image, (18, 80), (50, 80), (255, 255, 255), 5)
    cv2.line(image, (545, 80), (572, 80), (255, 255, 255), 5)
    for x in _XS[1:-1]:
        cv2.line(image, (x, 84), (x, 104), (255, 255, 255), 3)
    table = _predict(image, BBox(x1=10, y1=10, x2=580, y2=450), tokens, 0, dpi)
    assert table.n_rows == 7
    assert (0, 0, 1, 6) in _spans(table)
    assert _text(table, 0, 0) == "第二十条第（八）项"


@at_every_dpi
def test_numbers_either_side_of_a_mostly_lost_rule_stay_apart(dpi):
    # The column rule between "1" and "0" survives only as a stub under the row rule above it:
    # too little to count as a rule, but a number centred on each side with nothing across the
    # edge says the cells are two ("1" and "0", not one cell "10").
    image, tokens = _draw_table(_XS, _YS, [], {(3, 3): "1", (3, 4): "0"})
    cv2.line(image, (410, 216), (410, 258), (255, 255, 255), 5)
    table = _predict(image, BBox(x1=10, y1=10, x2=580, y2=450), tokens, 0, dpi)
    assert _text(table, 3, 3) == "1" and _text(table, 3, 4) == "0"


@at_every_dpi
def test_value_of_a_cell_merged_over_two_columns_keeps_its_neighbour_apart(dpi):
    # 行政事业性收费 | 3 | 0, the 0 centred in a cell over two columns (on the rule-less edge between
    # them); the rule between 3 and 0 is a short stub. Each side is looked at up to its next
    # rule, so the 0 counts as the text of the right-hand cell, and 3 and 0 stay apart.
    merged = [(3, 4, 1, 2)]
    image, tokens = _draw_table(_XS, _YS, merged, {(3, 3): "3", (3, 4): "0"})
    cv2.line(image, (410, 212), (410, 258), (255, 255, 255), 5)
    table = _predict(image, BBox(x1=10, y1=10, x2=580, y2=450), tokens, 0, dpi)
    assert _text(table, 3, 3) == "3" and _text(table, 3, 4) == "0"
    assert (3, 4, 1, 2) in _spans(table)


@at_every_dpi
def test_sheared_page_long_table_keeps_its_columns(dpi):
    # A copy sheared by 0.8°: once the row rules are level, the column rules of a 1600 px tall
    # table still lean by 22 px top to bottom, more than a boundary's tolerance. They are stood
    # upright, so each column stays one column, and the bottom row's cells sit where it was drawn.
    ys = [20 + 100 * i for i in range(17)]
    image, _ = _draw_table(_XS, ys, [], {}, size=(700, 1700))
    k = float(np.tan(np.radians(0.8)))
    image = cv2.warpAffine(image, np.array([[1.0, k, -k * 850], [0.0, 1.0, 0.0]]), (700, 1700), borderValue=(255, 255, 255))
    table = _predict(image, BBox(x1=5, y1=10, x2=600, y2=1630), [], 0, dpi)
    assert (table.n_rows, table.n_cols) == (16, 6)
    bottom = next(c for c in table.cells if c.row == 15 and c.col == 3)
    centre_x = (_XS[3] + _XS[4]) / 2 + k * ((ys[15] + ys[16]) / 2 - 850)
    assert abs((bottom.bbox.x1 + bottom.bbox.x2) / 2 - centre_x) < 4


@at_every_dpi
def test_column_rule_left_only_as_a_piece_across_a_row_rule_is_kept(dpi):
    # A poor copy keeps of the column rule at x = 410 only a 60 px piece through the row rule at
    # y = 260, and the row rule is broken just where they cross: the piece reaches neither the
    # rule above nor the one below, but text never runs through a rule. The column stays, and
    # 1 | 2 and 3 | 4 stay apart.
    texts = {(3, 3): "1", (3, 4): "2", (4, 3): "3", (4, 4): "4"}
    image, tokens = _draw_table(_XS, _YS, [], texts)
    cv2.line(image, (410, 22), (410, 229), (255, 255, 255), 5)
    cv2.line(image, (410, 291), (410, 438), (255, 255, 255), 5)
    cv2.line(image, (390, 260), (406, 260), (255, 255, 255), 5)
    cv2.line(image, (414, 260), (430, 260), (255, 255, 255), 5)
    table = _predict(image, BBox(x1=10, y1=10, x2=580, y2=450), tokens, 0, dpi)
    assert table.n_cols == 6
    assert [_text(table, r, c) for r, c in texts] == list(texts.values())


@at_every_dpi
def test_left_aligned_value_beside_a_lost_rule_stays_apart(dpi):
    # 行政强制 | 0 with the 0 printed 8 px from its cell's left rule, which survives only as a stub:
    # the 0 lies in the rule's flank, but the label ends far from the rule and a blank strip
    # parts each text from it. The label does not take in the value ("行政强制0").
    image, _ = _draw_table(_XS, _YS, [], {})
    page = Image.fromarray(image)
    draw = ImageDraw.Draw(page)
    label = draw.textbbox((165, 230), "行政强制", font=_font(), anchor="mm")
    draw.text((165, 230), "行政强制", font=_font(), fill="black", anchor="mm")
    value = draw.textbbox((258, 230), "0", font=_font(), anchor="lm")
    draw.text((258, 230), "0", font=_font(), fill="black", anchor="lm")
    image = np.array(page)
    cv2.line(image, (250, 216), (250, 258), (255, 255, 255), 5)
    tokens = [
        TextToken(text=t, bbox=BBox(x1=b[0], y1=b[1], x2=b[2], y2=b[3]), score=0.9)
        for t, b in (("行政强制", label), ("0", value))
    ]
    table = _predict(image, BBox(x1=10, y1=10, x2=580, y2=450), tokens, 0, dpi)
    assert _text(table, 3, 1) == "行政强制" and _text(table, 3, 2) == "0"



def _ring(text: np.ndarray, cx: int, cy: int = 30) -> None:
    """Draw a "0" (an upright ring, 16 x 24 px, strokes 2 px) into a bool ink array."""
    ring = np.zeros(text.shape, dtype=np.uint8)
    cv2.ellipse(ring, (cx, cy), (7, 11), 0, 0, 360, 1, 2)
    text |= ring.astype(bool)


def test_text_centred_on_an_edge_is_one_text_across_it():
    # A "0" centred on the edge (a value in a cell merged over two columns, a stub of rule above
    # it): its hole is blank beside the edge, but going out from the edge its stroke comes before
    # any blank strip. Moved 12 px right of the edge (left-aligned in its own cell), with a label
    # far to the left, the two are texts either side of a lost rule.
    from extractor.stages.grid.ruled import _separate_texts

    across = np.zeros((60, 120), dtype=bool)
    _ring(across, 60)
    across[25:35, 10:30] = True  # a label, far left
    assert not _separate_texts(across, False, 60, 0, 60, 0, 120, 8)
    beside = np.zeros((60, 120), dtype=bool)
    _ring(beside, 60 + 8 + 7)
    beside[25:35, 10:30] = True
    assert _separate_texts(beside, False, 60, 0, 60, 0, 120, 8)


def test_open_side_of_a_broken_rule_ends_where_the_rule_ends():
    # An open-sided one-row table whose row rules are broken into pieces: the new outer
    # boundary is where the rules end, not the median of where their pieces start.
    from extractor.stages.grid.lines import Segment
    from extractor.stages.grid.ruled import _extend

    top = (20.0, [Segment(20, 20, 317), Segment(20, 377, 745)])
    bottom = (75.0, [Segment(75, 20, 117), Segment(75, 182, 1254)])
    assert _extend([433.0, 550.0], [top, bottom], 8)[0] == 20.0


@at_every_dpi
def test_a_grid_of_more_columns_than_any_report_table_is_no_ruled_table(dpi):
    # Roller stripes every 24 px across a two-row box look like 40 column rules: no report's
    # table has so many (section 四 has 16), so the box gives no ruled grid to read slivers from.
    xs = list(range(20, 1000, 24))
    image, _ = _draw_table(xs, [40, 90, 140], [], {}, size=(1020, 180))
    table = _predict(image, BBox(x1=10, y1=30, x2=1010, y2=150), [], 0, dpi)
    assert not table.ruled and table.cells == []
    # Twelve columns, as section 三 has, are read.
    image, _ = _draw_table(xs[:13], [40, 90, 140], [], {}, size=(1020, 180))
    table = _predict(image, BBox(x1=10, y1=30, x2=1010, y2=150), [], 0, dpi)
    assert table.ruled and table.n_cols == 12
