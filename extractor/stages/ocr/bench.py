"""Speed and exactness of the page-reading paths on one born-digital page (for `nianbao bench`).

On a born-digital page the text layer is ground truth for the numbers, so the same page measures
how exactly OCR reads them, both by full-page OCR and by recognising cell crops only.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from extractor.datamodel import BBox, TextToken
from extractor.stages.ocr.base import OcrOptions, OcrStage
from extractor.stages.ocr.rapid import RapidOcrOptions
from extractor.stages.rasterise import open_pdf, render_page, text_layer_tokens

_log = logging.getLogger(__name__)

# A numeric token: digits with at most one decimal point (text is NFKC-normalised already).
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


class PageBenchmark(BaseModel):
    """Timings (seconds, one run each) and exactness on one page."""

    source: str
    page: int = Field(description="0-based page")
    dpi: float
    render_s: float = Field(description="PDF page → RGB image")
    text_layer_s: float = Field(description="characters → tokens with pixel boxes")
    full_ocr_s: float = Field(description="detection + recognition of the whole page")
    crops_s: float = Field(description="recognition only, of every number's cell crop")
    numbers: int = Field(description="numeric tokens in the text layer (the reference)")
    full_ocr_exact: int = Field(description="reference numbers read exactly by full-page OCR at the same place")
    crops_exact: int = Field(description="reference numbers read exactly from their crops")
    mismatches: list[str] = Field(default_factory=list, description="'path: expected → got' for each miss")


def is_number(text: str) -> bool:
    """Whether a (normalised) token is a plain number such as ``3001`` or ``96171.6``."""
    return bool(_NUMBER.match(text))


def cell_crop(image: np.ndarray, box: BBox, pad: float = 0.4) -> np.ndarray:
    """Crop around a text box with `pad` × its height of margin on every side (page pixels)."""
    margin = pad * box.height
    x1, y1 = max(0, int(box.x1 - margin)), max(0, int(box.y1 - margin))
    x2 = min(image.shape[1], int(np.ceil(box.x2 + margin)))
    y2 = min(image.shape[0], int(np.ceil(box.y2 + margin)))
    return np.ascontiguousarray(image[y1:y2, x1:x2])


def benchmark_page(
    pdf_path: str | Path, page: int, dpi: float = 200.0, ocr_options: OcrOptions | None = None
) -> PageBenchmark:
    """Time and compare the text layer, full-page OCR and crop recognition on one PDF page.

    Steps:
        1. Render the page and read its text layer; its numeric tokens are the reference.
        2. Full-page OCR; each reference number is matched to the OCR token overlapping its box
           most, and counts as exact when the texts are equal.
        3. Recognise a crop around each reference number (standing in for a table cell).

    Args:
        pdf_path: a born-digital PDF (with a usable text layer).
        page: 0-based page, ideally the section 三 table page.
        dpi: render resolution.
        ocr_options: engine options; default `RapidOcrOptions()`.

    Raises:
        ValueError: the page has no usable text layer to compare against.
    """
    stage = OcrStage(ocr_options or RapidOcrOptions())
    with open_pdf(pdf_path) as pdf:
        t0 = time.perf_counter()
        page_image = render_page(pdf, page, dpi)
        t1 = time.perf_counter()
        reference = text_layer_tokens(pdf, page, dpi)
        t2 = time.perf_counter()
    if reference is None:
        raise ValueError(f"{pdf_path} page {page} has no usable text layer to compare against")
    numbers = [t for t in reference if is_number(t.text)]

    t3 = time.perf_counter()
    ocr_tokens = stage.predict(page_image.image) or []
    t4 = time.perf_counter()
    crops = [cell_crop(page_image.image, t.bbox) for t in numbers]
    t5 = time.perf_counter()
    read = stage.recognise_crops(crops)
    t6 = time.perf_counter()

    mismatches = []
    full_exact = crops_exact = 0
    for token, (crop_text, _) in zip(numbers, read, strict=True):
        got = _best_overlap(token, ocr_tokens)
        if got == token.text:
            full_exact += 1
        else:
            mismatches.append(f"full-page at {token.bbox.as_list()}: {token.text} → {got}")
        if crop_text == token.text:
            crops_exact += 1
        else:
            mismatches.append(f"crop at {token.bbox.as_list()}: {token.text} → {crop_text}")
    return PageBenchmark(
        source=str(pdf_path),
        page=page,
        dpi=dpi,
        render_s=round(t1 - t0, 4),
        text_layer_s=round(t2 - t1, 4),
        full_ocr_s=round(t4 - t3, 3),
        crops_s=round(t6 - t5, 3),
        numbers=len(numbers),
        full_ocr_exact=full_exact,
        crops_exact=crops_exact,
        mismatches=mismatches,
    )


def _best_overlap(token: TextToken, candidates: list[TextToken]) -> str | None:
    best, best_area = None, 0.0
    for cand in candidates:
        area = token.bbox.intersection(cand.bbox)
        if area > best_area:
            best, best_area = cand.text, area
    return best
