"""The one registry of the stages' engines: options type -> engine, built by kind."""

from __future__ import annotations

import subprocess
import sys
from typing import ClassVar, Literal

import pytest

from extractor.stages.cells import CellReaderOptions, CellReaderStage, HeuristicCellReader, HeuristicCellReaderOptions
from extractor.stages.grid import GridOptions, GridStage
from extractor.stages.layout import RapidCdlaEngine, RapidCdlaOptions
from extractor.stages.ocr import OcrOptions, RapidOcrOptions
from extractor.stages.ocr.rapid import RapidOcrEngine
from extractor.stages.registry import UnknownEngineError, create_instance, get_registry, known_kinds, options_from_dict


def test_every_stage_has_its_engine_under_its_options_type():
    # The engines this package ships, looked up by the type of their options.
    # Each options type maps to its engine, and the grid's is built from its options.
    registry = get_registry()
    assert registry[RapidOcrOptions] is RapidOcrEngine
    assert registry[RapidCdlaOptions] is RapidCdlaEngine
    grid = create_instance(GridOptions(gap_200=8))
    assert isinstance(grid, GridStage) and grid.options.gap_200 == 8


def test_the_cell_reader_is_built_with_the_recognisers_it_is_given():
    # The cell reading stage from its options and the two recognisers (the OCR stage's).
    # Its engine is the heuristic reader, holding those recognisers and options.
    def recognise(crops):
        return [("0", 1.0) for _ in crops]

    stage = CellReaderStage(HeuristicCellReaderOptions(min_ink=10), recognise=recognise)
    assert isinstance(stage.engine, HeuristicCellReader)
    assert stage.engine.recognise is recognise and stage.engine.recognise_text is None
    assert stage.engine.options.min_ink == 10
    assert options_from_dict(CellReaderOptions, {"kind": "heuristic", "min_ink": 10}) == stage.options


def test_an_unknown_kind_lists_the_kinds_of_its_own_stage():
    # Grid options of a kind no engine has (a subclass of the OpenCV grid's options).
    # The error names the kind and lists the grid's kinds only, not the OCR's or the layout's.
    class HoughGridOptions(GridOptions):
        kind: ClassVar[Literal["hough"]] = "hough"

    with pytest.raises(UnknownEngineError, match=r"'hough'; known kinds: opencv$"):
        create_instance(HoughGridOptions())
    assert known_kinds(OcrOptions) == ["rapidocr"]
    assert known_kinds(CellReaderOptions) == ["heuristic"]


def test_options_from_a_config_mapping_are_those_of_the_kind_asked_for():
    # A config naming the OCR engine by kind; then a kind of another stage.
    # The first gives that engine's options; the layout's kind is no OCR engine.
    assert options_from_dict(OcrOptions, {"kind": "rapidocr", "threads": 1}) == RapidOcrOptions(threads=1)
    with pytest.raises(UnknownEngineError, match="known kinds: rapidocr"):
        options_from_dict(OcrOptions, {"kind": "rapid_cdla"})


def test_listing_the_engines_loads_no_model_library():
    # A fresh interpreter that lists the registry.
    # The model libraries are imported only when an engine is built.
    code = (
        "import sys\n"
        "from extractor.stages.registry import get_registry\n"
        "get_registry()\n"
        "print(sorted(m for m in ('rapidocr', 'rapid_layout', 'onnxruntime') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
