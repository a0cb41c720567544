"""Scoring predictions against truth files: every measure of the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor.datamodel import DocumentInfo, DocumentResult, FieldStatus, FieldValue, ReportMeta
from extractor.evaluation import EvalReport, evaluate, format_report, values_match

# Field ids of the gov-2021 template used by the builders.
ISSUED = "active.rules.issued"
FEES = "active.fees.amount"
NEW = "apply.new_received.natural_person"
UPHELD = "appeal.review.upheld"
AGENCY = "某市人民政府办公室"


def _truth(folder: Path, doc_id: str, fields: dict[str, float | None], level: str | None = "clean",
           template: str = "gov-2021", agency: str = AGENCY, year: int = 2023) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    data = {"id": doc_id, "template": template, "meta": {"agency": agency, "year": year, "published": "2024-01-20"},
            "fields": {f: {"value": v, "raw": "" if v is None else str(v), "printed": v is not None}
                       for f, v in fields.items()}}
    if level is not None:
        data["level"] = level
    (folder / f"{doc_id}.truth.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _pred(folder: Path, doc_id: str, fields: dict[str, float | None | tuple[float | None, str]],
          template: str | None = "gov-2021", agency: str | None = AGENCY, year: int | None = 2023) -> None:
    """A prediction; a field is a value (status auto) or (value, status)."""
    folder.mkdir(parents=True, exist_ok=True)
    values = {}
    for field_id, spec in fields.items():
        value, status = spec if isinstance(spec, tuple) else (spec, "auto")
        values[field_id] = FieldValue(value=value, status=FieldStatus(status))
    result = DocumentResult(document=DocumentInfo(id=doc_id, source=f"{doc_id}.pdf", sha256="0" * 64),
                            template=template, meta=ReportMeta(agency=agency, year=year), fields=values)
    (folder / f"{doc_id}.json").write_text(result.model_dump_json(), encoding="utf-8")


def test_exact_prediction_scores_full_accuracy_and_document_all_right(tmp_path: Path) -> None:
    # One document whose prediction equals its truth in every field, template and meta.
    # Accuracy, documents all right, template, agency and year are all 100%; nothing is flagged or missing.
    fields = {ISSUED: 3, FEES: 12.5, NEW: 40, UPHELD: 1}
    _truth(tmp_path / "t", "d1", fields)
    _pred(tmp_path / "p", "d1", fields)

    report = evaluate(tmp_path / "t", tmp_path / "p")

    assert (report.overall.fields, report.overall.correct, report.overall.accuracy) == (4, 4, 1.0)
    assert (report.documents, report.documents_all_right) == (1, 1)
    assert (report.template.rate, report.agency.rate, report.year.rate) == (1.0, 1.0, 1.0)
    assert (report.overall.missing, report.overall.silent_errors, report.overall.flag_rate) == (0, 0, 0.0)


def test_accuracy_is_split_by_section_and_level(tmp_path: Path) -> None:
    # A clean document read right and a hard one with a wrong apply value.
    # Section apply and level hard lose accuracy; active, appeal and clean stay at 100%.
    fields = {ISSUED: 3, NEW: 40, UPHELD: 1}
    _truth(tmp_path / "t", "easy", fields, level="clean")
    _truth(tmp_path / "t", "tough", fields, level="hard")
    _pred(tmp_path / "p", "easy", fields)
    _pred(tmp_path / "p", "tough", {**fields, NEW: 41})

    report = evaluate(tmp_path / "t", tmp_path / "p")

    assert {s: t.accuracy for s, t in report.by_section.items()} == {"active": 1.0, "apply": 0.5, "appeal": 1.0}
    assert report.by_level["clean"].fields.accuracy == 1.0
    assert report.by_level["hard"].fields.accuracy == pytest.approx(2 / 3)
    assert (report.by_level["hard"].documents, report.by_level["hard"].documents_all_right) == (1, 0)
    assert report.documents_all_right == 1
    assert [d.wrong_fields for d in report.per_document] == [[], [NEW]]


def test_wrong_unflagged_number_is_a_silent_error_and_flagged_one_is_not(tmp_path: Path) -> None:
    # Two wrong values: one left auto, one flagged for review; a third field is right.
    # Only the auto one is a silent error; the rate is over all compared fields.
    _truth(tmp_path / "t", "d", {ISSUED: 3, NEW: 40, UPHELD: 1})
    _pred(tmp_path / "p", "d", {ISSUED: 8, NEW: (41, "flagged"), UPHELD: 1})

    report = evaluate(tmp_path / "t", tmp_path / "p")

    assert report.overall.silent_errors == 1
    assert report.overall.silent_error_rate == pytest.approx(1 / 3)


def test_flag_rate_precision_and_recall(tmp_path: Path) -> None:
    # Four predicted fields: flagged+wrong, flagged+right, auto+wrong, auto+right.
    # Flag rate 2/4, precision (wrong among flagged) 1/2, recall (flagged among wrong) 1/2.
    _truth(tmp_path / "t", "d", {ISSUED: 3, FEES: 2.0, NEW: 40, UPHELD: 1})
    _pred(tmp_path / "p", "d", {ISSUED: (4, "flagged"), FEES: (2.0, "flagged"), NEW: 39, UPHELD: (1, "reviewed")})

    t = evaluate(tmp_path / "t", tmp_path / "p").overall

    assert (t.flagged, t.flag_rate, t.flag_precision, t.flag_recall) == (2, 0.5, 0.5, 0.5)


def test_not_printed_truth_accepts_absent_or_null_and_rejects_a_number(tmp_path: Path) -> None:
    # Three fields are not printed (truth None); the prediction omits one, nulls one, invents 0 for one.
    # The first two are right, the invented 0 is wrong and silent; none of them counts as missing.
    _truth(tmp_path / "t", "d", {ISSUED: None, NEW: None, UPHELD: None})
    _pred(tmp_path / "p", "d", {NEW: None, UPHELD: 0})

    report = evaluate(tmp_path / "t", tmp_path / "p")

    assert report.per_document[0].wrong_fields == [UPHELD]
    assert (report.overall.correct, report.overall.missing, report.overall.silent_errors) == (2, 0, 1)


def test_absent_or_null_prediction_of_a_printed_value_is_missing(tmp_path: Path) -> None:
    # Truth holds numbers in three fields; the prediction omits one, gives None for one, reads one.
    # Two fields are missing out of three with a value; a None is a gap, not a silent error.
    _truth(tmp_path / "t", "d", {ISSUED: 3, NEW: 40, UPHELD: 1})
    _pred(tmp_path / "p", "d", {NEW: None, UPHELD: 1})

    t = evaluate(tmp_path / "t", tmp_path / "p").overall

    assert (t.missing, t.with_value, t.missing_rate, t.silent_errors) == (2, 3, pytest.approx(2 / 3), 0)


def test_missing_prediction_file_counts_every_field_missing_and_is_listed(tmp_path: Path) -> None:
    # Two documents with truth; only one has a prediction file.
    # The other is listed, all its fields are missing, and its template and meta count as wrong.
    _truth(tmp_path / "t", "here", {ISSUED: 3, NEW: 40})
    _truth(tmp_path / "t", "gone", {ISSUED: 5, NEW: 7, UPHELD: None})
    _pred(tmp_path / "p", "here", {ISSUED: 3, NEW: 40})

    report = evaluate(tmp_path / "t", tmp_path / "p")

    assert report.missing_predictions == ["gone"]
    gone = next(d for d in report.per_document if d.id == "gone")
    assert (gone.prediction, gone.fields.missing, gone.all_right, gone.template_ok) == ("missing", 2, False, False)
    assert (report.overall.missing, report.documents_all_right) == (2, 1)
    assert (report.template.correct, report.template.total, report.agency.correct, report.year.total) == (1, 2, 1, 2)


def test_amounts_use_a_relative_tolerance_and_counts_an_absolute_one() -> None:
    # A 万元 amount off by 0.005 on 1234.56 (4e-6 relative) and a count off by 0.001.
    # The amount matches, the count does not; exact counts match and None only matches None.
    assert values_match(1234.56, 1234.565, amount=True)
    assert not values_match(1234.56, 1234.7, amount=True)
    assert not values_match(5, 5.001, amount=False)
    assert values_match(5, 5.0000001, amount=False)
    assert values_match(None, None, amount=False) and not values_match(0, None, amount=False)


def test_amount_field_is_found_from_the_template(tmp_path: Path) -> None:
    # The 行政事业性收费 amount differs by 0.01 on 850.3 万元; a count differs by 0.01 too.
    # The amount is right (relative tolerance), the count is wrong.
    _truth(tmp_path / "t", "d", {FEES: 850.3, ISSUED: 3})
    _pred(tmp_path / "p", "d", {FEES: 850.31, ISSUED: 3.01})

    report = evaluate(tmp_path / "t", tmp_path / "p")

    assert report.per_document[0].wrong_fields == [ISSUED]


def test_template_and_meta_are_scored_exactly(tmp_path: Path) -> None:
    # Doc a: right template, agency with a trailing space, wrong year; doc b: wrong template and agency.
    # Template 1/2, agency 1/2 (outer spaces ignored), year 1/2.
    _truth(tmp_path / "t", "a", {ISSUED: 1})
    _truth(tmp_path / "t", "b", {ISSUED: 1})
    _pred(tmp_path / "p", "a", {ISSUED: 1}, agency=AGENCY + " ", year=2022)
    _pred(tmp_path / "p", "b", {ISSUED: 1}, template="gov-2019", agency="某市人民政府")

    report = evaluate(tmp_path / "t", tmp_path / "p")

    assert (report.template.rate, report.agency.rate, report.year.rate) == (0.5, 0.5, 0.5)
    assert [(d.template_ok, d.agency_ok, d.year_ok) for d in report.per_document] == [
        (True, True, False), (False, False, True)]


def test_truth_without_level_is_reported_as_unknown(tmp_path: Path) -> None:
    # A truth file with no "level" key (e.g. a hand-labelled real report).
    # Its scores are grouped under level "unknown".
    _truth(tmp_path / "t", "real-1", {ISSUED: 2}, level=None)
    _pred(tmp_path / "p", "real-1", {ISSUED: 2})

    report = evaluate(tmp_path / "t", tmp_path / "p")

    assert list(report.by_level) == ["unknown"] and report.per_document[0].level == "unknown"


def test_unreadable_prediction_and_stray_files_are_listed(tmp_path: Path) -> None:
    # A prediction that is not a DocumentResult, a truth file that is not JSON, and a prediction with no truth.
    # Each is listed; the unreadable prediction scores its fields as missing.
    _truth(tmp_path / "t", "bad", {ISSUED: 3})
    (tmp_path / "t" / "broken.truth.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "bad.json").write_text('{"fields": {}}', encoding="utf-8")
    _pred(tmp_path / "p", "extra", {ISSUED: 1})

    report = evaluate(tmp_path / "t", tmp_path / "p")

    assert list(report.unreadable_predictions) == ["bad"]
    assert "not a DocumentResult" in report.unreadable_predictions["bad"]
    assert list(report.truth_errors) == ["broken.truth.json"]
    assert report.unmatched_predictions == ["extra"]
    assert (report.documents, report.overall.missing) == (1, 1)


def test_report_round_trips_through_json_and_prints_a_table(tmp_path: Path) -> None:
    # A two-level evaluation with one missing prediction.
    # The JSON dump reloads to the same report; the text names the groups, rates and the missing id.
    _truth(tmp_path / "t", "a", {ISSUED: 3, NEW: 40}, level="clean")
    _truth(tmp_path / "t", "b", {ISSUED: 3, UPHELD: 1}, level="hard")
    _pred(tmp_path / "p", "a", {ISSUED: 3, NEW: (41, "flagged")})

    report = evaluate(tmp_path / "t", tmp_path / "p")
    text = format_report(report)

    assert EvalReport.model_validate_json(report.model_dump_json()) == report
    assert json.loads(report.model_dump_json())["overall"]["accuracy"] == 0.25
    lines = text.splitlines()
    overall = next(line for line in lines if line.startswith("overall"))
    assert overall.split() == ["overall", "4", "25.0%", "50.0%", "0.0%", "50.0%", "100.0%", "100.0%"]
    assert any(line.startswith("level hard") for line in lines)
    assert "no prediction: b" in lines
