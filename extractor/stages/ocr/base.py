"""OCR stage interface: options, the engine contract and the stage (engines are built by
:mod:`extractor.stages.registry`)."""

from __future__ import annotations

import logging
import re
import unicodedata
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from extractor.datamodel import TextToken
from extractor.stages.ocr.ctc import CtcReading
from extractor.stages.rasterise.source import PageImage
from extractor.stages.registry import create_instance

_log = logging.getLogger(__name__)


class OcrOptions(BaseModel):
    """Options shared by every OCR engine; each engine subclasses this with its own `kind`."""

    model_config = ConfigDict(extra="forbid")

    kind: ClassVar[str]

    enabled: bool = Field(True, description="False passes pages through with no OCR tokens")
    text_score: float = Field(
        0.5, ge=0.0, le=1.0, description="drop recognised lines scoring below this (engine score in [0, 1])"
    )


class OcrEngine(ABC):
    """An OCR engine: full-page OCR and recognition of known text crops.

    Engines keep their I/O (`content`, returning the engine's raw output) apart from the
    conversion to our tokens (`to_tokens`), so raw output can be recorded once and the
    conversion tested offline.
    """

    def __init__(self, options: OcrOptions) -> None:
        self.options = options

    @classmethod
    @abstractmethod
    def get_options_type(cls) -> type[OcrOptions]:
        """The options class this engine is built from."""

    @abstractmethod
    def content(self, image: np.ndarray) -> Any:
        """Run detection + recognition on an RGB page image; the engine's raw output."""

    @abstractmethod
    def to_tokens(self, raw: Any) -> list[TextToken]:
        """Convert raw engine output into tokens (page pixels of the image given to `content`)."""

    @abstractmethod
    def recognise_crops(self, images: list[np.ndarray]) -> list[tuple[str, float]]:
        """Recognise text crops (RGB, one text line each) without detection.

        Returns:
            One ``(text, score)`` per crop, in input order; text NFKC-normalised, ``("", 0.0)``
            for a crop where nothing was read.
        """

    def read_cell_crops(self, images: list[np.ndarray]) -> list[CtcReading]:
        """As `recognise_crops`, also giving the k best readings of value-like crops over the
        value alphabet (`ctc.VALUE_ALPHABET`); an engine without them gives none."""
        return [CtcReading(text, score, ()) for text, score in self.recognise_crops(images)]

    def recognise_prose_crops(self, images: list[np.ndarray]) -> list[tuple[str, float]]:
        """As `recognise_crops`, for lines of prose (titles, paragraphs): an engine may read
        them with a faster recogniser than table cells, whose numbers must be exact."""
        return self.recognise_crops(images)

    def predict(self, image: np.ndarray) -> list[TextToken]:
        """Full-page OCR: tokens with boxes in pixels of `image`."""
        return self.to_tokens(self.content(image))


def normalise_text(text: str) -> str:
    """NFKC-normalise recognised text and tidy numbers.

    NFKC turns full-width digits and punctuation (０-９ ． ，) into ASCII and Kangxi radicals
    into ordinary characters. A thousands separator inside a number (``1,234``) is removed, so a
    number is one run of digits with at most one decimal point.
    """
    text = unicodedata.normalize("NFKC", text).strip()
    return _THOUSANDS.sub("", text)


# A comma between digit groups of three, as in 1,234 or 12,345,678 (not 1,2 — a list).
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?:\D|$))")


class OcrStage:
    """OCR of page images with the engine chosen by the options' kind."""

    def __init__(self, options: OcrOptions) -> None:
        """Build the engine of `options`, unless the stage is disabled.

        Raises:
            extractor.stages.registry.UnknownEngineError: no engine has the options' kind.
        """
        self.options = options
        self.engine: OcrEngine | None = create_instance(options) if options.enabled else None

    def predict(self, image: np.ndarray) -> list[TextToken] | None:
        """Tokens of a full page image (RGB); None when the stage is disabled."""
        if self.engine is None:
            return None
        return self.engine.predict(image)

    def __call__(self, page: PageImage) -> PageImage:
        """Adapter: the page with its record's `tokens` set (unchanged when disabled)."""
        tokens = self.predict(page.image)
        if tokens is None:
            return page
        return PageImage(image=page.image, record=page.record.model_copy(update={"tokens": tokens}))

    def recognise_crops(self, images: list[np.ndarray]) -> list[tuple[str, float]]:
        """Recognition only, one ``(text, score)`` per crop (the fast path once cells are known).

        Raises:
            RuntimeError: the stage is disabled.
        """
        return self._enabled_engine().recognise_crops(images)

    def read_cell_crops(self, images: list[np.ndarray]) -> list[CtcReading]:
        """Recognition only of table-cell lines, with value-alphabet candidates (`OcrEngine.read_cell_crops`).

        Raises:
            RuntimeError: the stage is disabled.
        """
        return self._enabled_engine().read_cell_crops(images)

    def recognise_prose_crops(self, images: list[np.ndarray]) -> list[tuple[str, float]]:
        """Recognition only of prose lines, with the engine's prose recogniser.

        Raises:
            RuntimeError: the stage is disabled.
        """
        return self._enabled_engine().recognise_prose_crops(images)

    def _enabled_engine(self) -> OcrEngine:
        if self.engine is None:
            raise RuntimeError("the OCR stage is disabled")
        return self.engine
