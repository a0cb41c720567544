import math

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw

from extractor.synth.degrade import ScanLevel, images_to_pdf, scan_page, transform_box

# A4 at 100 dpi: the degradation does not depend on resolution, and small pages keep tests fast.
_PAGE_SIZE = (827, 1170)
# Half the side of a marker square, in pixels.
_HALF = 20
# Marker centres spread over the page, so rotation and scale errors show up somewhere.
_MARKERS = [(150.0, 150.0), (677.0, 1020.0), (413.0, 585.0), (700.0, 200.0)]


def _page_with_markers(points: list[tuple[float, float]]) -> Image.Image:
    page = Image.new("RGB", _PAGE_SIZE, "white")
    draw = ImageDraw.Draw(page)
    for x, y in points:
        # Pixels x-_HALF .. x+_HALF-1 inclusive cover exactly [x-_HALF, x+_HALF) in page coords.
        draw.rectangle([x - _HALF, y - _HALF, x + _HALF - 1, y + _HALF - 1], fill="black")
    return page


def _dark_centroid(image: Image.Image, around: tuple[float, float], radius: int = 60) -> tuple[float, float]:
    grey = np.asarray(image.convert("L"), dtype=np.float32)
    x0, y0 = int(around[0]) - radius, int(around[1]) - radius
    window = grey[y0 : y0 + 2 * radius, x0 : x0 + 2 * radius]
    # Half-way between paper and ink, whatever the contrast, shadow and fading of this page.
    threshold = (np.median(window) + np.percentile(window, 1)) / 2
    ys, xs = np.nonzero(window < threshold)
    # +0.5: a pixel's centre in continuous coordinates.
    return (x0 + xs.mean() + 0.5, y0 + ys.mean() + 0.5)


@pytest.mark.parametrize("level", list(ScanLevel))
@pytest.mark.parametrize("seed", [0, 1])
def test_matrix_maps_markers_to_where_they_appear(level, seed):
    # A page with black squares at known places is scanned at each level;
    # each square is found again where the returned matrix sends its centre.
    page = _page_with_markers(_MARKERS)

    result = scan_page(page, level, np.random.default_rng(seed))

    for x, y in _MARKERS:
        expected = _mapped(result.matrix, x, y)
        found = _dark_centroid(result.image, expected)
        assert math.dist(found, expected) < 1.0, (level, (x, y), found, expected)


def _mapped(matrix: np.ndarray, x: float, y: float) -> tuple[float, float]:
    """Where the scan's projective matrix sends the point (x, y)."""
    u, v, w = matrix @ np.array([x, y, 1.0])
    return (u / w, v / w)


def test_hard_scans_are_tilted_in_perspective_and_others_are_not():
    # A hard page's matrix has a perspective part (its last row is not 0, 0, 1) that moves some
    # corner more than 5 px beyond the affine part's reach; clean and typical pages are affine.
    for level in ScanLevel:
        tilts = [np.abs(scan_page(_page_with_markers([]), level, np.random.default_rng(s)).matrix[2, :2]).max()
                 for s in range(3)]
        if level is ScanLevel.HARD:
            assert max(tilts) * _PAGE_SIZE[0] * _PAGE_SIZE[0] > 5
        else:
            assert max(tilts) == 0


def test_hard_scans_are_visibly_skewed_and_clean_ones_are_not():
    # Over several seeds, clean pages keep within 0.2 degrees of skew while hard pages
    # reach past one degree but stay within the 2.5 degree limit (plus the small shear and the
    # perspective tilt, whose corners move up to 1.6% of the width each).
    page = _page_with_markers([])

    def skew_deg(level, seed):
        # The turn of a short horizontal segment at the page's centre.
        m = scan_page(page, level, np.random.default_rng(seed)).matrix
        (x1, y1), (x2, y2) = (_mapped(m, _PAGE_SIZE[0] / 2 + dx, _PAGE_SIZE[1] / 2) for dx in (-10.0, 10.0))
        return abs(math.degrees(math.atan2(y2 - y1, x2 - x1)))

    clean = [skew_deg(ScanLevel.CLEAN, s) for s in range(4)]
    hard = [skew_deg(ScanLevel.HARD, s) for s in range(4)]
    assert max(clean) <= 0.2
    assert 1.0 < max(hard) <= 2.5 + math.degrees(0.012 + 2 * 0.016)


def test_output_is_rgb_and_the_same_size_for_any_input_mode():
    # A greyscale page goes in at every level;
    # an RGB page of the same size comes out.
    page = _page_with_markers(_MARKERS[:1]).convert("L")

    for level in ScanLevel:
        image = scan_page(page, level, np.random.default_rng(3)).image
        assert image.mode == "RGB"
        assert image.size == _PAGE_SIZE


def test_same_seed_gives_the_same_scan_and_another_seed_does_not():
    # One page is scanned twice with seed 7 and once with seed 8;
    # the first two agree pixel for pixel, the third differs.
    page = _page_with_markers(_MARKERS)

    a = scan_page(page, ScanLevel.HARD, np.random.default_rng(7))
    b = scan_page(page, ScanLevel.HARD, np.random.default_rng(7))
    c = scan_page(page, ScanLevel.HARD, np.random.default_rng(8))

    assert np.array_equal(np.asarray(a.image), np.asarray(b.image))
    assert np.array_equal(a.matrix, b.matrix)
    assert not np.array_equal(np.asarray(a.image), np.asarray(c.image))


def test_scanned_page_looks_grey_and_noisy_rather_than_pure_white():
    # A blank white page is scanned at the typical level;
    # the paper comes out darker than white and not flat.
    page = Image.new("RGB", _PAGE_SIZE, "white")

    grey = np.asarray(scan_page(page, ScanLevel.TYPICAL, np.random.default_rng(0)).image.convert("L"))

    centre = grey[400:800, 200:600].astype(np.float32)
    assert centre.mean() < 245
    assert centre.std() > 1.0


def test_transform_box_is_unchanged_by_identity():
    # The identity matrix is applied to a box;
    # the same box comes back.
    identity = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])

    assert transform_box((10, 20, 30, 50), identity) == [10.0, 20.0, 30.0, 50.0]


def test_transform_box_encloses_the_rotated_corners_tightly():
    # A box is rotated by 30 degrees and shifted;
    # the result contains all four mapped corners and each side touches one of them.
    a = math.radians(30)
    matrix = np.array([[math.cos(a), math.sin(a), 5.0], [-math.sin(a), math.cos(a), 7.0]])
    box = [100.0, 50.0, 160.0, 80.0]

    x1, y1, x2, y2 = transform_box(box, matrix)

    corners = [matrix @ np.array([x, y, 1.0]) for x in (100, 160) for y in (50, 80)]
    xs = [c[0] for c in corners]
    ys = [c[1] for c in corners]
    eps = 1e-9
    assert all(x1 - eps <= x <= x2 + eps and y1 - eps <= y <= y2 + eps for x, y in zip(xs, ys))
    assert (x1, y1, x2, y2) == pytest.approx((min(xs), min(ys), max(xs), max(ys)))


def test_transformed_marker_box_contains_the_scanned_marker():
    # A marker's box goes through the scan matrix;
    # the scanned marker's extent matches the transformed box to 2 px (blur, toner spread).
    page = _page_with_markers([(400.0, 500.0)])
    result = scan_page(page, ScanLevel.HARD, np.random.default_rng(4))

    x1, y1, x2, y2 = transform_box([380, 480, 420, 520], result.matrix)

    grey = np.asarray(result.image.convert("L"), dtype=np.float32)
    dark = (grey < (np.median(grey) + np.percentile(grey[430:570, 330:470], 1)) / 2).astype(np.uint8)
    # The marker is the largest dark blob; dust specks elsewhere are ignored.
    _, _, stats, _ = cv2.connectedComponentsWithStats(dark)
    left, top, width, height, _ = stats[1 + np.argmax(stats[1:, cv2.CC_STAT_AREA])]
    found = (left, top, left + width, top + height)
    assert found == pytest.approx((x1, y1, x2, y2), abs=2.0)


def test_images_to_pdf_writes_one_image_page_per_image_at_the_given_dpi(tmp_path):
    # Two scans of different sizes are written at 100 dpi;
    # the PDF has two pages of the matching size in points, JPEG images and no text layer.
    images = [Image.new("RGB", (400, 500), (230, 230, 225)), Image.new("L", (300, 200), 200)]
    path = tmp_path / "scan.pdf"

    images_to_pdf(images, path, dpi=100, jpeg_quality=60)

    assert b"/DCTDecode" in path.read_bytes()
    pdf = pdfium.PdfDocument(path)
    try:
        assert len(pdf) == 2
        for page, (w, h) in zip(pdf, [(400, 500), (300, 200)]):
            assert page.get_size() == pytest.approx((w * 72 / 100, h * 72 / 100), abs=0.01)
            assert page.get_textpage().count_chars() == 0
            kinds = [obj.type for obj in page.get_objects()]
            assert kinds == [pdfium.raw.FPDF_PAGEOBJ_IMAGE]
    finally:
        pdf.close()


def test_images_to_pdf_refuses_an_empty_list(tmp_path):
    # No images are given;
    # nothing is written and a ValueError says why.
    path = tmp_path / "empty.pdf"

    with pytest.raises(ValueError, match="at least one image"):
        images_to_pdf([], path)
    assert not path.exists()


def test_a_page_scanned_at_150_dpi_renders_back_with_its_boxes_in_place(tmp_path):
    # A 200-dpi page with markers is resampled to 150 dpi and written at 150 dpi; rendered at
    # 200 dpi again it has its size, and each marker is within a pixel and a half of its place.
    from extractor.synth.degrade import at_scan_resolution

    page = _page_with_markers(_MARKERS)
    images_to_pdf([at_scan_resolution(page, 150)], tmp_path / "low.pdf", dpi=150, jpeg_quality=95)
    doc = pdfium.PdfDocument(tmp_path / "low.pdf")
    rendered = doc[0].render(scale=200 / 72).to_pil()
    doc.close()
    assert abs(rendered.size[0] - _PAGE_SIZE[0]) <= 1 and abs(rendered.size[1] - _PAGE_SIZE[1]) <= 1
    for x, y in _MARKERS:
        assert math.dist(_dark_centroid(rendered, (x, y)), (x, y)) < 1.5
