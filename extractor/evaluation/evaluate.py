"""Score a folder of predictions against a folder of truth files."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from extractor.datamodel import DocumentResult
from extractor.evaluation.compare import compare_fields, tally, truth_values
from extractor.evaluation.report import Accuracy, DocumentScore, EvalReport, FieldTally, GroupScore
from extractor.output import INPUT_ERRORS_FILE

_log = logging.getLogger(__name__)

# Truth files are `<doc-id>.truth.json`, predictions `<doc-id>.json`.
TRUTH_SUFFIX = ".truth.json"
PRED_SUFFIX = ".json"
# Level reported for a truth file that does not say how hard the document is.
UNKNOWN_LEVEL = "unknown"


def evaluate(truth_dir: Path, pred_dir: Path) -> EvalReport:
    """Compare every ``<id>.truth.json`` in `truth_dir` with ``<id>.json`` in `pred_dir`.

    1. Truth files are read leniently (a dict with "fields", and optionally "template",
       "level" and "meta"); a file that cannot be read is listed in ``truth_errors``.
    2. A prediction that is absent or not a valid DocumentResult counts every field of its
       document as missing, and its template and meta as wrong; it is listed.
    3. Each truth field is compared (see :func:`values_match`) and tallied overall, per
       section and per level; template and meta are scored per document.

    Args:
        truth_dir: folder of truth files.
        pred_dir: folder of prediction files.

    Returns:
        The report, with one score per document in id order.
    """
    truth_dir, pred_dir = Path(truth_dir), Path(pred_dir)
    report = EvalReport(truth_dir=str(truth_dir), pred_dir=str(pred_dir))
    truth_ids = []
    for truth_path in sorted(truth_dir.glob(f"*{TRUTH_SUFFIX}")):
        doc_id = truth_path.name[: -len(TRUTH_SUFFIX)]
        truth_ids.append(doc_id)
        try:
            truth = _load_truth(truth_path)
            values = truth_values(truth)
        except (OSError, ValueError) as e:
            report.truth_errors[truth_path.name] = str(e)
            continue
        prediction, status = _load_prediction(pred_dir / f"{doc_id}{PRED_SUFFIX}")
        if status == "missing":
            report.missing_predictions.append(doc_id)
        elif status != "ok":
            report.unreadable_predictions[doc_id] = status
            status = "unreadable"
        _score_document(report, doc_id, truth, values, prediction, status)
    known = set(truth_ids)
    report.unmatched_predictions = sorted(
        p.name[: -len(PRED_SUFFIX)]
        for p in pred_dir.glob(f"*{PRED_SUFFIX}")
        if p.name != INPUT_ERRORS_FILE and not p.name.endswith(TRUTH_SUFFIX) and p.name[: -len(PRED_SUFFIX)] not in known
    ) if pred_dir.is_dir() else []
    _log.info("evaluated %d documents (%d without prediction)", report.documents,
              len(report.missing_predictions) + len(report.unreadable_predictions))
    return report


def _score_document(report: EvalReport, doc_id: str, truth: dict[str, Any], values: dict[str, float | None],
                    prediction: DocumentResult | None, status: str) -> None:
    level = str(truth.get("level") or UNKNOWN_LEVEL)
    template_id = truth.get("template")
    group = report.by_level.setdefault(level, GroupScore())
    doc_tally = FieldTally()
    wrong = []
    for outcome in compare_fields(values, prediction, template_id):
        for target in (report.overall, report.by_section.setdefault(outcome.section, FieldTally()),
                       group.fields, doc_tally):
            tally(outcome, target)
        if not outcome.correct:
            wrong.append(outcome.field_id)
    all_right = prediction is not None and not wrong
    meta = truth.get("meta") if isinstance(truth.get("meta"), dict) else {}
    agency_ok = _score_meta(report.agency, _clean(meta.get("agency")),
                            _clean(prediction.meta.agency) if prediction else None)
    year_ok = _score_meta(report.year, _as_int(meta.get("year")), prediction.meta.year if prediction else None)
    published_ok = _score_meta(report.published, _clean(meta.get("published")),
                               prediction.meta.published if prediction else None)
    template_ok = prediction is not None and prediction.template == template_id
    report.template.add(template_ok)
    report.documents += 1
    report.documents_all_right += all_right
    group.documents += 1
    group.documents_all_right += all_right
    report.per_document.append(
        DocumentScore(id=doc_id, level=level, prediction=status, fields=doc_tally, all_right=all_right,
                      template_ok=template_ok, agency_ok=agency_ok, year_ok=year_ok,
                      published_ok=published_ok, wrong_fields=wrong)
    )


def _score_meta(into: Accuracy, truth: object, predicted: object) -> bool | None:
    """Exact match of one meta item; None (not scored) when the truth does not know it."""
    if truth is None:
        return None
    ok = predicted == truth
    into.add(ok)
    return ok


def _load_truth(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def _load_prediction(path: Path) -> tuple[DocumentResult | None, str]:
    """The prediction and "ok", or None and "missing" / the reason it is unreadable."""
    if not path.is_file():
        return None, "missing"
    try:
        return DocumentResult.model_validate_json(path.read_bytes()), "ok"
    except OSError as e:
        return None, f"cannot read: {e}"
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "file"
        return None, f"not a DocumentResult ({e.error_count()} errors; {where}: {first['msg']})"


def _clean(text: object) -> str | None:
    return text.strip() if isinstance(text, str) and text.strip() else None


def _as_int(value: object) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None
