"""`nianbao bench`: accuracy and speed of page understanding, measured the same way every time.

Inputs are generated (a seed per level) or real reports with hand-read labels; the scanned ones
are degraded by one or both scan simulators (ours, `extractor.synth.degrade`, and Augraphy's,
`extractor.synth.augraphy_scan`), one set per (scanner, level), the same documents for both.
Measures:
- grid: share of sections (二, 三, 四 of each document) whose printed value cells all land in
  distinct cells of the recovered grids; for section 三 also one grid row per template row and
  one grid column per template column;
- cells: share of numeric value cells (and of all value cells, blanks included) whose text
  is exactly the printed text;
- fields: end-to-end field accuracy (the `nianbao eval` measures);
- orientation: scanned pages (all printed upright) left as they are, and the same pages turned by
  180° turned back;
- speed: seconds per page per stage and end to end, and the process's peak memory.
"""

from __future__ import annotations

import json
import resource
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
from pydantic import BaseModel, Field

from extractor.datamodel import PageRecord, Table
from extractor.evaluation import evaluate
from extractor.ingest import iter_inputs
from extractor.output import write_document
from extractor.pipeline import Pipeline, PipelineOptions
from extractor.stages.assemble.text import nfkc
from extractor.stages.grid import document_tables
from extractor.stages.layout import LayoutOptions, RapidCdlaOptions
from extractor.stages.ocr import RapidOcrOptions
from extractor.stages.rasterise import PageImage, open_document, render_page
from extractor.stages.rasterise.orientation import to_upright, upright_page
from extractor.synth.render import Scanner


class SetScore(BaseModel):
    """Measures over one set of documents (a level of generated scans, or real reports)."""

    name: str
    scanner: str = Field("-", description="scan simulator of the set (ours | augraphy); '-' for born-digital sets")
    level: str = Field("", description="digital | clean | typical | hard")
    seconds_to_make_per_page: float | None = Field(
        None, description="seconds per page to make the inputs (render and scan, or rasterise and scan)"
    )
    documents: int = 0
    pages: int = 0
    sections: int = 0
    sections_grid_right: int = 0
    numeric_cells: int = 0
    numeric_cells_exact: int = 0
    value_cells: int = 0
    value_cells_exact: int = 0
    field_accuracy: float | None = None
    documents_all_right: str = ""
    silent_errors: int | None = None
    flag_rate: float | None = None
    meta_right: str = Field("", description="agency, year and publication date right: 'a/n · y/n · d/n'")
    cpu_seconds_per_page: float | None = Field(
        None, description="CPU seconds of the process per page, end to end (all threads; steady whatever else runs)"
    )
    scanned_pages: int = Field(0, description="pages without a text layer (uprighted by the pipeline)")
    scanned_kept_upright: int = Field(0, description="scanned pages the pipeline left unturned (all are upright)")
    turned_found: int = Field(0, description="scanned pages turned by 180° here that uprighting turned back")
    seconds_per_page: dict[str, float] = Field(default_factory=dict, description="mean seconds per page by stage")
    table_pages: int = 0
    seconds_per_table_page: float | None = Field(
        None, description="mean seconds of page understanding (all stages) on pages with a table"
    )
    seconds_per_other_page: float | None = Field(
        None, description="the same on pages without a table (prose: every line is read by full-page OCR)"
    )

    def rate(self, num: int, den: int) -> str:
        return f"{100 * num / den:.2f}%" if den else "-"


class BenchReport(BaseModel):
    threads: int
    model_load_seconds: float = Field(0.0, description="loading the OCR and layout models, once, before any set")
    peak_rss_mb: float
    sets: list[SetScore]


def _norm(text: str) -> str:
    return nfkc(text).replace(" ", "").replace(",", "")


def _cell_at(tables: list[Table], page: int, cx: float, cy: float) -> tuple[int, int, int, str] | None:
    """(table index, grid row, grid col, text) of the cell holding the point (`cx`, `cy`) on `page`."""
    for t, table in enumerate(tables):
        for cell in table.cells:
            if cell.page == page and cell.bbox.contains_point(cx, cy):
                return t, cell.row, cell.col, cell.text
    return None


def _score_tables(truth: dict, tables: list[Table], records: list[PageRecord], score: SetScore) -> None:
    by_section: dict[str, list[tuple[str, str, tuple | None]]] = defaultdict(list)
    by_index = {r.index: r for r in records}
    for fid, f in truth["fields"].items():
        if not f.get("printed") or f.get("page") is None or not f.get("bbox"):
            continue
        box, record = f["bbox"], by_index.get(f["page"])
        # Truth boxes are on the page as scanned; cells are on the page as uprighted.
        point = to_upright(record, (box[0] + box[2]) / 2, (box[1] + box[3]) / 2) if record else None
        found = _cell_at(tables, f["page"], *point) if point else None
        raw = _norm(f.get("raw", ""))
        section, rest = fid.split(".", 1)
        row, col = rest.rsplit(".", 1)
        by_section[section].append((row, col, found))
        score.value_cells += 1
        exact = found is not None and _norm(found[3]) == raw
        score.value_cells_exact += exact
        if any(ch.isdigit() for ch in raw):
            score.numeric_cells += 1
            score.numeric_cells_exact += exact
    for section, cells in by_section.items():
        score.sections += 1
        if any(found is None for _, _, found in cells):
            continue
        positions = {found[:3] for _, _, found in cells}
        right = len(positions) == len(cells)
        if section == "apply":
            # Section 三 is one grid: each template row on one grid row, each column on one grid column.
            rows = {(r, found[0], found[1]) for r, _, found in cells}
            cols = {(c, found[0], found[2]) for _, c, found in cells}
            right = right and len({r for r, _, _ in rows}) == len(rows) and len({c for c, _, _ in cols}) == len(cols)
        score.sections_grid_right += right


def _score_orientation(path: Path, pages: list[PageRecord], pipeline: Pipeline, score: SetScore) -> None:
    """Count scanned pages kept upright by the pipeline, and found upside down when turned 180°."""
    scanned = [p for p in pages if "upright" in p.timings]
    if not scanned:
        return
    with open_document(path) as source:
        for record in scanned:
            page = render_page(source, record.index, dpi=pipeline.options.dpi)
            turned = PageImage(image=np.ascontiguousarray(np.rot90(page.image, k=2)), record=page.record)
            uprighted = upright_page(turned, recognise=pipeline.ocr.recognise_prose_crops)
            score.scanned_pages += 1
            score.scanned_kept_upright += record.rotation == 0
            score.turned_found += uprighted.record.rotation == 180


def _run_set(name: str, pdfs: list[Path], truth_dir: Path, pipeline: Pipeline, work: Path, **about) -> SetScore:
    score = SetScore(name=name, **about)
    pred_dir = work / "pred" / name
    pred_dir.mkdir(parents=True, exist_ok=True)
    stage_seconds: dict[str, float] = defaultdict(float)
    page_seconds: dict[bool, list[float]] = {True: [], False: []}  # by whether the page has a table
    cpu_seconds = 0.0
    for doc in iter_inputs(pdfs, work / "ingest").unique_documents():
        started, cpu_started = time.perf_counter(), time.process_time()
        result, pages = pipeline.extract_with_pages(doc)
        stage_seconds["end_to_end"] += time.perf_counter() - started
        cpu_seconds += time.process_time() - cpu_started
        write_document(result, pred_dir)
        for page in pages:
            for stage, seconds in page.timings.items():
                stage_seconds[stage] += seconds
            page_seconds[bool(page.tables)].append(sum(page.timings.values()))
        _score_orientation(doc.path, pages, pipeline, score)
        score.documents += 1
        score.pages += len(pages)
        truth_path = truth_dir / f"{doc.id}.truth.json"
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        tables = document_tables([t for p in pages for t in p.tables or []])
        _score_tables(truth, tables, pages, score)
    score.seconds_per_page = {k: round(v / max(1, score.pages), 3) for k, v in sorted(stage_seconds.items())}
    score.cpu_seconds_per_page = round(cpu_seconds / max(1, score.pages), 3)
    score.table_pages = len(page_seconds[True])
    if page_seconds[True]:
        score.seconds_per_table_page = round(sum(page_seconds[True]) / len(page_seconds[True]), 3)
    if page_seconds[False]:
        score.seconds_per_other_page = round(sum(page_seconds[False]) / len(page_seconds[False]), 3)
    report = evaluate(truth_dir, pred_dir)
    score.field_accuracy = report.overall.accuracy
    score.documents_all_right = f"{report.documents_all_right}/{report.documents}"
    score.silent_errors = report.overall.silent_errors
    score.flag_rate = report.overall.flag_rate
    score.meta_right = " · ".join(f"{a.correct}/{a.total}" for a in (report.agency, report.year, report.published))
    return score


def _degrade_real(pdf: Path, out: Path, level: str, scanner: Scanner, rng: np.random.Generator) -> Path:
    """The real report rendered at 200 dpi, passed through `scanner`'s `level` scan simulation and
    written at the level's scan resolution."""
    import pypdfium2 as pdfium

    from extractor.synth.degrade import at_scan_resolution, images_to_pdf, scan_dpi
    from extractor.synth.render import scan_one_page

    doc = pdfium.PdfDocument(pdf)
    try:
        pages = [doc[i].render(scale=200 / 72).to_pil().convert("RGB") for i in range(len(doc))]
    finally:
        doc.close()
    images = [scan_one_page(page, level, rng, scanner)[0] for page in pages]
    resolution = scan_dpi(level, rng)
    path = out / pdf.name
    images_to_pdf([at_scan_resolution(im, resolution) for im in images], path, dpi=resolution)
    return path


def _set_name(base: str, scanner: Scanner | None) -> str:
    """`base` for our scanner (the names the README's older tables use), `base-augraphy` for Augraphy's."""
    return base if scanner in (None, Scanner.OURS) else f"{base}-{scanner.value}"


def _count_pages(pdfs: list[Path]) -> int:
    import pypdfium2 as pdfium

    total = 0
    for path in pdfs:
        doc = pdfium.PdfDocument(path)
        total += len(doc)
        doc.close()
    return total


def run_bench(
    n: int = 3,
    seed: int = 90_000,
    levels: tuple[str, ...] = ("digital", "typical", "hard"),
    real_dir: Path | None = None,
    real_truth: Path | None = None,
    threads: int = 1,
    work: Path | None = None,
    scanners: tuple[Scanner, ...] = (Scanner.OURS,),
    real_levels: tuple[str, ...] = ("typical", "hard"),
) -> BenchReport:
    """Generate reports, run page understanding and the full pipeline, and score them.

    Level i of `levels` is generated from seed ``seed + i``, with every scanner of `scanners`
    (the same reports, degraded differently; born-digital once). The real reports, when given,
    are run as published and degraded by every scanner at each of `real_levels`.
    """
    from extractor.synth import generate

    cv2.setNumThreads(threads)
    options = PipelineOptions(
        ocr=RapidOcrOptions(threads=threads),
        layout=LayoutOptions(engine=RapidCdlaOptions(threads=threads)),
    )
    pipeline = Pipeline(options)
    started = time.perf_counter()
    pipeline.ocr, pipeline.layout  # loaded here so that no set's seconds include them
    load_seconds = round(time.perf_counter() - started, 2)
    work = Path(work or tempfile.mkdtemp(prefix="nianbao-bench-"))
    sets = []
    for index, level in enumerate(levels):
        for scanner in (None,) if level == "digital" else scanners:
            name = _set_name(f"synth-{level}", scanner)
            synth_dir = work / "synth" / name
            synth_dir.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            pdfs = generate(n=n, out=synth_dir, seed=seed + index, level=level, scanner=scanner or Scanner.OURS)
            made = (time.perf_counter() - started) / max(1, _count_pages(pdfs))
            sets.append(_run_set(name, pdfs, synth_dir, pipeline, work, scanner=scanner.value if scanner else "-",
                                 level=level, seconds_to_make_per_page=round(made, 3)))
    real = sorted(real_dir.glob("*.pdf")) if real_dir is not None and real_dir.is_dir() else []
    if real and real_truth is not None:
        runs = [("real-digital", None, "digital")] + [
            (_set_name(f"real-{lv}", sc), sc, lv) for sc in scanners for lv in real_levels
        ]
        for name, scanner, level in runs:
            truth_dir = work / "real-truth" / name
            truth_dir.mkdir(parents=True, exist_ok=True)
            for truth in real_truth.glob("*.truth.json"):
                data = json.loads(truth.read_text(encoding="utf-8"))
                data["level"] = name
                (truth_dir / truth.name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            made = None
            pdfs = real
            if scanner is not None:
                scanned_dir = work / "real-scanned" / name
                scanned_dir.mkdir(parents=True, exist_ok=True)
                started = time.perf_counter()
                # One generator per (report, level), the same for both scanners.
                pdfs = [
                    _degrade_real(p, scanned_dir, level, scanner, np.random.default_rng([seed, i, real_levels.index(level)]))
                    for i, p in enumerate(real)
                ]
                made = round((time.perf_counter() - started) / max(1, _count_pages(pdfs)), 3)
            sets.append(_run_set(name, pdfs, truth_dir, pipeline, work, scanner=scanner.value if scanner else "-",
                                 level=level, seconds_to_make_per_page=made))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return BenchReport(threads=threads, model_load_seconds=load_seconds, peak_rss_mb=round(peak, 1), sets=sets)


def format_bench(report: BenchReport) -> str:
    """A Markdown table (the README's figures are pasted from it)."""
    lines = [
        f"threads: {report.threads}, peak RSS: {report.peak_rss_mb:.0f} MB, models loaded in {report.model_load_seconds:.1f} s",
        "",
        "| set | scanner | level | docs | pages | sections with the right grid | numeric cells exact "
        "| all value cells exact | field accuracy | docs all right | silent errors | flag rate "
        "| agency · year · date right | s/page end to end | CPU s/page "
        "| s/table page | s/other page | scanned pages kept upright | turned 180° found | s/page to make |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def seconds(value: float | None) -> str:
        return f"{value:.2f}" if value is not None else "-"

    for s in report.sets:
        acc = f"{100 * s.field_accuracy:.2f}%" if s.field_accuracy is not None else "-"
        flag = f"{100 * s.flag_rate:.1f}%" if s.flag_rate is not None else "-"
        lines.append(
            f"| {s.name} | {s.scanner} | {s.level} | {s.documents} | {s.pages} | {s.sections_grid_right}/{s.sections} "
            f"| {s.rate(s.numeric_cells_exact, s.numeric_cells)} ({s.numeric_cells}) "
            f"| {s.rate(s.value_cells_exact, s.value_cells)} | {acc} | {s.documents_all_right} | {s.silent_errors} | {flag} "
            f"| {s.meta_right} | {s.seconds_per_page.get('end_to_end', 0):.2f} | {seconds(s.cpu_seconds_per_page)} "
            f"| {seconds(s.seconds_per_table_page)} ({s.table_pages}) | {seconds(s.seconds_per_other_page)} "
            f"| {s.scanned_kept_upright}/{s.scanned_pages} | {s.turned_found}/{s.scanned_pages} "
            f"| {seconds(s.seconds_to_make_per_page)} |"
        )
    lines += ["", "| set | " + " | ".join(_STAGES) + " |", "|---|" + "---|" * len(_STAGES)]
    for s in report.sets:
        lines.append(f"| {s.name} | " + " | ".join(f"{s.seconds_per_page.get(k, 0):.3f}" for k in _STAGES) + " |")
    return "\n".join(lines)


# Stages timed per page, in pipeline order.
_STAGES = ("render", "text_layer", "upright", "layout", "grid", "ocr_cells", "ocr", "anchor")
