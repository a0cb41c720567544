"""The assemble step with the classifier: the rule-based assembly, its readings combined."""

from __future__ import annotations

import logging

from extractor.datamodel import PageRecord, Table
from extractor.stages.assemble import AssembleStage, Assembly
from extractor.stages.classify.combine import CombineMode, combine
from extractor.stages.classify.decode import read_fields
from extractor.stages.classify.stage import ClassifyStage
from extractor.templates import get_template

_log = logging.getLogger(__name__)


class ClassifiedAssembleStage:
    """Drop-in for :class:`AssembleStage` whose readings also come from the cell classifier.

    Template detection and report metadata stay the rule-based assembler's; only the field
    readings change, per `mode` (:class:`CombineMode.RULES` gives the baseline unchanged).
    """

    def __init__(self, assemble: AssembleStage, classify: ClassifyStage, mode: CombineMode) -> None:
        self.assemble = assemble
        self.classify = classify
        self.mode = CombineMode(mode)

    def predict(self, pages: list[PageRecord], tables: list[Table]) -> Assembly:
        assembly = self.assemble.predict(pages, tables)
        if assembly.template is None or self.mode is CombineMode.RULES or self.classify.model is None:
            return assembly
        predictions = self.classify.predict(tables)
        classified = read_fields(tables, predictions, get_template(assembly.template), self.classify.calibration)
        readings = combine(assembly.readings, classified, self.mode)
        return assembly.model_copy(update={"readings": readings})
