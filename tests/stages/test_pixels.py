"""Shared pixel work: seals lifted off a page, print under them kept."""

import cv2
import numpy as np

from extractor.stages.pixels import stretch_contrast, without_seals


def _page_with_seal_over_date() -> np.ndarray:
    page = np.full((200, 400, 3), 245, dtype=np.uint8)
    cv2.putText(page, "2021 1 9", (40, 110), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (20, 20, 20), 4)
    seal = page.copy()
    cv2.circle(seal, (200, 100), 80, (210, 40, 40), 6)
    cv2.circle(seal, (200, 100), 20, (210, 40, 40), -1)
    # Ink multiplies: black print under red ink stays dark.
    return (page.astype(np.float32) * seal.astype(np.float32) / 255).astype(np.uint8)


def test_seal_ink_becomes_paper_and_print_under_it_stays():
    page = _page_with_seal_over_date()
    out = without_seals(page)
    reddish = (page[:, :, 0].astype(int) - page[:, :, 1:].max(axis=2)) > 40
    assert reddish.sum() > 1000
    assert (out[reddish & (page[:, :, 0] > 150)] == 255).all()
    print_ink = page.max(axis=2) < 80
    assert print_ink.sum() > 500
    assert (out[print_ink] == page[print_ink]).all()


def test_pages_without_seal_or_colour_are_left_as_they_are():
    grey = np.full((50, 50), 200, dtype=np.uint8)
    assert without_seals(grey) is grey
    plain = np.full((50, 50, 3), 200, dtype=np.uint8)
    assert without_seals(plain) is plain


def test_a_low_contrast_scan_is_stretched_and_an_ordinary_one_is_not():
    # Grey paper (150) with ink 80 and a faint rule 135: 70 grey levels of contrast, stretched to
    # 200 about the paper; the rule ends 43 levels below the paper instead of 15.
    page = np.full((200, 200, 3), 150, dtype=np.uint8)
    page[20:60, 20:60] = 80
    page[100:102, :] = 135
    out = stretch_contrast(page)
    assert int(out[110, 110, 0]) == 150 and int(out[30, 30, 0]) == 0
    assert 100 <= int(out[100, 110, 0]) <= 110
    white = np.full((200, 200, 3), 235, dtype=np.uint8)
    white[20:60, 20:60] = 20
    assert stretch_contrast(white) is white
