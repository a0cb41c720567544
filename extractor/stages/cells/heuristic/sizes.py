"""Pixel sizes of the heuristic cell reader, from the height of the table's text.

Every length the reader uses (a stroke's width, a speck's size, the band along a cell's edges
where rules lie, a crop's padding) is written as it is where a table's characters are as high as
in a 200 dpi scan of our reports, and multiplied by a *unit*: the table's measured text height
over that height (:func:`measured_unit`). The same report scanned at 300 dpi, or an image whose
stated resolution is wrong, gets lengths in proportion to its text. Where too little text is
measured (a table with few inked cells), the unit is the scan's resolution over 200 dpi.
"""

from __future__ import annotations

import numpy as np

# Height of a table's whole characters (`text_height`) in a 200 dpi scan of our reports, pixels,
# measured on its cells' strict ink and on their whole ink (faint strokes joined): the medians
# over the 186 tables of 20 lines or more of 46 scanned samples and reports of the development
# seeds 125001-125002 (quartiles 25-29 and 27-31 px; type of 9 to 12 pt).
STRICT_HEIGHT_200 = 27.0
WHOLE_HEIGHT_200 = 29.0
# Fewest text lines a table's text height is measured over: in smaller tables (a header of four
# cells) one piece of a rule or one wrapped label moves it by half.
MIN_MEASURED_LINES = 20
# The measured unit is kept within these factors of the resolution's: an image stated at 200 dpi
# may have been scanned at 100 to 400, beyond that a measure is of no text.
_UNIT_RANGE = (0.5, 2.0)
# A measured unit nearer the resolution's than this share is the resolution's: every length of up
# to 10 px rounds to the same pixels, and the other bounds move by less than the measure's own
# spread from table to table (5-7%); the cells need not be judged again.
_SAME_UNIT = 0.05
# Lines more than this many times the median line are no line of text: a rule's piece the cell
# box took in, two lines joined by their faint strokes.
_TALLEST_LINE = 1.7
# Percentile of the line heights that is the height of whole characters.
_WHOLE_CHARACTERS = 90


def unit_for_dpi(dpi: float) -> float:
    """The unit of a scan at `dpi` whose text is not measured: pixels per pixel at 200 dpi."""
    return dpi / 200.0


def text_height(line_heights: list[int]) -> float | None:
    """The height of a table's whole characters, pixels: the 90th percentile of its text lines'
    heights, lines more than 1.7 times the median left out; None for no lines.

    Not the median line: lines of digits are lower than lines of Chinese characters (about 0.7
    of the type size against 0.9), and how many of each a table holds varies (measured against
    the type size of generated reports, the median line of 186 tables varies by 21%, this by 5
    to 7%).
    """
    if not line_heights:
        return None
    heights = np.asarray(line_heights, dtype=float)
    return float(np.percentile(heights[heights <= _TALLEST_LINE * np.median(heights)], _WHOLE_CHARACTERS))


def measured_unit(strict: list[int], whole: list[int], dpi: float) -> float:
    """The unit of a table whose text lines are `strict` pixels high on their strict ink and
    `whole` on their whole ink: the median of the two measures' units and the resolution's, kept
    within a factor of the resolution's; the resolution's unit when fewer than
    :data:`MIN_MEASURED_LINES` lines were measured or the median is within 5% of it.

    Each measure fails on some scans, the other way: a poor copy breaks a digit's strict ink into
    pieces, each a short line (a table measured at half its type size), and joins lines or a
    blotch to the whole ink (at 1.4 times). Where the two agree, the text sets the unit; where
    they do not, the one nearer the resolution's, or the resolution's itself. Against the type
    size of the generated reports over 186 tables, 4% of the tables are measured more than 20%
    off so, 12% and 6% by either measure alone (the resolution's unit is at most 17% off there:
    their type is 9 to 12 pt).
    """
    fallback = unit_for_dpi(dpi)
    if min(len(strict), len(whole)) < MIN_MEASURED_LINES:
        return fallback
    by_strict, by_whole = text_height(strict) / STRICT_HEIGHT_200, text_height(whole) / WHOLE_HEIGHT_200
    unit = float(np.median([by_strict, by_whole, fallback]))
    if abs(unit / fallback - 1) < _SAME_UNIT:
        return fallback
    low, high = _UNIT_RANGE
    return float(np.clip(unit, low * fallback, high * fallback))


def px(length: float, unit: float, least: int = 1) -> int:
    """`length` (pixels where text is as high as in a 200 dpi scan of our reports) in pixels at
    `unit`, rounded to the nearest and at least `least`.

    Rounded, not truncated: a unit a little under 1 keeps the lengths as they are at 1.
    """
    return max(least, int(length * unit + 0.5))


def odd_kernel(radius: float, unit: float) -> np.ndarray:
    """A square kernel of ones reaching `radius` pixels (at unit 1) either side of its centre."""
    size = 2 * px(radius, unit) + 1
    return np.ones((size, size), np.uint8)
