import numpy as np
import pytest
from PIL import Image, ImageDraw

from extractor.synth.seal import draw_seal

# Seal diameter in pixels: 4 cm at 200 dpi.
_DIAMETER = 320
# Agency name used on every test seal.
_AGENCY = "某某市人民政府办公室"


def _white_page(size: tuple[int, int] = (500, 500)) -> Image.Image:
    return Image.new("RGB", size, "white")


def _red_mask(image: Image.Image) -> np.ndarray:
    rgb = np.asarray(image, dtype=np.int32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return (r > 150) & (r - g > 60) & (r - b > 60)


def test_seal_puts_a_red_ring_around_the_centre():
    # A seal is stamped in the middle of a white page;
    # red ink covers most of a thin ring at the seal's outer radius and none of the far corners.
    page = _white_page()

    draw_seal(page, (250.0, 250.0), _DIAMETER, _AGENCY, np.random.default_rng(0))

    red = _red_mask(page)
    yy, xx = np.mgrid[0:500, 0:500]
    dist = np.hypot(xx + 0.5 - 250, yy + 0.5 - 250)
    ring = (dist > _DIAMETER / 2 - 7) & (dist < _DIAMETER / 2 - 2)
    assert red[ring].mean() > 0.5
    assert not red[dist > _DIAMETER / 2 + 8].any()


def test_seal_has_red_star_and_lettering_inside_the_ring():
    # A seal is stamped on a white page;
    # there is red ink at the very centre (the star) and in the upper band (the agency name).
    page = _white_page()

    draw_seal(page, (250.0, 250.0), _DIAMETER, _AGENCY, np.random.default_rng(1))

    red = _red_mask(page)
    assert red[240:260, 240:260].mean() > 0.3
    upper_band = red[100:150, 180:320]
    assert upper_band.mean() > 0.05


def test_black_text_under_the_seal_stays_dark():
    # Black text and a black rule run right through a seal, like a signature line under a stamp;
    # after stamping, those pixels are still near black, as with real ink.
    page = _white_page()
    draw = ImageDraw.Draw(page)
    draw.rectangle([60, 240, 440, 249], fill="black")
    draw.rectangle([230, 90, 269, 129], fill="black")
    before = np.asarray(page).copy()

    draw_seal(page, (250.0, 250.0), _DIAMETER, _AGENCY, np.random.default_rng(2))

    after = np.asarray(page)
    black = before.max(axis=2) == 0
    assert after[black].max() < 40
    assert _red_mask(page).sum() > 5000


def test_seal_hanging_off_the_page_edge_is_clipped():
    # A seal is centred on the page's corner;
    # only the visible quarter is stamped and nothing fails.
    page = _white_page((300, 300))

    draw_seal(page, (0.0, 0.0), _DIAMETER, _AGENCY, np.random.default_rng(3))

    assert page.size == (300, 300)
    assert _red_mask(page)[:170, :170].any()


def test_seal_refuses_a_non_rgb_page():
    # A greyscale page is handed to draw_seal;
    # it raises rather than silently stamping grey ink.
    with pytest.raises(ValueError, match="RGB"):
        draw_seal(Image.new("L", (400, 400), 255), (200.0, 200.0), _DIAMETER, _AGENCY, np.random.default_rng(0))
