"""Cell-crop reading: what reaches the recogniser (no model: a recorder stands in for it)."""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from extractor.datamodel import BBox, Cell, Table
from extractor.stages.cells import CellReaderStage, HeuristicCellReaderOptions
from extractor.stages.cells.heuristic.ink import text_ink
from extractor.stages.cells.heuristic.lines import join_fragments, paint_mask

_FONTS = sorted(glob.glob("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"))
_DATA = Path(__file__).parent / "test_data"


def read_table_cells(table: Table, page: np.ndarray, recognise, dpi: float, recognise_text=None) -> Table:
    """The table read by the cell reading stage with the given recognisers."""
    stage = CellReaderStage(HeuristicCellReaderOptions(), recognise=recognise, recognise_text=recognise_text)
    return stage.predict(table, page, dpi)


def _cell_image(text: str, ink: int = 0, paper: int = 235, left: bool = False) -> np.ndarray:
    """A 110 x 46 px cell (200 dpi) with dark rules on all four sides and `text` inside."""
    img = Image.new("L", (110, 46), paper)
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 109, 45), outline=40, width=2)
    font = ImageFont.truetype(_FONTS[0], 24) if _FONTS else ImageFont.load_default(24)
    if left:
        draw.text((10, 23), text, font=font, fill=ink, anchor="lm")
    else:
        draw.text((55, 23), text, font=font, fill=ink, anchor="mm")
    return np.array(img)


def _components(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    import cv2

    _, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    return [tuple(int(v) for v in s[:4]) for s in stats[1:]]


def test_faint_digit_beside_dark_rules_is_kept_whole():
    # A light grey "0" (a pale print) next to black rules: the threshold comes from the cell's
    # interior, so the digit is one closed component, not a few specks.
    gray = _cell_image("0", ink=150, left=True)
    text, _ = text_ink(gray, 1.0)
    comps = _components(text)
    assert len(comps) == 1
    x, y, w, h = comps[0]
    assert h >= 12 and w >= 8


def test_rule_dash_and_speck_are_removed():
    # A broken left rule leaves a dash near the top-left corner, and a speck of dirt sits far to
    # the right of the digit: only the digit is text.
    gray = _cell_image("4")
    gray[:, :3] = 235  # the left rule has gone ...
    gray[4:18, 2:6] = 60  # ... except one dash near the top
    gray[30:33, 95:98] = 70  # a speck
    text, _ = text_ink(gray, 1.0)
    comps = _components(text)
    assert len(comps) == 1 and 40 <= comps[0][0] <= 60


def test_decimal_point_is_kept():
    gray = _cell_image("1.5")
    text, _ = text_ink(gray, 1.0)
    assert len(_components(text)) == 3


def _row_of_cells(images: list[np.ndarray]) -> tuple[np.ndarray, Table]:
    """A page holding the given 110 x 46 px cell images side by side, and its one-row table."""
    page = np.full((60, 20 + 110 * len(images), 3), 235, dtype=np.uint8)
    cells = []
    for i, image in enumerate(images):
        page[5:51, 10 + 110 * i : 120 + 110 * i] = image if image.ndim == 3 else image[:, :, None]
        cells.append(Cell(row=0, col=i, text="", bbox=BBox(x1=10 + 110 * i, y1=5, x2=120 + 110 * i, y2=51), page=0))
    bbox = BBox(x1=10, y1=5, x2=10 + 110 * len(images), y2=51)
    return page, Table(n_rows=1, n_cols=len(images), cells=cells, pages=[0], bbox=bbox)


def _read_as(page: np.ndarray, table: Table, text: str, score: float = 0.9) -> tuple[Table, list[list[np.ndarray]]]:
    """`read_table_cells` with a recogniser that reads every crop as `text`: the table read, and
    the line crops of each call to the recogniser."""
    calls = []

    def recognise(crops):
        calls.append(list(crops))
        return [(text, score) for _ in crops]

    return read_table_cells(table, page, recognise, 200.0), calls


def _crops_read(page: np.ndarray, table: Table) -> list[np.ndarray]:
    """The line crops `read_table_cells` hands to the recogniser."""
    return [crop for call in _read_as(page, table, "0")[1] for crop in call]


def test_cells_are_read_from_line_crops_as_read():
    # Two cells: a "0" and a blank one. The recogniser is asked once, for one line crop, and its
    # reading is kept as it is, trailing mark included (the assembler judges and flags it).
    out, calls = _read_as(*_row_of_cells([_cell_image("0"), _cell_image("")]), "0.")
    assert [len(call) for call in calls] == [1]
    assert [c.text for c in out.cells] == ["0.", ""]


def test_only_the_cells_asked_for_are_read():
    # A "0", a "5" whose cell already holds a reading (from the page's text), and a blank cell.
    # The stage reads the first and last; the second keeps its text and score untouched.
    page, table = _row_of_cells([_cell_image("0"), _cell_image("5"), _cell_image("")])
    cells = list(table.cells)
    cells[1] = cells[1].model_copy(update={"text": "5", "score": 0.7})
    table = table.model_copy(update={"cells": cells})
    stage = CellReaderStage(HeuristicCellReaderOptions(), recognise=lambda crops: [("0", 0.9) for _ in crops])
    out = stage.predict(table, page, 200.0, only=[0, 2])
    assert [(c.text, c.score) for c in out.cells] == [("0", 0.9), ("5", 0.7), ("", 1.0)]
    assert out.cells[1] == cells[1]


def test_lone_dashes_are_read_by_their_shape():
    # Zeros printed as "—" or "-" are too low to make a text line; they are kept (not read as
    # blank cells) and told apart by their length against the table's digits.
    # The recogniser reads them too (one batch): where it agrees (no digit but 0) the shape stands.
    out, calls = _read_as(*_row_of_cells([_cell_image(t) for t in ("0", "—", "-")]), "0", 0.99)
    assert [len(call) for call in calls] == [3]
    assert [c.text for c in out.cells] == ["0", "—", "-"]
    assert [c.score for c in out.cells] == [0.99, 1.0, 1.0] and out.cells[1].evidence == ["shape:dash"]


def _fixture_cell(name: str) -> tuple[np.ndarray, Table]:
    from PIL import Image

    crop = np.array(Image.open(Path(__file__).parent / "test_data" / name).convert("RGB"))
    box = BBox(x1=0, y1=0, x2=crop.shape[1], y2=crop.shape[0])
    return crop, Table(n_rows=1, n_cols=1, cells=[Cell(row=0, col=0, bbox=box, page=0)], pages=[0], bbox=box)


def test_a_dash_the_recogniser_reads_as_a_digit_keeps_both_readings_and_a_low_score():
    # Augraphy's typical scan of a pale grey "7": the threshold keeps only its top stroke, a dash
    # by its shape, and the value went out as 0 unflagged. The recogniser reads the cell's ink as
    # "7": neither decides alone, both readings go on (the identities may choose) and the score
    # sends the field to review.
    out, calls = _read_as(*_fixture_cell("cell_faint_seven_as_dash_augraphy.png"), "7", 0.95)
    cell = out.cells[0]
    assert len(calls[0]) == 1
    assert cell.text in ("-", "—") and cell.score == 0.5
    assert [text for text, _ in cell.candidates] == [cell.text, "7"]
    assert cell.evidence == ["shape:dash", "recogniser read '7'"]


def test_a_digit_judged_blank_is_read_by_the_recogniser_too():
    # Augraphy's typical scan of a "2" on grey paper between dotted rules: the cell's ink was
    # judged blank (alone on its crop, its remains pass for a dash) and the field went out as 0
    # unflagged. Its faint ink is read as well.
    out, _ = _read_as(*_fixture_cell("cell_two_judged_blank_augraphy.png"), "2", 0.9)
    cell = out.cells[0]
    assert cell.evidence[0] in ("ink:blank", "shape:dash") and cell.evidence[1:] == ["recogniser read '2'"]
    assert cell.score == 0.5 and [t for t, _ in cell.candidates] == [cell.text, "2"]


def test_a_blank_cell_with_specks_only_is_not_read_again():
    specks = _cell_image("")
    specks[14:20, 57:61] = 200
    out, calls = _read_as(*_row_of_cells([specks]), "1", 0.99)
    assert calls == [] and out.cells[0].text == "" and out.cells[0].score == 1.0


def test_faint_dash_in_pieces_with_a_speck_is_still_a_dash():
    # A dark copy prints "—" as four 1 px pieces along one line, with a speck of dirt above it:
    # read by the recogniser, the speck came out as "1". It is a dash by its shape.
    dash = _cell_image("")
    for x0, x1 in ((45, 47), (48, 51), (54, 58), (61, 66)):
        dash[23, x0:x1] = 90
    dash[8:12, 60:63] = 90
    page, table = _row_of_cells([_cell_image("0"), dash])
    out = read_table_cells(table, page, lambda crops: [("1", 0.99) for _ in crops], 200.0)
    assert out.cells[1].text == "—"
    # Read as a whole by the recogniser it is "1" too, which a flat stroke is not: no doubt.
    assert out.cells[1].score == 1.0 and out.cells[1].evidence == ["shape:dash"]


def test_dash_with_dots_along_its_line_is_still_a_dash():
    # A right-aligned "—" with a dot of dirt beyond either end on its line, and a short stroke
    # of dirt near the top (read "11" when it was taken for the text): the dots are not part of
    # a longer, broken stroke, and the cell is a dash.
    dash = _cell_image("")
    dash[22:26, 70:89] = 90
    dash[21:24, 95:98] = 90
    dash[24:26, 19:21] = 90
    dash[4:10, 80:83] = 90
    page, table = _row_of_cells([_cell_image("0"), dash])
    out = read_table_cells(table, page, lambda crops: [("11", 0.99) for _ in crops], 200.0)
    assert out.cells[1].text == "—"


def test_slash_is_read_by_its_shape_and_a_pale_two_is_not_a_slash():
    # A "/" printed for zero is decided by its shape. A pale "2" from a generated hard scan,
    # whose diagonal is what the threshold keeps darkest, leans as much but is wide across its
    # axis: it goes to the recogniser (it was read "/").
    from PIL import Image

    out, _ = _read_as(*_row_of_cells([_cell_image("/")]), "1", 0.99)
    assert out.cells[0].text == "/"
    # The recogniser reads the slash "1" too; the shape measured a leaning stroke: no doubt.
    assert out.cells[0].score == 1.0 and out.cells[0].evidence == ["shape:slash"]
    out, _ = _read_as(*_row_of_cells([_cell_image("/")]), "7", 0.99)
    assert out.cells[0].score == 0.5 and [t for t, _ in out.cells[0].candidates] == ["/", "7"]
    scan = np.array(Image.open(Path(__file__).parent / "test_data" / "cell_pale_two_hard_scan.png").convert("RGB"))
    box = BBox(x1=0, y1=0, x2=scan.shape[1], y2=scan.shape[0])
    table = Table(n_rows=1, n_cols=1, cells=[Cell(row=0, col=0, bbox=box, page=0)], pages=[0], bbox=box)
    out, _ = _read_as(scan, table, "2", 0.99)
    assert out.cells[0].text == "2"


def test_pale_digit_is_read_and_specks_in_a_blank_cell_are_not():
    # A "0" printed 35 grey levels darker than the paper (a faded copy) was too pale for the
    # threshold, and its cell was taken for blank: it is read. A blank cell with two specks of
    # dirt a character's height apart stays blank.
    specks = _cell_image("")
    specks[14:20, 57:61] = 200
    specks[33:36, 60:64] = 200
    out, calls = _read_as(*_row_of_cells([_cell_image("0", ink=200), specks]), "0", 0.99)
    assert [c.text for c in out.cells] == ["0", ""]
    assert [len(call) for call in calls] == [1]


def test_tall_cell_holding_only_a_piece_of_its_side_rule_is_blank():
    # A three-line row: its value cell is blank but for a piece of a faint left rule the box
    # took in, 60 px high where the table's digits are 17 (read "1"). A "1" beside its right
    # rule, a line high, is read.
    page = np.full((150, 240, 3), 235, dtype=np.uint8)
    page[5:51, 0:110] = _cell_image("0")[:, :, None]
    grain = np.random.default_rng(0).normal(0, 4, (140, 110))
    tall = np.clip(235 + grain, 0, 255).astype(np.uint8)
    tall[:2, :], tall[-2:, :], tall[:, -2:] = 40, 40, 40
    tall[40:100, 1:6] = 150 + grain[40:100, 1:6]
    page[5:145, 120:230] = tall[:, :, None]
    one = _cell_image("")
    one[15:33, 96:99] = 0
    page[97:143, 0:110] = one[:, :, None]
    boxes = [BBox(x1=0, y1=5, x2=110, y2=51), BBox(x1=120, y1=5, x2=230, y2=145), BBox(x1=0, y1=97, x2=110, y2=143)]
    cells = [Cell(row=0, col=i, bbox=b, page=0) for i, b in enumerate(boxes)]
    table = Table(n_rows=1, n_cols=3, cells=cells, pages=[0], bbox=BBox(x1=0, y1=5, x2=230, y2=145))
    out, _ = _read_as(page, table, "1", 0.99)
    assert [c.text for c in out.cells] == ["1", "", "1"]


def test_a_piece_of_side_rule_beside_a_digit_is_not_read():
    # A tall value cell of a generated hard scan (seed 71000): a "1" and, along the left side, a
    # piece of a faint broken rule three lines high (read "11"). Beside a cell of the table's
    # ordinary text, only the "1" is cropped for the recogniser: one line, narrow.
    scan = np.array(Image.open(_DATA / "cell_one_beside_rule_piece_hard_scan.png").convert("RGB"))
    page = np.full((scan.shape[0] + 60, scan.shape[1] + 130, 3), 235, dtype=np.uint8)
    page[5:51, 0:110] = _cell_image("0")[:, :, None]
    page[5 : 5 + scan.shape[0], 120 : 120 + scan.shape[1]] = scan
    boxes = [BBox(x1=0, y1=5, x2=110, y2=51), BBox(x1=120, y1=5, x2=120 + scan.shape[1], y2=5 + scan.shape[0])]
    cells = [Cell(row=0, col=i, bbox=b, page=0) for i, b in enumerate(boxes)]
    table = Table(n_rows=1, n_cols=2, cells=cells, pages=[0], bbox=BBox(x1=0, y1=5, x2=boxes[1].x2, y2=boxes[1].y2))
    crops = _crops_read(page, table)
    assert len(crops) == 2 and crops[1].shape[0] < 50 and crops[1].shape[1] < 70


def test_frame_corner_left_inside_the_crop_is_removed():
    # The cell box starts a little inside its rules, and a broken copy leaves the end of the top
    # rule joined to the top of the right rule: one "┐" piece (read as "7"). Only the digit stays.
    gray = _cell_image("0")
    gray[:3, :], gray[-3:, :], gray[:, :3], gray[:, -3:] = 235, 235, 235, 235  # the frame has gone ...
    gray[4:7, 70:106] = 60  # ... except the end of the top rule
    gray[4:20, 103:106] = 60  # and the top of the right rule, meeting it
    text, _ = text_ink(gray, 1.0)
    comps = _components(text)
    assert len(comps) == 1 and 40 <= comps[0][0] <= 60


def test_speck_before_a_number_is_removed():
    # A dot of dirt just left of a "0", on its baseline, is not a decimal point: no number starts
    # with one, and the recogniser reads it as a leading "4".
    gray = _cell_image("0")
    gray[30:33, 40:43] = 60
    text, _ = text_ink(gray, 1.0)
    comps = _components(text)
    assert len(comps) == 1 and comps[0][0] > 45


def test_long_rule_dash_does_not_turn_the_digits_into_specks():
    # A long dash of the top rule, well inside the crop, is far longer than the digits: the
    # digits are still text (judged by the line's height), and the dash is a rule piece.
    gray = _cell_image("12")
    gray[:3, :] = 235
    gray[7:10, 20:95] = 60
    text, _ = text_ink(gray, 1.0)
    comps = _components(text)
    assert comps and all(y > 10 for _, y, _, _ in comps)
    assert sum(w for _, _, w, _ in comps) >= 16


def test_paint_spares_pieces_touching_the_text():
    # A faint digit judged partly as specks: the pieces next to the kept strokes are not painted
    # over (that would cut holes in it), dirt and paper further off are.
    text = np.zeros((40, 60), dtype=bool)
    text[10:30, 20:23] = True
    paint = paint_mask(text, 1.0)
    assert not paint[12:14, 24:26].any()  # a pixel or two off the stroke
    assert paint[12:14, 45:47].all()  # far off


@pytest.mark.parametrize(
    ("spans", "line", "expected"),
    [
        ([(10, 20), (23, 33)], 24.0, [(10, 33)]),  # a "2" in two pieces: one line
        ([(0, 26), (29, 55)], 26.0, [(0, 26), (29, 55)]),  # two characters of a vertical label
        ([(10, 34), (40, 44)], 24.0, [(10, 34)]),  # a crumb of dirt under the number
        ([(10, 14)], 24.0, [(10, 14)]),  # a lone dash ("—") is all there is: kept
    ],
)
def testjoin_fragments(spans, line, expected):
    assert join_fragments(spans, line) == expected


def test_speck_after_a_number_is_removed():
    # A speck just right of a "0" on its baseline would be read "0.": nothing follows it, so it
    # is no decimal point.
    gray = _cell_image("0")
    gray[30:33, 66:69] = 60
    text, _ = text_ink(gray, 1.0)
    comps = _components(text)
    assert len(comps) == 1 and comps[0][0] + comps[0][2] < 66


def test_pale_print_is_stretched_to_full_contrast():
    # A grey "0" (ink 150) on darker paper (200): the line crop handed to the recogniser has
    # near-black ink and near-white paper.
    page = np.full((60, 130, 3), 200, dtype=np.uint8)
    page[5:51, 10:120] = _cell_image("0", ink=150, paper=200)[:, :, None]
    cells = [Cell(row=0, col=0, text="", bbox=BBox(x1=10, y1=5, x2=120, y2=51), page=0)]
    table = Table(n_rows=1, n_cols=1, cells=cells, pages=[0], bbox=BBox(x1=10, y1=5, x2=120, y2=51))
    seen = _crops_read(page, table)
    assert len(seen) == 1
    assert seen[0].min() <= 40 and np.median(seen[0]) >= 230


def test_thick_rule_piece_a_little_inside_the_box_is_removed():
    # A tall cell whose box starts a few pixels left of its rule, on a dark copy: a 5 px wide
    # piece of the rule, far taller than the digit, stands 6 px in. The digit is the text, not a
    # speck beside a tall stroke, and the piece is a rule.
    img = Image.new("L", (110, 150), 235)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(_FONTS[0], 24) if _FONTS else ImageFont.load_default(24)
    draw.text((30, 75), "0", font=font, fill=0, anchor="lm")
    gray = np.array(img)
    gray[48:128, 6:11] = 40
    text, _ = text_ink(gray, 1.0)
    comps = _components(text)
    assert len(comps) == 1 and comps[0][0] >= 25


def _pale_zero_cell() -> np.ndarray:
    """A 110 x 46 px grey cell (paper 225, grain ±4) holding a "0" whose stems print at 120 and
    whose thin top and bottom arcs at 185: lighter than the threshold of the text, as on a faded
    copy."""
    import cv2

    gray = np.full((46, 110), 225, dtype=np.uint8)
    gray += np.random.default_rng(0).integers(0, 8, gray.shape, dtype=np.uint8)
    gray -= 4
    cv2.ellipse(gray, (55, 23), (8, 12), 0, 0, 360, 185, 2)
    cv2.ellipse(gray, (55, 23), (8, 12), 0, 150, 210, 120, 3)
    cv2.ellipse(gray, (55, 23), (8, 12), 0, -30, 30, 120, 3)
    return cv2.GaussianBlur(gray, (3, 3), 0)


def test_faint_strokes_joined_to_the_text_are_text():
    # On the text's own threshold the arcs of the pale "0" break off its stems; the ink joined
    # to the stems on a looser one makes it whole again (the speck-free paper grain does not join).
    gray = _pale_zero_cell()
    strict, whole = text_ink(gray, 1.0)
    assert not strict[9:13, 53:58].any() and not strict[34:38, 53:58].any()
    assert whole[9:13, 53:58].any() and whole[34:38, 53:58].any()
    assert len(_components(whole)) == 1


def test_line_crop_takes_in_the_faint_arcs_of_a_zero():
    # The line is found on the stems, but the crop handed to the recogniser reaches over the pale
    # arcs: cut at the stems, the "0" is read as "u" or "日".
    seen = _crops_read(*_row_of_cells([_pale_zero_cell()]))
    assert len(seen) == 1
    dark_rows = np.flatnonzero((seen[0][:, :, 0] < 200).any(axis=1))
    assert dark_rows[-1] - dark_rows[0] + 1 >= 24  # the whole height of the "0", arcs included


def test_red_seal_over_a_value_is_dropped_and_a_red_value_is_read():
    # A red seal's bar crosses the cell of a black "5": the crop handed to the recogniser shows
    # the "5" on clean paper. A value printed in red with nothing black in its cell is still read.
    sealed = np.dstack([_cell_image("5")] * 3)
    sealed[8:38, 70:100] = (sealed[8:38, 70:100] * np.array([0.9, 0.25, 0.25])).astype(np.uint8)
    red_value = np.dstack([_cell_image("7")] * 3)
    red_value[red_value[:, :, 0] < 128] = (200, 30, 30)
    seen = _crops_read(*_row_of_cells([sealed, red_value]))
    assert len(seen) == 2
    five = seen[0][:, :, 0]
    assert five.min() <= 40  # the digit is there ...
    assert five.shape[1] < 70  # ... alone: the seal's grey block beside it is not in the crop


def test_grey_value_under_a_seal_keeps_its_strokes():
    # A seal's edge runs down the middle of a grey "0": under it the digit's right half is
    # reddish (ink multiplies) but far darker in the red channel than the seal. The recogniser
    # sees the whole digit (the half was painted over with the seal, and read "L" or ":").
    plain = np.dstack([_cell_image("0", ink=110)] * 3)
    sealed = plain.copy()
    sealed[3:43, 55:107] = (sealed[3:43, 55:107] * np.array([220 / 255, 30 / 255, 30 / 255])).astype(np.uint8)
    seen_plain, seen_sealed = _crops_read(*_row_of_cells([plain])), _crops_read(*_row_of_cells([sealed]))
    assert len(seen_plain) == len(seen_sealed) == 1
    dark_plain, dark_sealed = (np.count_nonzero(c[:, :, 0] < 128) for c in (seen_plain[0], seen_sealed[0]))
    assert dark_sealed >= 0.8 * dark_plain


def test_blank_cell_under_a_broken_thick_rule_is_blank():
    # A skewed copy puts the cell box a few pixels into the shaded header above it: all the cell
    # holds is the broken rule along its top, blurred 8 px thick (read "1" with a high score).
    gray = _cell_image("")
    gray[:3, :] = 235
    for x0, x1 in ((12, 60), (66, 80), (86, 100)):
        gray[4:12, x0:x1] = 120
    page, table = _row_of_cells([gray])
    assert _crops_read(page, table) == []
    assert read_table_cells(table, page, lambda crops: [("1", 0.99) for _ in crops], 200.0).cells[0].text == ""


def test_wide_label_lines_are_read_by_the_text_recogniser_and_numbers_by_the_cell_recogniser():
    # Four cells: a label, a numbered label, a label the text recogniser is unsure of, a number.
    # The three label lines are wide and go to the (faster) text recogniser. Its reading with a
    # digit and its unsure reading are read again by the cell recogniser, with the number.
    font = ImageFont.truetype(_FONTS[0], 24) if _FONTS else ImageFont.load_default(24)
    widths, texts = [300, 300, 300, 110], ["行政复议申请", "1.信访举报投诉", "不予公开的情形", "12"]
    page = np.full((60, 20 + sum(widths), 3), 235, dtype=np.uint8)
    image, cells, x = Image.fromarray(page), [], 10
    draw = ImageDraw.Draw(image)
    for i, (width, text) in enumerate(zip(widths, texts)):
        draw.rectangle((x, 5, x + width - 1, 50), outline=(40, 40, 40), width=2)
        draw.text((x + 10, 28), text, font=font, fill=(0, 0, 0), anchor="lm")
        cells.append(Cell(row=0, col=i, text="", bbox=BBox(x1=x, y1=5, x2=x + width, y2=51), page=0))
        x += width
    table = Table(n_rows=1, n_cols=4, cells=cells, pages=[0], bbox=BBox(x1=10, y1=5, x2=x, y2=51))
    calls: dict[str, list[int]] = {"text": [], "cell": []}

    def recogniser(name: str, readings: list[tuple[str, float]]):
        def recognise(crops):
            calls[name].append(len(crops))
            return readings[: len(crops)]

        return recognise

    out = read_table_cells(
        table,
        np.array(image),
        recogniser("cell", [("1.信访举报投诉", 0.95), ("不予公开的情形", 0.93), ("12", 0.99)]),
        200.0,
        recognise_text=recogniser("text", [("行政复议申请", 0.96), ("1.信访举报投诉", 0.97), ("不予公开的请形", 0.6)]),
    )
    assert calls == {"text": [3], "cell": [3]}
    assert [c.text for c in out.cells] == texts
    assert [c.score for c in out.cells] == [0.96, 0.95, 0.93, 0.99]


def test_a_blank_cell_on_textured_paper_is_blank():
    # Augraphy's hard scan of grey, blotched paper (development seed 125000): the blotches' darkest
    # specks lie 45 grey levels under the paper, past the threshold of 40. Left as ink, they were
    # read as text, or as a sure "1" once the blotches around them were taken for paper.
    out, calls = _read_as(*_fixture_cell("cell_blank_textured_paper_augraphy.png"), "1", 0.99)
    assert out.cells[0].text == "" and out.cells[0].evidence == ["ink:blank"]


def test_a_number_on_textured_paper_reaches_the_recogniser_alone():
    # "84" of a real report (huaian-hongze-2024, page 3) degraded by Augraphy: the paper's blotches
    # passed the threshold with the digits and the crop was read "1I". Measured from the local
    # paper, only the digits are ink: one line crop, about their size.
    out, calls = _read_as(*_fixture_cell("cell_84_on_textured_paper_augraphy.png"), "84", 0.99)
    assert out.cells[0].text == "84"
    (crop,) = [c for call in calls for c in call]
    assert 20 <= crop.shape[0] <= 60 and crop.shape[1] <= 120
