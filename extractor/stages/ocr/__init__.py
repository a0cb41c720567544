"""OCR stage: text lines with boxes and scores from page images, and recognition of crops."""

from extractor.stages.ocr.base import (
    OcrEngine,
    OcrOptions,
    OcrStage,
    create_instance,
    get_ocr_registry,
    normalise_text,
    options_from_dict,
)
from extractor.stages.ocr.rapid import RapidOcrOptions, RapidOcrRaw, raw_to_tokens

__all__ = [
    "OcrEngine",
    "OcrOptions",
    "OcrStage",
    "RapidOcrOptions",
    "RapidOcrRaw",
    "create_instance",
    "get_ocr_registry",
    "normalise_text",
    "options_from_dict",
    "raw_to_tokens",
]
