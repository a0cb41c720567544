"""End-to-end tests of the synthetic report generator (small n: each document takes ~1–4 s)."""

import json
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest

from extractor.synth import generate, render_document
from extractor.synth.narrative import number_text
from extractor.synth.truth import SynthTruth
from extractor.templates import get_template

_SEEDS = Path(__file__).resolve().parents[2] / "samples" / "seeds"


def _truths(paths: list[Path]) -> list[SynthTruth]:
    return [SynthTruth.load(p.with_name(p.stem + ".truth.json")) for p in paths]


def _cells(truth: SynthTruth):
    yield from truth.fields.items()
    yield from ((f"other_row.{c}", f) for c, f in truth.other_row.items())


def _text_in_box(pdf: pdfium.PdfDocument, page: int, bbox: list[float], dpi: int) -> str:
    p = pdf[page]
    k = 72.0 / dpi  # page pixels → PDF points; PDF y grows upwards from the bottom
    x1, y1, x2, y2 = bbox
    height = p.get_height()
    return p.get_textpage().get_text_bounded(x1 * k, height - y2 * k, x2 * k, height - y1 * k).strip()


@pytest.fixture(scope="module")
def digital(tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("digital")
    return generate(2, out, seed=5, templates=["gov-2021"], level="digital") + generate(
        2, out / "19", seed=6, templates=["gov-2019"], level="digital"
    )


@pytest.fixture(scope="module")
def scanned(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scanned")
    return render_document("scan-0", out, seed=42, template="gov-2021", level="typical")


def test_digital_truth_boxes_hold_the_printed_text(digital):
    # Born-digital reports of both templates: the text layer inside every truth box.
    # It equals the cell's raw text (blank cells read as empty).
    assert {t.template for t in _truths(digital)} == {"gov-2021", "gov-2019"}
    for path, truth in zip(digital, _truths(digital), strict=True):
        pdf = pdfium.PdfDocument(path)
        assert len(pdf) == truth.pages
        for fid, f in _cells(truth):
            if f.page is None:
                continue
            assert _text_in_box(pdf, f.page, f.bbox, truth.dpi) == f.raw, (truth.id, fid)


def test_label_boxes_hold_the_label_text(digital):
    # Header and row-label cells, group titles and headings are listed with role and key.
    # The text layer inside each table label's box is its text (whitespace aside).
    for path, truth in zip(digital, _truths(digital), strict=True):
        roles = {lab.role for lab in truth.labels}
        assert {"col_header", "row_label", "row_group", "section_heading", "title"} <= roles
        keys = {lab.key for lab in truth.labels if lab.role == "row_label"}
        assert {"new_received", "granted", "carried_forward", "licensing"} <= keys
        pdf = pdfium.PdfDocument(path)
        for lab in truth.labels:
            if lab.role in ("col_header", "row_label", "group_title"):
                text = _text_in_box(pdf, lab.page, lab.bbox, truth.dpi)
                assert "".join(text.split()) == "".join(lab.text.split()), (truth.id, lab)


def test_truth_lists_every_field_with_value_and_box(digital):
    # Every field of the template is in the truth, each printed cell with page and box.
    # Blank cells are printed=False; absent cells have neither page nor box.
    for truth in _truths(digital):
        template = get_template(truth.template)
        assert set(truth.fields) == set(template.fields)
        for f in truth.fields.values():
            assert f.printed == (f.raw != "")
            if f.page is not None:
                x1, y1, x2, y2 = f.bbox
                assert 0 <= x1 < x2 <= truth.page_size[0] and 0 <= y1 < y2 <= truth.page_size[1]
            else:
                assert not f.printed  # an other.* item hidden by a single （六） row
        assert truth.meta.published[:4] == str(truth.meta.year + 1)


def test_violations_in_truth_match_the_values(digital):
    # The identities the truth says are violated are exactly those the printed values break.
    # A document without planted errors violates nothing.
    for truth in _truths(digital):
        found = {v.identity for v in get_template(truth.template).check(truth.values())}
        assert found == set(truth.violations)
        assert bool(truth.planted) == bool(truth.violations)


def test_planted_violation_is_recorded(tmp_path):
    # A document forced to carry a planted error.
    # Its truth names the planted fields and the broken identities, which the values confirm.
    render_document("bad", tmp_path, seed=7, level="digital", violation_rate=1.0)
    truth = SynthTruth.load(tmp_path / "bad.truth.json")
    assert truth.planted and truth.violations
    broken = {v.identity for v in get_template(truth.template).check(truth.values())}
    assert broken == set(truth.violations)


def test_narrative_claims_restate_table_values(digital):
    # Numbers stated in the prose are recorded with the field they restate.
    # The stated number is in the sentence and `value` is the field's table value.
    n = 0
    for truth in _truths(digital):
        for c in truth.narrative:
            assert number_text(c.stated) in c.text.replace(" ", "")
            assert c.value == truth.fields[c.field].value
            n += 1
    assert n > 0


def test_same_seed_gives_the_same_documents(tmp_path):
    # The same run seed renders the same truth and the same page images (scanned level).
    # A different seed renders a different report.
    a = generate(1, tmp_path / "a", seed=9, level="clean")[0]
    b = generate(1, tmp_path / "b", seed=9, level="clean")[0]
    c = generate(1, tmp_path / "c", seed=10, level="clean")[0]
    ta, tb, tc = (json.loads(p.with_name(p.stem + ".truth.json").read_text()) for p in (a, b, c))
    assert ta == tb
    assert ta["fields"] != tc["fields"]
    ia = pdfium.PdfDocument(a)[0].render(scale=0.5).to_numpy()
    ib = pdfium.PdfDocument(b)[0].render(scale=0.5).to_numpy()
    assert np.array_equal(ia, ib)


def test_scanned_truth_boxes_land_on_ink(scanned):
    # A typical scan: image-only PDF whose pages are 200-dpi images.
    # The centre of every box with printed text holds dark pixels; the PDF has no text layer.
    truth = SynthTruth.load(scanned.with_name("scan-0.truth.json"))
    pdf = pdfium.PdfDocument(scanned)
    pages = [np.asarray(pdf[i].render(scale=truth.dpi / 72).to_pil().convert("L")) for i in range(len(pdf))]
    assert pages[0].shape[1] == pytest.approx(truth.page_size[0], abs=2)
    assert pdf[0].get_textpage().get_text_range().strip() == ""
    checked = 0
    for fid, f in _cells(truth):
        if not f.printed:
            continue
        x1, y1, x2, y2 = f.bbox
        h = y2 - y1
        # inside the ruling lines (values may be left- or right-aligned against them)
        crop = pages[f.page][int(y1 + 0.2 * h) : int(y2 - 0.2 * h), int(x1 + 7) : int(x2 - 7)]
        assert crop.min() < np.median(crop) - 60, fid  # some stroke darker than the paper
        checked += 1
    assert checked > 10


def test_single_other_row_variant(tmp_path):
    # A gov-2021 report that prints （六）其他处理 as one row.
    # The three other.* items are not printed: 0 where the row prints 0 (counts are never negative),
    # unknown (None) where it prints a positive sum; the row's cells are in other_row.
    render_document("one", tmp_path, seed=3, template="gov-2021", level="digital",
                    violation_rate=0.0, style_overrides={"other_single_row": True})
    truth = SynthTruth.load(tmp_path / "one.truth.json")
    assert truth.layout["other_single_row"] is True
    for col, printed in truth.other_row.items():
        for r in ("no_correction", "no_fee", "other"):
            f = truth.fields[f"apply.other.{r}.{col}"]
            assert not f.printed and f.bbox is None
            assert f.value == (0 if printed.value == 0 else None)
    assert set(truth.other_row) == {"natural_person", "commercial", "research", "social", "legal", "other_org", "total"}
    pdf = pdfium.PdfDocument(tmp_path / "one.pdf")
    cell = truth.other_row["total"]
    assert _text_in_box(pdf, cell.page, cell.bbox, truth.dpi) == cell.raw


@pytest.mark.parametrize("name", ["zhaosu-2025", "xiangxiang-2025"])
def test_seed_values_come_through(tmp_path, name):
    # A report rendered from a seed file (values read by hand from a real report).
    # Every value, blank cell and the agency/year are carried into the truth and printed.
    seed = json.loads((_SEEDS / f"{name}.json").read_text(encoding="utf-8"))
    path = generate(1, tmp_path, seed=1, level="digital", values_override=_SEEDS / f"{name}.json")[0]
    truth = SynthTruth.load(path.with_name(path.stem + ".truth.json"))
    assert truth.template == seed["template"]
    assert (truth.meta.agency, truth.meta.year) == (seed["meta"]["agency"], seed["meta"]["year"])
    for fid, v in seed["values"].items():
        assert truth.fields[fid].value == v, fid
    for fid, raw in seed["raw_overrides"].items():
        assert truth.fields[fid].raw == raw and truth.fields[fid].printed == (raw != "")
    for fid, raw in seed["decimal_raw"].items():
        assert truth.fields[fid].raw == raw
    pdf = pdfium.PdfDocument(path)
    for fid in ("active.licensing.decisions", "apply.new_received.total", "appeal.review.total"):
        f = truth.fields[fid]
        assert _text_in_box(pdf, f.page, f.bbox, truth.dpi) == str(seed["values"][fid])


def test_zhaosu_keeps_its_real_errors(tmp_path):
    # 昭苏 prints 自然人 1 and 其他 1 under a 总计 of 1, and its prose says 行政强制 3 件 (table: 0).
    # Both survive: the row-total violations are listed and the misstatement is a claim.
    path = generate(1, tmp_path, seed=2, level="digital", values_override=_SEEDS / "zhaosu-2025.json")[0]
    truth = SynthTruth.load(path.with_name(path.stem + ".truth.json"))
    assert truth.meta.published == "2026-01-21"
    assert set(truth.violations) == {
        "apply.row_total.new_received", "apply.row_total.granted", "apply.row_total.total"
    }
    blank = truth.fields["appeal.suit_direct.total"]
    assert blank.raw == "" and not blank.printed and blank.value == 0
    coercion = [c for c in truth.narrative if c.field == "active.coercion.decisions"]
    assert coercion and coercion[0].stated == 3 and coercion[0].value == 0
    assert "3" in coercion[0].text


def test_unknown_level_is_refused(tmp_path):
    # A level that does not exist fails before anything is written.
    with pytest.raises(ValueError, match="unknown level"):
        generate(1, tmp_path, seed=1, level="blurry")
    assert not any(tmp_path.iterdir())


def _misplacement(scan: np.ndarray, box: list[float], clean: np.ndarray, clean_box: list[float]) -> tuple | None:
    """How far the cell's print lies from where its scan box says, found by template matching.

    The inside of the cell on the clean render (rules left out) is searched for on the scan
    within 10 px around the scan box; returns (dx, dy, correlation), None for a blank crop.
    """
    import cv2

    m, r = 6, 10  # margin inside the rules; search radius
    x1, y1, x2, y2 = (int(round(v)) for v in clean_box)
    template = clean[y1 + m : y2 - m, x1 + m : x2 - m].astype(np.float32)
    if template.std() < 5:
        return None
    # The scan box's top-left, whatever the box's width: the two boxes differ by a rotation of a degree or two.
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    sx, sy = int(round(cx - template.shape[1] / 2)), int(round(cy - template.shape[0] / 2))
    window = scan[sy - r : sy + template.shape[0] + r, sx - r : sx + template.shape[1] + r].astype(np.float32)
    scores = cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED)
    _, best, _, (bx, by) = cv2.minMaxLoc(scores)
    return bx - r, by - r, best


def test_synth_with_the_augraphy_scanner_writes_pdfs_and_truth_eval_reads(tmp_path):
    # `nianbao synth --scanner augraphy` at typical, and the same report born-digital.
    # The scan is an image-only PDF of the truth's page size; the print of every clearly visible
    # value cell is found where its scan box says; `evaluate` reads the truth (no prediction yet).
    from typer.testing import CliRunner

    from extractor.cli import app
    from extractor.evaluation import evaluate

    result = CliRunner().invoke(app, ["synth", "--out", str(tmp_path / "aug"), "--n", "1", "--seed", "21",
                                      "--level", "typical", "--scanner", "augraphy"])
    assert result.exit_code == 0, result.output
    digital = generate(1, tmp_path / "dig", seed=21, level="digital")[0]
    scanned = tmp_path / "aug" / digital.name
    truth, truth_digital = _truths([scanned])[0], _truths([digital])[0]
    assert truth.layout["scanner"] == "augraphy" and truth.level == "typical"

    pdf = pdfium.PdfDocument(scanned)
    assert len(pdf) == truth.pages
    assert pdf[0].get_textpage().get_text_range().strip() == ""
    pages = [np.asarray(pdf[i].render(scale=truth.dpi / 72).to_pil().convert("L")) for i in range(len(pdf))]
    clean_pdf = pdfium.PdfDocument(digital)
    clean = [np.asarray(clean_pdf[i].render(scale=truth.dpi / 72).to_pil().convert("L")) for i in range(len(clean_pdf))]
    assert pages[0].shape[1] == pytest.approx(truth.page_size[0], abs=2)
    checked = 0
    for fid, f in truth.fields.items():
        if not any(ch.isdigit() for ch in f.raw):
            continue
        found = _misplacement(pages[f.page], f.bbox, clean[f.page], truth_digital.fields[fid].bbox)
        if found is None or found[2] < 0.5:
            continue  # too faint to find on this scan: the other cells of the page place it
        assert abs(found[0]) <= 3 and abs(found[1]) <= 3, (fid, found)
        checked += 1
    assert checked > 50

    report = evaluate(tmp_path / "aug", tmp_path / "empty")
    assert report.documents == 1 and set(report.by_level) == {"typical"}
