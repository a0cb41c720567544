"""Read a born-digital PDF page's own text layer as tokens with boxes in page pixels.

Born-digital reports carry every number exactly in their text layer, which is faster and more
reliable than OCR. PDFium gives one box per character; this module groups characters into
tokens the way OCR groups them into text lines (a run of characters on one baseline without a
space or a wide gap), maps the boxes onto the rendered page image and NFKC-normalises the text,
because government PDFs made with WPS or Chromium often encode ordinary characters as Kangxi
radicals (⼀ ⼆ ⾏ for 一 二 行) and numbers as full-width digits.
"""

from __future__ import annotations

import ctypes
import logging
import math
import unicodedata
from dataclasses import dataclass

import numpy as np
import pypdfium2.raw as pdfium_c

from extractor.datamodel import BBox, TextToken, TokenSource
from extractor.stages.pixels import grey_sum
from extractor.stages.rasterise.source import PdfSource

_log = logging.getLogger(__name__)

# A text layer whose share of unreadable characters (U+FFFD, private use, unmapped glyphs,
# control codes) exceeds this is garbage from a font without a ToUnicode map: OCR the page.
MAX_BAD_CHAR_FRACTION = 0.10

# Horizontal gap between two characters' advance boxes, in units of the line height, above which
# they belong to different tokens (table cells are padded by about one em or more; Chinese
# justification stretches letter spacing by a small fraction of an em).
SPLIT_GAP_EM = 0.6

# A token box whose crop holds less ink than this fraction of its pixels counts as blank.
_MIN_INK_FRACTION = 0.01

# The text layer is rejected when more than this share of the checked token boxes are blank on
# the rendered page (white or hidden text, or text placed where nothing is printed).
MAX_BLANK_TOKEN_FRACTION = 0.3

# How many tokens the ink check looks at (spread over the page); enough to judge, cheap to crop.
_INK_SAMPLE = 60


@dataclass(frozen=True)
class _Char:
    """One character of the text page."""

    text: str  # the character as PDFium maps it (not yet normalised)
    tight: tuple[float, float, float, float]  # glyph ink box, PDF points (left, bottom, right, top)
    loose: tuple[float, float, float, float]  # font advance box, PDF points; used for gaps and lines


def text_layer_tokens(
    pdf: PdfSource, index: int, dpi: float = 200.0, image: np.ndarray | None = None
) -> list[TextToken] | None:
    """Tokens of a page's text layer, in pixels of the page rendered at `dpi`.

    Steps:
        1. Read every character with its tight (ink) and loose (advance) box from PDFium;
           spaces PDFium generated itself are dropped (the gap rule decides), its line breaks
           and the document's own whitespace separate tokens.
        2. Reject the layer if it has no text or too many unreadable characters.
        3. Group characters into tokens: split on whitespace, on a jump to another line, and on a
           horizontal gap wider than `SPLIT_GAP_EM` line heights. Digits of one number stay
           together because they sit on one baseline without gaps.
        4. Map each token's ink box to page pixels (top-left origin, PDF /Rotate and crop box
           applied exactly as the renderer does) and NFKC-normalise its text.
        5. If the rendered `image` is given, reject the layer when many token boxes are blank on
           it (text that is not printed where it claims to be).

    Args:
        pdf: the opened PDF.
        index: 0-based page number.
        dpi: resolution of the page image the boxes must refer to.
        image: the page rendered at `dpi` (from `render_page`), for the ink check; None skips it.

    Returns:
        Tokens with source TEXT_LAYER and score 1.0, in PDFium's reading order; an empty list for
        a page whose layer is usable but holds no token; None when the page has no usable text
        layer (the reason is logged) and must be OCRed.
    """
    page = pdf.document[index]
    try:
        textpage = page.get_textpage()
        try:
            chars = _read_chars(textpage)
        finally:
            textpage.close()
        to_pixels = _page_to_pixels(page, dpi)
    finally:
        page.close()

    reason = _unusable_reason(chars)
    if reason is not None:
        _log.info("%s page %d: text layer not used: %s", pdf.path, index, reason)
        return None

    tokens: list[TextToken] = []
    for group in _group_chars(chars):
        text = unicodedata.normalize("NFKC", "".join(c.text for c in group)).strip()
        if not text:
            continue
        tokens.append(TextToken(text=text, bbox=_token_box(group, to_pixels), score=1.0, source=TokenSource.TEXT_LAYER))

    if image is not None and tokens:
        blank = _blank_fraction(tokens, image)
        if blank > MAX_BLANK_TOKEN_FRACTION:
            _log.info(
                "%s page %d: text layer not used: %.0f%% of token boxes are blank on the rendered page",
                pdf.path,
                index,
                100 * blank,
            )
            return None
    return tokens


def _read_chars(textpage) -> list[_Char | None]:
    """Characters in text-page order; None marks a separator (whitespace or a line break)."""
    out: list[_Char | None] = []
    n = textpage.count_chars()
    pending_high: int | None = None
    for i in range(n):
        code = pdfium_c.FPDFText_GetUnicode(textpage, i)
        # A character outside the BMP comes as a UTF-16 surrogate pair on two indices.
        if 0xD800 <= code < 0xDC00:
            pending_high = code
            continue
        if 0xDC00 <= code < 0xE000 and pending_high is not None:
            code = 0x10000 + ((pending_high - 0xD800) << 10) + (code - 0xDC00)
        pending_high = None
        ch = chr(code)
        if pdfium_c.FPDFText_IsGenerated(textpage, i) == 1:
            # PDFium inserts spaces wherever letter spacing is a little wide (justified Chinese
            # in narrow cells: 商 业 企): let the gap rule decide, but keep its line breaks.
            if ch in "\r\n":
                out.append(None)
            continue
        if ch.isspace():
            out.append(None)
            continue
        if pdfium_c.FPDFText_HasUnicodeMapError(textpage, i) == 1:
            ch = "\ufffd"
        tight = textpage.get_charbox(i)
        loose = textpage.get_charbox(i, loose=True)
        out.append(_Char(text=ch, tight=tight, loose=loose))
    return out


def _is_bad(ch: str) -> bool:
    code = ord(ch)
    return (
        ch == "\ufffd"
        or code < 0x20
        or 0xE000 <= code <= 0xF8FF
        or code >= 0xF0000
        or unicodedata.category(ch) in ("Co", "Cn", "Cc")
    )


def _unusable_reason(chars: list[_Char | None]) -> str | None:
    real = [c for c in chars if c is not None]
    if not real:
        return "no text"
    bad = sum(_is_bad(c.text) for c in real)
    if bad / len(real) > MAX_BAD_CHAR_FRACTION:
        return f"{bad} of {len(real)} characters are unmapped glyphs, U+FFFD or private-use code points"
    return None


def _group_chars(chars: list[_Char | None]) -> list[list[_Char]]:
    groups: list[list[_Char]] = []
    current: list[_Char] = []
    for ch in chars:
        if ch is None:
            if current:
                groups.append(current)
            current = []
            continue
        if current and _starts_new_token(current[-1], ch):
            groups.append(current)
            current = []
        current.append(ch)
    if current:
        groups.append(current)
    return groups


def _starts_new_token(prev: _Char, ch: _Char) -> bool:
    pl, pb, pr, pt = prev.loose
    cl, cb, cr, ct = ch.loose
    line_height = max(pt - pb, ct - cb, 1e-3)
    centre = (cb + ct) / 2
    if not pb <= centre <= pt:  # another line (PDF y grows upwards; tests are symmetric)
        return True
    if cl < pl - 0.1 * line_height:  # going backwards: a new column or a new block
        return True
    return cl - pr > SPLIT_GAP_EM * line_height


def _page_to_pixels(page, dpi: float):
    """Affine map from PDF page space (points, bottom-left origin) to rendered pixels.

    PDFium's own `FPDF_PageToDevice` knows the page's /Rotate and crop box; it returns whole
    device pixels, so it is sampled on a 64× larger virtual device and divided back for
    sub-pixel precision.
    """
    oversample = 64
    scale = dpi / 72.0
    width, height = (math.ceil(v * scale) * oversample for v in page.get_size())

    def device(x: float, y: float) -> tuple[float, float]:
        dx, dy = ctypes.c_int(), ctypes.c_int()
        pdfium_c.FPDF_PageToDevice(page, 0, 0, width, height, 0, x, y, dx, dy)
        return dx.value / oversample, dy.value / oversample

    probe = 1000.0
    ox, oy = device(0.0, 0.0)
    ax, ay = device(probe, 0.0)
    bx, by = device(0.0, probe)
    matrix = np.array([[(ax - ox) / probe, (bx - ox) / probe, ox], [(ay - oy) / probe, (by - oy) / probe, oy]])
    return matrix


def _token_box(group: list[_Char], matrix: np.ndarray) -> BBox:
    corners = []
    for c in group:
        l, b, r, t = c.tight
        if r - l <= 0 or t - b <= 0:  # some fonts report empty ink boxes; the advance box is close
            l, b, r, t = c.loose
        corners.extend([(l, b), (r, t), (l, t), (r, b)])
    pts = np.asarray(corners, dtype=float)
    px = pts @ matrix[:, :2].T + matrix[:, 2]
    return BBox(x1=float(px[:, 0].min()), y1=float(px[:, 1].min()), x2=float(px[:, 0].max()), y2=float(px[:, 1].max()))


def _blank_fraction(tokens: list[TextToken], image: np.ndarray) -> float:
    step = max(1, len(tokens) // _INK_SAMPLE)
    sample = tokens[::step]
    blank = 0
    for token in sample:
        b = token.bbox
        x1, y1 = max(0, int(b.x1)), max(0, int(b.y1))
        x2, y2 = min(image.shape[1], math.ceil(b.x2)), min(image.shape[0], math.ceil(b.y2))
        # Grey levels of the crop only: converting the whole page cost more than the rest of
        # the text layer together.
        crop, channels = grey_sum(image[y1:y2, x1:x2])
        # Ink is anything clearly darker than the crop's own background (robust to grey paper).
        if crop.size == 0 or (crop < np.percentile(crop, 95) - 60 * channels).mean() < _MIN_INK_FRACTION:
            blank += 1
    return blank / len(sample)
