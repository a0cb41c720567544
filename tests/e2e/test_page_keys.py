"""Stored pages are keyed by the code and models that read them, not only by file and options."""

from extractor import pipeline
from extractor.pipeline import PipelineOptions, pipeline_fingerprint
from extractor.storage.results import page_input_hash


def test_a_page_read_by_other_code_or_options_has_another_key(monkeypatch):
    # A worker on new code must read a page again instead of reusing one read by old code.
    # The key changes with the page code's version and with the options; it names the models.
    options = PipelineOptions()
    before = pipeline_fingerprint(options)
    assert pipeline_fingerprint(PipelineOptions()) == before
    assert "PP-OCRv6_rec_small.onnx:" in before and "layout_cdla.onnx:" in before
    monkeypatch.setattr(pipeline, "PAGE_CODE_VERSION", pipeline.PAGE_CODE_VERSION + 1)
    after = pipeline_fingerprint(options)
    other = pipeline_fingerprint(PipelineOptions(dpi=300))
    keys = {page_input_hash("ab" * 32, 0, f) for f in (before, after, other)}
    assert len(keys) == 3
