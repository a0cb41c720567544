"""`nianbao train --with-corrections`: reviewer decisions on a generated report become cell labels.

The generated report's truth gives every field's true cell box and every printed label's role,
so decisions written from it are what a reviewer would confirm, and the truth labeller
(`models.data.label_cells`) is an independent oracle for the labels the decisions imply.
"""

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from extractor.pipeline import Pipeline
from extractor.stages.classify.labels import COL, ROW, VALUE
from extractor.synth import SynthTruth
from extractor.templates import get_template
from models.corrections import CorrectionsError, Decision, Outcome, RecognitionCheck, load_corrected_documents
from models.data import UNLABELLED, join_tables, label_cells, render, understand

# Seed of the one generated report the decisions are about.
_SEED = 4242


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A digital generated report, its truth, and its tables as the pipeline sees them."""
    (pdf,) = render(tmp_path_factory.mktemp("reports"), 1, _SEED)
    truth = SynthTruth.load(pdf.with_name(pdf.stem + ".truth.json"))
    tables = join_tables(understand(pdf, Pipeline()))
    return pdf, truth, tables


def _line(pdf: Path, truth: SynthTruth, field: str, *, bbox=None, page=None, dpi=None, latest=True,
          file: str | None = None) -> dict:
    """One decision line as `nianbao export-corrections` writes it (every key of the format)."""
    f = truth.fields[field]
    return {
        "document": {"id": 7, "sha256": hashlib.sha256(pdf.read_bytes()).hexdigest(),
                     "file": str(pdf) if file is None else file, "source": pdf.name},
        "template": truth.template, "field": field, "row_label": None, "col_label": None,
        "page": f.page if page is None else page, "bbox": f.bbox if bbox is None else bbox,
        "dpi": truth.dpi if dpi is None else dpi, "old": 3, "new": f.value, "kind": "correct",
        "cell_text": "3", "status": "flagged", "reason": "low confidence", "reviewer": "r@example.org",
        "at": "2026-01-01T00:00:00+00:00", "latest": latest,
    }


def _write(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return path


def _fields(truth: SynthTruth) -> list[str]:
    """Three located fields of different sections, rows and columns: an active field, an item of a
    section 三 group (row label next to a group label), and a section 四 field (group header)."""
    located = [fid for fid, f in truth.fields.items() if f.page is not None and f.bbox is not None]
    active = next(fid for fid in located if fid.startswith("active."))
    item = next(fid for fid in located if fid.startswith("apply.denied.") and fid.endswith(".commercial"))
    appeal = next(fid for fid in located if fid.startswith("appeal.suit_after_review.") and fid.endswith(".corrected"))
    return [active, item, appeal]


def _expected(field: str) -> list[str]:
    section, rest = field.split(".", 1)
    row, col = rest.rsplit(".", 1)
    if section == "appeal":
        return [VALUE, COL + col, COL + row]
    return [VALUE, ROW + row, COL + col]


@pytest.mark.ml
def test_reviewed_cells_get_the_roles_the_truth_gives_them(report, tmp_path):
    # Decisions on three fields (one given at half the dpi, its box halved) label exactly their value
    # cell, row label (section 四: group header) and column header, as the truth labeller does; no other cell.
    pdf, truth, tables = report
    fields = _fields(truth)
    lines = [_line(pdf, truth, f) for f in fields[:2]]
    half = [v / 2 for v in truth.fields[fields[2]].bbox]
    lines.append(_line(pdf, truth, fields[2], bbox=half, dpi=truth.dpi / 2))
    docs, usage = load_corrected_documents([_write(tmp_path / "c.jsonl", lines)], Pipeline(), tmp_path / "cache")
    assert usage.outcomes == {Outcome.USED.value: 3} and usage.documents == 1
    (doc,) = docs
    truth_labels = label_cells(doc.tables, truth)
    given = [(label, truth_label) for labels, truths in zip(doc.labels, truth_labels)
             for label, truth_label in zip(labels, truths) if label != UNLABELLED]
    assert all(label == truth_label for label, truth_label in given)
    assert Counter(label for label, _ in given) == Counter(l for f in fields for l in _expected(f))
    assert usage.labelled_cells == 9
    assert usage.recognition.cells == 0  # a text layer is no test of the OCR
    assert len(doc.tables) == len(tables)


@pytest.mark.ml
def test_unusable_decisions_are_counted_not_dropped(report, tmp_path):
    # A field never located, a document not on disk, a box on the margin, a box of the cell one row
    # down (the machine misplaced the field), a changed file; a superseded line is not a decision at all.
    pdf, truth, _ = report
    fields = _fields(truth)
    item = fields[1]
    below = next(fid for fid in truth.fields if fid.startswith("apply.") and fid.endswith(".commercial")
                 and truth.fields[fid].page is not None and truth.fields[fid].bbox[1] > truth.fields[item].bbox[3] - 1
                 and truth.fields[fid].page == truth.fields[item].page)
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(pdf.read_bytes() + b"\n%")
    lines = [
        _line(pdf, truth, fields[0]),
        _line(pdf, truth, fields[0], latest=False),
        {**_line(pdf, truth, fields[2]), "page": None, "bbox": None},
        {**_line(pdf, truth, fields[0]), "document": {"id": 8, "sha256": "0" * 64, "file": str(tmp_path / "gone.pdf")}},
        _line(pdf, truth, fields[2], page=0, bbox=[2.0, 2.0, 40.0, 30.0]),
        _line(pdf, truth, item, bbox=truth.fields[below].bbox),
        {**_line(pdf, truth, fields[0]), "document": {"id": 9, "sha256": "1" * 64, "file": str(changed)}},
    ]
    docs, usage = load_corrected_documents([_write(tmp_path / "c.jsonl", lines)], Pipeline(), tmp_path / "cache")
    assert usage.files[0]["lines"] == 7 and usage.files[0]["latest"] == 6 and usage.decisions == 6
    assert usage.outcomes == {"used": 1, "no_location": 1, "document_missing": 1, "cell_not_found": 1,
                              "labels_not_found": 1, "document_changed": 1}
    assert usage.missing_documents == [str(tmp_path / "gone.pdf")]
    assert len(docs) == 1 and sum(l != UNLABELLED for labels in docs[0].labels for l in labels) == 3


def test_a_file_with_no_usable_decision_fails_saying_what_to_do(tmp_path):
    # Every decision's document is missing (exported without the content store mounted).
    # Training must not run as if the corrections were there.
    line = {"document": {"id": 1, "sha256": "0" * 64, "file": None, "source": "a.pdf"}, "template": "gov-2021",
            "field": "apply.granted.total", "page": 1, "bbox": [1, 2, 3, 4], "dpi": 200, "latest": True}
    path = _write(tmp_path / "c.jsonl", [line])
    with pytest.raises(CorrectionsError, match="export-corrections"):
        load_corrected_documents([path], Pipeline(), tmp_path / "cache")
    with pytest.raises(CorrectionsError, match=r"bad\.jsonl:1 is not a decision line"):
        load_corrected_documents([_write(tmp_path / "bad.jsonl", [{"field": 1}])], Pipeline(), tmp_path / "cache")


@pytest.mark.ml
def test_training_with_corrections_records_them_in_the_manifest(report, tmp_path):
    # A tiny run on the corrections alone (no generated reports, no evaluation) trains on the
    # reviewed cells and says in the manifest which file, how many decisions and documents it used.
    from models.run import train_and_evaluate
    from models.train import TrainConfig

    pdf, truth, _ = report
    path = _write(tmp_path / "c.jsonl", [_line(pdf, truth, f) for f in _fields(truth)])
    config = TrainConfig(steps=3, minutes=2, hidden=32, layers=1, heads=2, batch=4, threads=1)
    manifest = train_and_evaluate(tmp_path / "out", tmp_path / "data", 0, _SEED, 0, 1, config,
                                  corrections=[path], corrections_repeat=2)
    used = manifest["data"]["corrections"]
    assert used["files"] == [{"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                              "lines": 3, "latest": 3}]
    assert (used["decisions"], used["used"], used["documents"], used["repeat"]) == (3, 3, 1, 2)
    assert manifest["training"]["steps"] == 3 and manifest["metrics"] is None
    written = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert written["data"]["corrections"] == used
    labels = set(json.loads((tmp_path / "out" / "config.json").read_text(encoding="utf-8"))["id2label"].values())
    assert UNLABELLED not in labels and {VALUE, *(l for f in _fields(truth) for l in _expected(f))} <= labels


@pytest.mark.ml
def test_unlabelled_cells_are_left_out_of_the_loss(tmp_path):
    # A table whose number cells are `value` and whose word cells are unlabelled: the model only
    # ever sees `value` as a target, so it calls every cell a value (were unlabelled cells `O`, it would not).
    from extractor.datamodel import BBox, Cell, Table
    from extractor.stages.classify import ClassifyOptions, ClassifyStage
    from models.data import LabelledDocument
    from models.train import TrainConfig, train

    cells = [Cell(row=r, col=c, text=f"行{r}" if c == 0 else str(r + c), page=0,
                  bbox=BBox(x1=50 * c, y1=20 * r, x2=50 * c + 50, y2=20 * r + 20)) for r in range(6) for c in range(4)]
    table = Table(n_rows=6, n_cols=4, cells=cells, pages=[0], bbox=BBox(x1=0, y1=0, x2=200, y2=120))
    labels = [UNLABELLED if c.col == 0 else VALUE for c in cells]
    doc = LabelledDocument(doc_id="t", truth=None, pages=[], tables=[table], labels=[labels])
    train([doc], tmp_path, TrainConfig(steps=20, minutes=2, hidden=32, layers=1, heads=2, batch=2, threads=1, lr=3e-3))
    (pred,) = ClassifyStage(ClassifyOptions(artifacts_path=tmp_path, threads=1)).predict([table])
    assert [p.label for p in pred.cells if p.label != VALUE] == []


def test_recognition_check_counts_cells_the_ocr_still_misreads():
    # Three reviewed cells of scanned pages: read right, read as a look-alike letter, read as 0
    # where the reviewer saw 5. Two are misread, and listed with what was read.
    definition = get_template("gov-2021").fields["apply.granted.natural_person"]
    check = RecognitionCheck()
    for text, new in (("12", 12), ("J", 5), ("0", 5)):
        check.add(Decision(document={}, field=definition.id, new=new), text, definition)
    assert (check.cells, check.right) == (3, 1)
    assert [m["read"] for m in check.misread] == ["J", "0"]
