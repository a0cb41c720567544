"""Evaluation: score predictions (DocumentResult JSON) against ground truth (``*.truth.json``)."""

from extractor.evaluation.compare import values_match
from extractor.evaluation.evaluate import evaluate
from extractor.evaluation.format import format_report
from extractor.evaluation.report import Accuracy, DocumentScore, EvalReport, FieldTally, GroupScore

__all__ = [
    "Accuracy",
    "DocumentScore",
    "EvalReport",
    "FieldTally",
    "GroupScore",
    "evaluate",
    "format_report",
    "values_match",
]
