"""Accuracy and CPU seconds per page of one checkout's pipeline on folders of reports with truth.

Runs in-process on one core (models loaded first, not timed), so two checkouts can be compared
on the same inputs in the same session, e.g. before and after a change:

    python scripts/profile_sets.py --label after SETS_ROOT ours-typical augraphy-hard ...
    PYTHONPATH=/path/to/old/checkout python -P scripts/profile_sets.py --label before SETS_ROOT ...

Each set is SETS_ROOT/<name>/ holding <id>.pdf and <id>.truth.json (`nianbao synth`, or the real
reports with their labels). CPU seconds are the process's (`time.process_time`), steady on a
shared machine where wall-clock seconds are not; stage seconds are the page records' own
(wall clock).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import cv2

from extractor.evaluation import evaluate
from extractor.ingest import iter_inputs
from extractor.output import write_document
from extractor.pipeline import Pipeline, PipelineOptions
from extractor.stages.layout import LayoutOptions, RapidCdlaOptions
from extractor.stages.ocr import RapidOcrOptions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--label", default="run")
    parser.add_argument("--out", type=Path, default=None, help="predictions go to OUT/<label>/<set>")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    pipeline = Pipeline(PipelineOptions(ocr=RapidOcrOptions(threads=1), layout=LayoutOptions(engine=RapidCdlaOptions(threads=1))))
    pipeline.ocr, pipeline.layout  # loaded before any timing
    out_root = args.out or Path(tempfile.mkdtemp(prefix="nianbao-profile-"))
    print("| run | set | docs | pages | field accuracy | silent errors | flag rate | agency · year · date | CPU s/page | "
          "upright | layout | grid | ocr_cells | ocr | anchor |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.sets:
        folder = args.root / name
        pred = out_root / args.label / name
        pred.mkdir(parents=True, exist_ok=True)
        docs = iter_inputs([folder], Path(tempfile.mkdtemp())).unique_documents()
        pages, stages = 0, defaultdict(float)
        cpu = time.process_time()
        for doc in docs:
            result, records = pipeline.extract_with_pages(doc)
            write_document(result, pred)
            pages += len(records)
            for record in records:
                for stage, seconds in (record.timings or {}).items():
                    stages[stage] += seconds
        cpu = (time.process_time() - cpu) / max(1, pages)
        r = evaluate(folder, pred)
        published = getattr(r, "published", None)  # older checkouts did not score the date
        meta = f"{r.agency.correct}/{r.agency.total} · {r.year.correct}/{r.year.total} · " + (
            f"{published.correct}/{published.total}" if published is not None else "-")
        per = {k: stages[k] / max(1, pages) for k in ("upright", "layout", "grid", "ocr_cells", "ocr", "anchor")}
        print(f"| {args.label} | {name} | {len(docs)} | {pages} | {100 * r.overall.accuracy:.2f}% | {r.overall.silent_errors} "
              f"| {100 * r.overall.flag_rate:.1f}% | {meta} | {cpu:.2f} | "
              + " | ".join(f"{v:.2f}" for v in per.values()) + " |", flush=True)


if __name__ == "__main__":
    main()
