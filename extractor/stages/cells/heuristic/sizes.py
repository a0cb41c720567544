"""Pixel sizes of the heuristic cell reader.

Every length the reader uses (a stroke's width, a speck's size, the band along a cell's edges
where rules lie, a crop's padding) is written as it is in a 200 dpi scan, and multiplied by a
*unit*: the scan's resolution over 200 dpi.
"""

from __future__ import annotations

import numpy as np


def unit_for_dpi(dpi: float) -> float:
    """The unit of a scan at `dpi`: pixels per pixel at 200 dpi."""
    return dpi / 200.0


def px(length: float, unit: float, least: int = 1) -> int:
    """`length` (pixels at 200 dpi) in pixels at `unit`, rounded to the nearest and at least `least`.

    Rounded, not truncated: a unit a little under 1 keeps the lengths as they are at 1.
    """
    return max(least, int(length * unit + 0.5))


def odd_kernel(radius: float, unit: float) -> np.ndarray:
    """A square kernel of ones reaching `radius` pixels (at unit 1) either side of its centre."""
    size = 2 * px(radius, unit) + 1
    return np.ones((size, size), np.uint8)
