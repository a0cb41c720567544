"""Rasterise stage: documents (PDF or image files) → page images, text layer, upright pages."""

from extractor.stages.rasterise.errors import DocumentError
from extractor.stages.rasterise.source import (
    IMAGE_SUFFIXES,
    MAX_PAGE_PIXELS,
    MAX_PAGES,
    ImageSource,
    PageImage,
    PdfSource,
    open_document,
    open_image,
    open_pdf,
    render_page,
)
from extractor.stages.rasterise.orientation import Recogniser, estimate_skew, is_sideways, is_upside_down, upright_page
from extractor.stages.rasterise.textlayer import text_layer_tokens

__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_PAGE_PIXELS",
    "MAX_PAGES",
    "DocumentError",
    "ImageSource",
    "PageImage",
    "PdfSource",
    "Recogniser",
    "estimate_skew",
    "is_sideways",
    "is_upside_down",
    "open_document",
    "open_image",
    "open_pdf",
    "render_page",
    "text_layer_tokens",
    "upright_page",
]
