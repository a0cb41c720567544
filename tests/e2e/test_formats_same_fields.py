"""The same report as a born-digital PDF, an HTML page, a Word file and an OFD file gives the same fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.ingest import iter_inputs
from extractor.pipeline import Pipeline
from extractor.synth import SynthTruth, render_document

# Generated reports: (seed, template); the two official formats, the second printing its
# （六）其他处理 as one row, as about one report in eight does.
_REPORTS = [(4242, "gov-2021", {"other_single_row": True}), (4344, "gov-2019", {})]


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline()


@pytest.mark.ml
@pytest.mark.parametrize(("seed", "template", "style"), _REPORTS)
def test_pdf_html_docx_and_ofd_of_one_report_give_the_same_fields(tmp_path, pipeline, seed, template, style):
    # One report rendered four ways (the HTML inside a site's frame, in GBK), each extracted as a user would.
    # Every field's value, the template and the metadata agree across formats and with the truth.
    paths = {
        level: render_document(f"r-{level}", tmp_path / level, seed, template, level, style_overrides=style,
                               html_encoding="gbk")
        for level in ("digital", "html", "docx", "ofd")
    }
    truth = SynthTruth.load(tmp_path / "digital" / "r-digital.truth.json")
    results = {}
    for level, path in paths.items():
        (doc,) = iter_inputs([path], tmp_path / "work" / level).documents
        results[level] = pipeline.extract(doc)
        assert results[level].document.format == {"digital": "pdf"}.get(level, level)

    values = {level: {fid: f.value for fid, f in r.fields.items()} for level, r in results.items()}
    assert values["html"] == values["digital"] == values["docx"] == values["ofd"]
    expected = {fid: f.value for fid, f in truth.fields.items() if f.value is not None}
    assert {fid: v for fid, v in values["html"].items() if fid in expected} == expected
    metas = {level: (r.template, r.meta) for level, r in results.items()}
    assert len({(t, m.model_dump_json()) for t, m in metas.values()}) == 1
    assert metas["html"][1].agency == truth.meta.agency and metas["html"][1].published == truth.meta.published
