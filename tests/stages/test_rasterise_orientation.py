"""Uprighting scanned pages: quarter turns, upside-down pages and small skew."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from extractor.datamodel import PageRecord
from extractor.stages.rasterise import PageImage, open_pdf, render_page
from extractor.stages.rasterise.orientation import (
    estimate_skew,
    is_sideways,
    is_upside_down,
    rotate_small,
    to_upright,
    upright_page,
)

REAL_REPORTS = Path(__file__).resolve().parents[2] / ".." / "shared" / "real-reports"


@cache
def _table_page() -> PageImage:
    """huaian-hongze-2024 page 3 at 200 dpi: section 二 table, section 三 heading and table."""
    path = REAL_REPORTS / "huaian-hongze-2024.pdf"
    if not path.exists():
        pytest.skip(f"real report not available at {REAL_REPORTS}")
    with open_pdf(path) as pdf:
        return render_page(pdf, 2, dpi=200)


def _turned(page: PageImage, clockwise: int) -> PageImage:
    image = np.ascontiguousarray(np.rot90(page.image, k=-clockwise // 90))
    record = page.record.model_copy(update={"width": image.shape[1], "height": image.shape[0]})
    return PageImage(image=image, record=record)


@cache
def _recogniser():
    from extractor.stages.ocr import OcrStage, RapidOcrOptions

    return OcrStage(RapidOcrOptions(threads=1)).recognise_prose_crops


@pytest.mark.parametrize("clockwise", [90, 270])
def test_sideways_page_is_detected(clockwise: int) -> None:
    # A real table page turned a quarter either way, and the page as it is.
    # Turned pages are sideways, the upright page is not.
    page = _table_page()
    assert is_sideways(_turned(page, clockwise).image, 200)
    assert not is_sideways(page.image, 200)


@pytest.mark.parametrize("tilt", [1.5, -1.5, 4.0])
def test_small_skew_is_measured_and_undone(tilt: float) -> None:
    # The page rotated counter-clockwise by `tilt` degrees, as a crooked scan would be.
    # The estimate is the clockwise correction, within 0.1°; uprighting applies it.
    page = _table_page()
    crooked = PageImage(image=rotate_small(page.image, -tilt), record=page.record)
    assert estimate_skew(crooked.image, 200) == pytest.approx(tilt, abs=0.1)
    fixed = upright_page(crooked)
    assert fixed.record.skew_degrees == pytest.approx(tilt, abs=0.1)
    assert fixed.record.rotation == 0
    assert abs(estimate_skew(fixed.image, 200)) <= 0.1


def test_straight_page_is_left_alone() -> None:
    # A page rendered straight from the PDF.
    # No rotation, no skew, the very same pixels.
    page = _table_page()
    result = upright_page(page)
    assert (result.record.rotation, result.record.skew_degrees) == (0, 0.0)
    assert result.image is page.image


@pytest.mark.ml
@pytest.mark.parametrize("clockwise", [0, 90, 180, 270])
def test_turned_page_is_uprighted_with_the_recogniser(clockwise: int) -> None:
    # The page turned by 0/90/180/270° clockwise, uprighted with rapidocr reading a few lines
    # upright and flipped (by the prose recogniser, as the pipeline does). The applied rotation undoes the turn and the pixels match the original.
    page = _table_page()
    result = upright_page(_turned(page, clockwise), recognise=_recogniser())
    assert result.record.rotation == (360 - clockwise) % 360
    assert result.image.shape == page.image.shape
    assert np.array_equal(result.image, page.image)


class _ScriptedRecogniser:
    """Gives every crop of its n-th call the n-th score; records how many calls it got."""

    def __init__(self, *scores: float) -> None:
        self.scores, self.calls = scores, 0

    def __call__(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        score = self.scores[self.calls]
        self.calls += 1
        return [("字", score)] * len(crops)


def test_lines_that_read_well_upright_are_not_read_turned() -> None:
    # The upright reading scores 0.97: the turned one would need more than 1.0 to win.
    # The page is upright and the lines are recognised once, not twice.
    recognise = _ScriptedRecogniser(0.97, 1.0)
    assert not is_upside_down(_table_page().image, 200.0, recognise)
    assert recognise.calls == 1


def test_lines_that_read_better_turned_turn_the_page() -> None:
    # The upright reading scores 0.6 and the turned one 0.9: the page is upside down.
    # Both readings are made.
    recognise = _ScriptedRecogniser(0.6, 0.9)
    assert is_upside_down(_table_page().image, 200.0, recognise)
    assert recognise.calls == 2


def test_lines_illegible_both_ways_leave_the_page_as_it_is() -> None:
    # Streaks and noise of a poor copy taken for lines: 0.1 upright, 0.3 turned. The turned
    # reading is better by more than the margin but illegible too: no evidence to turn the page.
    recognise = _ScriptedRecogniser(0.1, 0.3)
    assert not is_upside_down(_table_page().image, 200.0, recognise)
    assert recognise.calls == 2


@pytest.mark.parametrize(("rotation", "skew"), [(0, 2.4), (90, 0.0), (90, -1.5), (180, 1.0), (270, 3.0)])
def test_a_point_of_the_scan_is_found_on_the_uprighted_page(rotation: int, skew: float) -> None:
    # A dot on a 300 x 200 page, put through upright_page's steps as the record states them
    # (quarter turn, skew about the centre, half turn). to_upright lands on the dot's new centre.
    image = np.full((300, 200), 255, dtype=np.uint8)
    image[40:47, 150:157] = 0  # centre (153, 43)
    if rotation in (90, 270):
        image = np.ascontiguousarray(np.rot90(image, k=-1))
    image = rotate_small(image, skew)
    if rotation in (180, 270):
        image = np.ascontiguousarray(np.rot90(image, k=2))
    ys, xs = np.nonzero(image < 128)
    record = PageRecord(index=0, width=image.shape[1], height=image.shape[0], dpi=200, rotation=rotation, skew_degrees=skew)
    x, y = to_upright(record, 153, 43)
    assert abs(x - xs.mean()) < 1.0 and abs(y - ys.mean()) < 1.0
