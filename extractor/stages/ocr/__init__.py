"""OCR stage: text lines with boxes and scores from page images, and recognition of crops."""

from extractor.stages.ocr.base import (
    OcrEngine,
    OcrOptions,
    OcrStage,
    normalise_text,
)
from extractor.stages.ocr.rapid import RapidOcrOptions, RapidOcrRaw, raw_to_tokens

__all__ = [
    "OcrEngine",
    "OcrOptions",
    "OcrStage",
    "RapidOcrOptions",
    "RapidOcrRaw",
    "normalise_text",
    "raw_to_tokens",
]
