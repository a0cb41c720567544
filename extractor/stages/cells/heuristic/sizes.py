"""Pixel sizes of the heuristic cell reader, from the height of the table's text.

Every length the reader uses (a stroke's width, a speck's size, the band along a cell's edges
where rules lie, a crop's padding) is written as it is where a table's characters are as high as
in a 200 dpi scan of our reports (:data:`TEXT_HEIGHT_200`), and multiplied by a *unit*: the
table's measured text height over that height. The same report scanned at 300 dpi, or printed
in a larger type, gets lengths in proportion to its text. Where too little text is measured (a
table with few inked cells), the unit is the scan's resolution over 200 dpi.
"""

from __future__ import annotations

import numpy as np

# Height of a table's whole characters (`text_height`) in a 200 dpi scan of our reports, pixels:
# the median over the 136 tables of 20 lines or more of the scanned samples and the development
# sets of seeds 125001-125002 (quartiles 25 and 29 px; type of 9 to 12 pt).
TEXT_HEIGHT_200 = 27.0
# Fewest text lines a table's text height is measured over: in smaller tables (a header of four
# cells) one piece of a rule or one wrapped label moves it by half.
MIN_MEASURED_LINES = 20
# The measured unit is kept within these factors of the resolution's: table text is printed from
# about 7.5 to 15 pt, and a measure outside is of no text (a table of faded digits in pieces).
_UNIT_RANGE = (0.7, 1.4)
# Lines more than this many times the median line are no line of text: a rule's piece the cell
# box took in, two lines run together.
_TALLEST_LINE = 2.0
# Percentile of the line heights that is the height of whole characters.
_WHOLE_CHARACTERS = 90


def unit_for_dpi(dpi: float) -> float:
    """The unit of a scan at `dpi` whose text is not measured: pixels per pixel at 200 dpi."""
    return dpi / 200.0


def text_height(line_heights: list[int]) -> float | None:
    """The height of a table's whole characters, pixels: the 90th percentile of its text lines'
    heights, lines more than twice the median left out; None for no lines.

    Not the median line: lines of digits are lower than lines of Chinese characters (about 0.7
    of the type size against 0.9), the pieces of a broken character lower still, and how many of
    each a table holds varies. Measured against the type size of generated reports, over their
    tables, this varies by 7% (robust spread), the median line by 27%.
    """
    if not line_heights:
        return None
    heights = np.asarray(line_heights, dtype=float)
    return float(np.percentile(heights[heights <= _TALLEST_LINE * np.median(heights)], _WHOLE_CHARACTERS))


def measured_unit(height: float | None, lines: int, dpi: float) -> float:
    """The unit of a table whose whole characters are `height` pixels high (measured over
    `lines` lines), within a factor of the resolution's unit; the resolution's unit when fewer
    than :data:`MIN_MEASURED_LINES` lines were measured."""
    fallback = unit_for_dpi(dpi)
    if height is None or lines < MIN_MEASURED_LINES:
        return fallback
    low, high = _UNIT_RANGE
    return float(np.clip(height / TEXT_HEIGHT_200, low * fallback, high * fallback))


def px(length: float, unit: float, least: int = 1) -> int:
    """`length` (pixels where text is :data:`TEXT_HEIGHT_200` high) in pixels at `unit`,
    rounded to the nearest and at least `least`.

    Rounded, not truncated: a unit a little under 1 keeps the lengths as they are at 1.
    """
    return max(least, int(length * unit + 0.5))


def odd_kernel(radius: float, unit: float) -> np.ndarray:
    """A square kernel of ones reaching `radius` pixels (at unit 1) either side of its centre."""
    size = 2 * px(radius, unit) + 1
    return np.ones((size, size), np.uint8)
