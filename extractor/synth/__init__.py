"""Synthetic annual reports with exact ground truth: training data and test data for every stage.

:func:`generate` renders ``n`` multi-page reports (PDF) with a ``<doc-id>.truth.json`` beside
each (see :class:`extractor.synth.truth.SynthTruth`). :func:`make_samples` writes the small set of
scanned sample reports kept in ``samples/``.

Each document is drawn from its own generator seeded with ``seed * 100003 + i``, so document
``i`` of a run is the same whatever ``n`` is.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from extractor.synth.formats import FORMAT_LEVELS, site_page, write_docx, write_html, write_ofd
from extractor.synth.html import build_html, choose_style, print_cells
from extractor.synth.narrative import Agency, draw_agency, draw_prose, published_date
from extractor.synth.render import Scanner, lay_out, scan
from extractor.synth.truth import FieldTruth, LabelTruth, NarrativeClaim, SynthTruth, TruthMeta
from extractor.synth.values import DrawnValues, draw_values, plant_violations
from extractor.templates import get_template

__all__ = ["FORMAT_LEVELS", "LEVELS", "Scanner", "SynthTruth", "generate", "make_samples", "render_document"]

_log = logging.getLogger(__name__)

# Output levels: born-digital, or rasterised and scanned at one of three degradation levels.
LEVELS = ("digital", "clean", "typical", "hard")
# Level mix of `level="mixed"`.
_MIXED_P = (0.2, 0.2, 0.4, 0.2)
# Share of documents with a deliberately broken identity.
VIOLATION_RATE = 0.15
# Share of hard documents with a second seal stamped over a corner of the section 三 table (poor
# archive scans of stamped reports have them often).
TABLE_SEAL_RATE = 0.5
# Resolution of every truth box and of scanned pages.
DPI = 200
# Multiplier of the run seed in a document's seed.
_SEED_STRIDE = 100003
# JPEG quality of the sample PDFs (kept small: the six samples take about 5 MB).
_SAMPLE_JPEG_QUALITY = 35
# Where the seed reports (real values read by hand) live in a source checkout.
SEEDS_DIR = Path(__file__).resolve().parents[2] / "samples" / "seeds"


@dataclass(frozen=True)
class _Override:
    """Fixed content of a document made from a seed file."""

    template: str
    agency: str
    year: int
    published: str | None
    values: dict[str, int | float]
    raw_overrides: dict[str, str]
    decimal_raw: dict[str, str]
    narrative_overrides: dict[str, int | float]


def load_seed(path: Path | str | dict) -> _Override:
    """Read a seed file (``samples/seeds/*.json``) or an already-parsed dict."""
    d = path if isinstance(path, dict) else json.loads(Path(path).read_text(encoding="utf-8"))
    template = get_template(d["template"])
    values = {fid: 0 for fid in template.fields}
    unknown = set(d["values"]) - set(template.fields)
    if unknown:
        raise ValueError(f"seed has fields not in {template.id}: {sorted(unknown)[:5]}")
    values.update(d["values"])
    meta = d["meta"]
    return _Override(
        template=template.id,
        agency=meta["agency"],
        year=int(meta["year"]),
        published=meta.get("published"),
        values=values,
        raw_overrides=dict(d.get("raw_overrides", {})),
        decimal_raw=dict(d.get("decimal_raw", {})),
        narrative_overrides=dict(d.get("narrative_overrides", {})),
    )


def _agency_from_name(name: str) -> Agency:
    from extractor.synth.narrative import _AGENCIES

    for kind, self_ref, _ in sorted(_AGENCIES, key=lambda a: -len(a[0])):
        if name.endswith(kind):
            place = name[: -len(kind)]
            return Agency(name, kind, place, "", "", self_ref)
    return Agency(name, "default", name, "", "", "本机关")


def doc_seed(seed: int, i: int) -> int:
    """The seed of document `i` of a run seeded with `seed`."""
    return seed * _SEED_STRIDE + i


def render_document(
    doc_id: str,
    out: Path,
    seed: int,
    template: str | None = None,
    level: str = "typical",
    values_override: Path | str | dict | None = None,
    violation_rate: float = VIOLATION_RATE,
    jpeg_quality: int = 70,
    style_overrides: dict | None = None,
    html_encoding: str = "utf-8",
    scanner: Scanner | str = Scanner.OURS,
) -> Path:
    """Render one report and its truth into `out`.

    Args:
        doc_id: file stem of the PDF and the truth JSON.
        out: output directory (created).
        seed: this document's seed; everything about it follows from it.
        template: gov-2021 or gov-2019; drawn when None (gov-2021 about 70%).
        level: digital | clean | typical | hard | html | docx | ofd (not "mixed": choose before).
        values_override: a seed file whose template, meta and values the report carries exactly.
        violation_rate: share of drawn documents given a planted identity violation.
        jpeg_quality: JPEG quality of the page images of a scanned PDF.
        style_overrides: rendering choices to force (fields of :class:`extractor.synth.html.Style`,
            e.g. ``{"other_single_row": True}``), applied after the style is drawn.
        html_encoding: encoding of the page written at level ``html`` (``gbk`` falls back to
            GB18030 for characters outside GBK).
        scanner: which scan simulator degrades a scanned level (ours or Augraphy's); the
            report's content is the same for both, only the scan differs.

    The levels ``html``, ``docx`` and ``ofd`` write the same report as a web page in a site's
    frame (``<doc_id>.html``), a Word file (``.docx``) or an OFD file (``.ofd``) instead of a PDF;
    their truth has the values, page 0 and no boxes.

    Returns:
        The PDF (or HTML, DOCX, OFD) path; the truth is ``<out>/<doc_id>.truth.json``.
    """
    if level not in LEVELS + FORMAT_LEVELS:
        raise ValueError(f"unknown level {level!r}; known: {', '.join(LEVELS + FORMAT_LEVELS)}")
    scanner = Scanner(scanner)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    override = load_seed(values_override) if values_override is not None else None

    # 1. What the report says: template, agency, year, values (errors planted), prose.
    if override:
        tmpl = get_template(override.template)
        agency = _agency_from_name(override.agency)
        year = override.year
        drawn = DrawnValues(values=dict(override.values), raw=dict(override.decimal_raw), planted=[])
    else:
        tid = template or ("gov-2021" if rng.random() < 0.7 else "gov-2019")
        tmpl = get_template(tid)
        agency = draw_agency(rng)
        year = int(rng.integers(2021, 2026)) if tid == "gov-2021" else int(rng.integers(2019, 2021))
        drawn = draw_values(tmpl, agency.kind, rng)
        if rng.random() < violation_rate:
            drawn = plant_violations(tmpl, drawn, rng)
    values = drawn.values
    if override and override.published:
        import datetime as dt

        published = dt.date.fromisoformat(override.published)
    else:
        published = published_date(year, rng)

    # 2. How it looks.
    style = choose_style(tmpl, rng)
    planted_rows = {fid.rsplit(".", 1)[0].split(".", 1)[1] for fid in drawn.planted}
    style.blank_total_rows = [
        r for r in style.blank_total_rows if r not in planted_rows and r.removeprefix("appeal.") not in planted_rows
    ]
    if drawn.planted:
        # keep every violation checkable from `fields` (the single row hides the other.* fields)
        style.other_single_row = False
    if override:
        style.zero_style, style.zero_blank_rows, style.blank_total_rows = "zero", [], []
        style.other_single_row = False
    for key, value in (style_overrides or {}).items():
        if not hasattr(style, key):
            raise ValueError(f"unknown style field {key!r}")
        setattr(style, key, value)
    if tmpl.id != "gov-2021":
        style.other_single_row = False
    cells, other_row = print_cells(tmpl, values, drawn.raw, style, override.raw_overrides if override else None)
    prose = draw_prose(
        agency, year, tmpl.id, values, published, rng,
        stated_overrides=override.narrative_overrides if override else None,
    )
    html = build_html(tmpl, prose, cells, other_row, style)
    if level in FORMAT_LEVELS:
        return _write_format(level, html, out, doc_id, seed, tmpl, agency, year, published, values, cells, other_row,
                             drawn, prose, style, html_encoding)

    # 3. Lay out, write the PDF (born-digital, or scanned pages), and map the boxes.
    layout = lay_out(html, DPI)
    pdf_path = out / f"{doc_id}.pdf"
    boxes = dict(layout.cells)
    extra: dict = {}
    if level == "digital":
        layout.document.write_pdf(pdf_path)
        page_size = [round(float(layout.document.pages[0].width) * DPI / 96), round(float(layout.document.pages[0].height) * DPI / 96)]
    else:
        from extractor.synth.degrade import at_scan_resolution, images_to_pdf, scan_dpi

        pdf_bytes = layout.document.write_pdf()
        seal_on_table = level == "hard" and rng.random() < TABLE_SEAL_RATE
        scanned = scan(layout, pdf_bytes, level, agency.name, rng, seal_on_table=seal_on_table, scanner=scanner)
        boxes = {k: (p, scanned.box_maps[p](b)) for k, (p, b) in boxes.items()}
        for lab in layout.labels:
            lab["bbox"] = scanned.box_maps[lab["page"]](lab["bbox"])
        # Drawn from its own stream, so that the rest of the document does not change with it.
        resolution = scan_dpi(level, np.random.default_rng([seed, 3]))
        images_to_pdf([at_scan_resolution(im, resolution, DPI) for im in scanned.images], pdf_path,
                      dpi=resolution, jpeg_quality=jpeg_quality)
        page_size = list(scanned.images[0].size)
        extra["scan_dpi"] = resolution
        extra["seals"] = scanned.seals
        extra["seal_on_table"] = seal_on_table
        extra["scanner"] = scanner.value

    # 4. Truth.
    fields: dict[str, FieldTruth] = {}
    for fid in tmpl.fields:
        if fid not in cells:
            # An apply.other.* item hidden by the single （六） row: a printed 0 means each item is 0
            # (counts are never negative); any other sum leaves the items unknown.
            col = fid.rsplit(".", 1)[1]
            row_sum = sum(values[f"apply.other.{r}.{col}"] for r in ("no_correction", "no_fee", "other"))
            value = 0 if row_sum == 0 else None
            fields[fid] = FieldTruth(value=value, raw="", printed=False, page=None, bbox=None)
            continue
        page, bbox = boxes[fid]
        fields[fid] = FieldTruth(
            value=values[fid], raw=cells[fid], printed=cells[fid] != "", page=page, bbox=[round(v, 1) for v in bbox]
        )
    other_truth: dict[str, FieldTruth] = {}
    for col, raw in other_row.items():
        page, bbox = boxes[f"other_row.{col}"]
        total = sum(values[f"apply.other.{r}.{col}"] for r in ("no_correction", "no_fee", "other"))
        other_truth[col] = FieldTruth(value=total, raw=raw, printed=raw != "", page=page, bbox=[round(v, 1) for v in bbox])
    apply_pages = [p for p, _ in layout.anchors.get("apply-table", [])]
    layout_info = {
        **style.as_dict(),
        "apply_pages": apply_pages,
        "split_page": apply_pages[1] if len(apply_pages) > 1 else None,
        "title_lines": prose.title_lines,
        **extra,
    }
    truth = SynthTruth(
        id=doc_id,
        template=tmpl.id,
        level=level,
        seed=seed,
        dpi=DPI,
        pages=layout.n_pages,
        page_size=page_size,
        meta=TruthMeta(agency=agency.name, year=year, published=published.isoformat()),
        fields=fields,
        other_row=other_truth,
        violations=[v.identity for v in tmpl.check(values)],
        planted=drawn.planted,
        narrative=[NarrativeClaim(text=c.text, field=c.field, stated=c.stated, value=c.value) for c in prose.claims],
        labels=[LabelTruth(**{**lab, "bbox": [round(v, 1) for v in lab["bbox"]]}) for lab in layout.labels],
        layout=layout_info,
    )
    truth.dump(out / f"{doc_id}.truth.json")
    return pdf_path


def _write_format(level, html, out, doc_id, seed, tmpl, agency, year, published, values, cells, other_row,
                  drawn, prose, style, html_encoding) -> Path:
    """Write the report as HTML, DOCX or OFD with its truth (values as printed, no boxes)."""
    if level == "html":
        path = write_html(site_page(html, agency.name, prose.date_text), out / f"{doc_id}.html", html_encoding)
    elif level == "docx":
        path = write_docx(html, out / f"{doc_id}.docx")
    else:
        path = write_ofd(html, out / f"{doc_id}.ofd")
    fields: dict[str, FieldTruth] = {}
    for fid in tmpl.fields:
        if fid not in cells:
            col = fid.rsplit(".", 1)[1]
            row_sum = sum(values[f"apply.other.{r}.{col}"] for r in ("no_correction", "no_fee", "other"))
            fields[fid] = FieldTruth(value=0 if row_sum == 0 else None, raw="", printed=False, page=None, bbox=None)
        else:
            fields[fid] = FieldTruth(value=values[fid], raw=cells[fid], printed=cells[fid] != "", page=0, bbox=None)
    other_truth = {
        col: FieldTruth(
            value=sum(values[f"apply.other.{r}.{col}"] for r in ("no_correction", "no_fee", "other")),
            raw=raw, printed=raw != "", page=0, bbox=None,
        )
        for col, raw in other_row.items()
    }
    truth = SynthTruth(
        id=doc_id, template=tmpl.id, level=level, seed=seed, dpi=DPI, pages=1,
        meta=TruthMeta(agency=agency.name, year=year, published=published.isoformat()),
        fields=fields, other_row=other_truth, violations=[v.identity for v in tmpl.check(values)],
        planted=drawn.planted,
        narrative=[NarrativeClaim(text=c.text, field=c.field, stated=c.stated, value=c.value) for c in prose.claims],
        layout={**style.as_dict(), "format": level, "encoding": html_encoding if level == "html" else None},
    )
    truth.dump(out / f"{doc_id}.truth.json")
    return path


def generate(
    n: int,
    out: Path,
    seed: int,
    templates: list[str] | None = None,
    level: str = "typical",
    values_override: Path | str | dict | None = None,
    workers: int = 1,
    scanner: Scanner | str = Scanner.OURS,
) -> list[Path]:
    """Render `n` synthetic reports with ground truth into `out`.

    Args:
        n: number of documents.
        out: output directory; writes ``synth-<seed>-<i:04d>.pdf`` and ``.truth.json``.
        seed: run seed; document i uses ``seed * 100003 + i``.
        templates: template ids to draw from (default both: gov-2021 ~70%, gov-2019 ~30%).
        level: digital | clean | typical | hard | mixed (a level drawn per document), or html |
            docx | ofd (the report as a web page, Word or OFD file instead of a PDF).
        values_override: a seed file (``samples/seeds/*.json``) whose values every document carries.
        workers: processes to render with (documents are independent; output is the same).
        scanner: scan simulator of the scanned levels: ``ours`` (default) or ``augraphy``. The
            same seed gives the same reports (values, layout, seals) with either; only the scan
            differs.

    Returns:
        The document paths in order.
    """
    if level != "mixed" and level not in LEVELS + FORMAT_LEVELS:
        raise ValueError(f"unknown level {level!r}; known: {', '.join(LEVELS + FORMAT_LEVELS)}, mixed")
    for t in templates or []:
        get_template(t)  # raises KeyError naming the known templates
    scanner = Scanner(scanner)
    jobs = []
    for i in range(n):
        s = doc_seed(seed, i)
        pick = np.random.default_rng([s, 1])  # choices made outside the document's own stream
        doc_level = str(pick.choice(LEVELS, p=_MIXED_P)) if level == "mixed" else level
        template = str(pick.choice(templates)) if templates else None
        jobs.append((f"synth-{seed}-{i:04d}", Path(out), s, template, doc_level, values_override, scanner))
    if workers > 1 and n > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(_render_job, jobs))
    return [_render_job(job) for job in jobs]


def _render_job(job: tuple) -> Path:
    doc_id, out, seed, template, level, values_override, scanner = job
    path = render_document(doc_id, out, seed, template, level, values_override, scanner=scanner)
    _log.info("rendered %s (%s)", path.name, job[4])
    return path


def make_samples(out: Path, seeds_dir: Path | None = None) -> list[Path]:
    """Write the sample reports: four drawn scans (both templates; clean, typical ×2, hard),
    the two real seed reports scanned at the typical level, and two drawn reports as published
    on the web (an HTML page in a site's frame, in GBK) and as a Word file (DOCX)."""
    seeds_dir = Path(seeds_dir or SEEDS_DIR)
    specs = [
        ("sample-gov-2021-clean", 11, "gov-2021", "clean", None),
        ("sample-gov-2021-typical", 12, "gov-2021", "typical", None),
        ("sample-gov-2019-typical", 13, "gov-2019", "typical", None),
        ("sample-gov-2021-hard", 14, "gov-2021", "hard", None),
        ("sample-zhaosu-2025", 15, None, "typical", seeds_dir / "zhaosu-2025.json"),
        ("sample-xiangxiang-2025", 16, None, "typical", seeds_dir / "xiangxiang-2025.json"),
        ("sample-gov-2021-web", 17, "gov-2021", "html", None),
        ("sample-gov-2019-word", 18, "gov-2019", "docx", None),
    ]
    return [
        render_document(doc_id, Path(out), s, t, lv, ov, jpeg_quality=_SAMPLE_JPEG_QUALITY, html_encoding="gbk")
        for doc_id, s, t, lv, ov in specs
    ]
