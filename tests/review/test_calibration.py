"""The calibration curve: flag rate and recall of wrong fields per confidence threshold."""

from __future__ import annotations

import json

from extractor.review.calibration import calibrate


def _write(tmp_path, fields_truth: dict, fields_pred: dict) -> tuple:
    truth, pred = tmp_path / "truth", tmp_path / "pred"
    truth.mkdir()
    pred.mkdir()
    (truth / "d1.truth.json").write_text(json.dumps(
        {"template": "gov-2021", "fields": {k: {"value": v} for k, v in fields_truth.items()}}))
    (pred / "d1.json").write_text(json.dumps({
        "document": {"id": "d1", "source": "d1.pdf", "sha256": "0" * 64},
        "template": "gov-2021",
        "fields": fields_pred,
    }))
    return truth, pred


def test_a_wrong_low_confidence_field_is_caught_only_above_its_confidence(tmp_path):
    # Four fields: one misread with confidence 0.8, one flagged for an identity, two right and sure.
    # Threshold 0.85 catches the misread (recall 1) at 50% flagged; 0.75 misses it.
    truth, pred = _write(
        tmp_path,
        {"apply.granted.total": 9, "apply.total.total": 9, "apply.new_received.total": 9, "appeal.review.total": 0},
        {
            "apply.granted.total": {"value": 6, "confidence": 0.8, "status": "flagged", "reasons": ["low confidence 0.80"]},
            "apply.total.total": {"value": 9, "confidence": 0.99, "status": "flagged",
                                  "reasons": ["in broken identity apply.results.total"]},
            "apply.new_received.total": {"value": 9, "confidence": 0.99, "status": "auto"},
            "appeal.review.total": {"value": 0, "confidence": 1.0, "status": "auto"},
        },
    )
    result = calibrate(truth, pred, thresholds=(0.75, 0.85), recall_target=0.99)
    by_t = {p.threshold: p for p in result.curve}
    assert (by_t[0.75].recall, by_t[0.75].flag_rate) == (0.0, 0.25)
    assert (by_t[0.85].recall, by_t[0.85].flag_rate) == (1.0, 0.5)
    assert result.chosen is not None and result.chosen.threshold == 0.85
    assert "chosen 0.85" in result.describe()


def test_a_field_missing_from_the_prediction_counts_as_wrong_and_never_flagged(tmp_path):
    # The truth has the appeal table; the prediction found no such table.
    # It is wrong and unflagged at every threshold, reported as missing, and left out of located recall.
    truth, pred = _write(tmp_path, {"appeal.review.total": 2}, {})
    result = calibrate(truth, pred, thresholds=(0.5, 1.01))
    assert (result.wrong, result.missing) == (1, 1)
    assert all(p.recall == 0.0 for p in result.curve)
    assert all(p.recall_located == 1.0 for p in result.curve) and result.chosen.threshold == 0.5
