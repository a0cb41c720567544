"""Classify: a LayoutLM token classifier gives every table cell its template role.

:class:`ClassifyStage` labels cells (``value``, ``row:<id>``, ``col:<id>``, … — see
:mod:`extractor.stages.classify.labels`); :func:`read_fields` turns the labels of a document's
tables into field readings (a value cell's field is its row label × its column header);
:func:`combine` merges those readings with the rule-based matcher's.
"""

from __future__ import annotations

from extractor.stages.classify.assemble import ClassifiedAssembleStage
from extractor.stages.classify.combine import CombineMode, combine
from extractor.stages.classify.decode import read_fields
from extractor.stages.classify.stage import CellPrediction, ClassifyOptions, ClassifyStage, TablePrediction

__all__ = [
    "CellPrediction",
    "ClassifiedAssembleStage",
    "ClassifyOptions",
    "ClassifyStage",
    "CombineMode",
    "TablePrediction",
    "combine",
    "read_fields",
]
