"""The perspective of a ruled table is undone by a homography fitted to its rules."""

import cv2
import numpy as np
import pytest

from extractor.stages.grid.lines import binarise, line_masks, line_params
from extractor.stages.grid.rectify import apply, rectifying_homography, vanishing_point


def _ruled_grid(dpi: float = 200.0) -> tuple[np.ndarray, list[float], list[float]]:
    """A white crop with a 20-row x 8-column ruled grid (2 px rules) and its rule positions."""
    f = dpi / 200
    h, w = int(1900 * f), int(1500 * f)
    image = np.full((h, w), 255, np.uint8)
    ys = [float(int(60 * f + i * 88 * f)) for i in range(21)]
    xs = [float(int(60 * f + j * 172 * f)) for j in range(9)]
    for y in ys:
        cv2.line(image, (int(xs[0]), int(y)), (int(xs[-1]), int(y)), 0, max(1, int(2 * f)))
    for x in xs:
        cv2.line(image, (int(x), int(ys[0])), (int(x), int(ys[-1])), 0, max(1, int(2 * f)))
    return image, xs, ys


def _tilted(image: np.ndarray, corner_share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    h, w = image.shape
    rng = np.random.default_rng(seed)
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    moved = corners + rng.uniform(-corner_share, corner_share, size=(4, 2)).astype(np.float32) * w
    tilt = cv2.getPerspectiveTransform(corners, moved)
    return cv2.warpPerspective(image, tilt, (w, h), borderValue=255), tilt


def _masks(image: np.ndarray, dpi: float):
    params = line_params(dpi)
    return line_masks(binarise(image, params), params), params


@pytest.mark.parametrize("dpi", [150.0, 200.0, 300.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rules_of_a_table_seen_in_perspective_are_level_and_upright_once_rectified(dpi, seed):
    # A ruled grid is tilted in perspective (corners moved up to 1.6% of the width) so that
    # its top and bottom rules, and its left and right rules, converge by many pixels. The
    # fitted homography maps every rule back to one y (rows) or one x (columns) within 1.5 px.
    grid, xs, ys = _ruled_grid(dpi)
    tilted, tilt = _tilted(grid, 0.016, seed)
    (horizontal, vertical), params = _masks(tilted, dpi)
    homography = rectifying_homography(horizontal, vertical, params.h_kernel, params.v_kernel)
    assert homography is not None
    to_rectified = homography @ tilt
    for y in ys:
        along = apply(to_rectified, np.array([[x, y] for x in np.linspace(xs[0], xs[-1], 9)]))
        assert np.ptp(along[:, 1]) < 1.5
    for x in xs:
        along = apply(to_rectified, np.array([[x, y] for y in np.linspace(ys[0], ys[-1], 9)]))
        assert np.ptp(along[:, 0]) < 1.5


def test_an_upright_table_is_left_alone():
    # The same grid, not tilted: nothing to rectify.
    grid, _, _ = _ruled_grid()
    (horizontal, vertical), params = _masks(grid, 200.0)
    assert rectifying_homography(horizontal, vertical, params.h_kernel, params.v_kernel) is None


def test_a_stray_stroke_does_not_bend_the_fit():
    # Parallel row rules and one long stroke at 3 degrees across them (a fold's crease, a
    # heading's underline): the rows' vanishing point stays at infinity along x.
    lines = [(np.array([0.0, 1.0, -y]), 1000.0) for y in range(100, 1000, 90)]
    stray = np.array([-np.sin(np.radians(3)), np.cos(np.radians(3)), -500.0])
    lines.append((stray / np.hypot(stray[0], stray[1]), 1200.0))
    v = vanishing_point(lines, np.array([1.0, 0.0]), np.array([600.0, 550.0]), 1200.0)
    assert abs(v[2]) < 1e-6 and abs(v[1] / v[0]) < 1e-4


# Tables of Augraphy's hard scans, tilted in perspective by albumentations (development seed
# 125003): crops of the uprighted page, the table region 40 px inside each edge.
_DATA = __import__("pathlib").Path(__file__).parent / "test_data"


def _fixture(name: str) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(_DATA / name)), cv2.COLOR_BGR2RGB)


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        # The end of section 三 under a faint photocopy: its ten columns, where one rotation and
        # shear left the 总计 column's rule in two places (a sliver column beside it).
        ("section3_in_perspective_augraphy.png", (12, 10)),
        # Section 四: three header rows and one of values, fifteen columns, where one rotation and
        # shear merged two columns and split a row.
        ("section4_in_perspective_augraphy.png", (4, 15)),
    ],
)
def test_tables_scanned_in_perspective_keep_their_rows_and_columns(name, shape):
    from extractor.datamodel import BBox
    from extractor.stages.grid import GridOptions, GridStage

    image = _fixture(name)
    region = BBox(x1=40, y1=40, x2=image.shape[1] - 40, y2=image.shape[0] - 40)
    table = GridStage(GridOptions()).predict(image, region, [], 0)
    assert (table.n_rows, table.n_cols) == shape
    unrectified = GridStage(GridOptions(rectify=False)).predict(image, region, [], 0)
    assert (unrectified.n_rows, unrectified.n_cols) != shape
