"""One registry of the stages' engines: options type -> engine class.

Every engine's options class declares ``kind: ClassVar[Literal[...]]`` and every engine returns
that class from ``get_options_type()``. The registry maps the options types of all stages (OCR,
layout, grid, cell reading) to their engines, and :func:`create_instance` builds the engine that
a set of options asks for. Engines are chosen by the type of their options, never by a path or
a name found in a config.

The engine modules are imported on first use, not with this module: they import the stages'
code, and the stages import this module. Their model libraries (rapidocr, rapid_layout) are
imported in each engine's ``__init__``, so that listing the engines loads no model.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

_log = logging.getLogger(__name__)

_Options = TypeVar("_Options", bound=BaseModel)


class Engine(Protocol):
    """What the registry needs of an engine class: the options it is built from."""

    @classmethod
    def get_options_type(cls) -> type[BaseModel]:
        """The options class this engine is built from (its ``kind`` names the engine)."""
        ...


class UnknownEngineError(ValueError):
    """Options whose type no engine is registered for; the message lists the known kinds."""


# Options type -> engine class, for every stage; filled by `get_registry` on first use.
_ENGINES: dict[type[BaseModel], type[Any]] = {}


def _default_engines() -> tuple[type[Any], ...]:
    """The engines this package provides."""
    from extractor.stages.cells.heuristic import HeuristicCellReader
    from extractor.stages.grid.stage import GridStage
    from extractor.stages.layout.rapid_cdla import RapidCdlaEngine
    from extractor.stages.ocr.rapid import RapidOcrEngine

    return (RapidOcrEngine, RapidCdlaEngine, GridStage, HeuristicCellReader)


def get_registry() -> Mapping[type[BaseModel], type[Any]]:
    """Options type -> engine class for every engine of every stage (read-only)."""
    if not _ENGINES:
        for engine in _default_engines():
            _ENGINES[engine.get_options_type()] = engine
    return MappingProxyType(_ENGINES)


def known_kinds(options_type: type[BaseModel]) -> list[str]:
    """The kinds of the engines of `options_type`'s stage, sorted.

    A stage's engines are those whose options share a base class with `options_type` below
    pydantic's ``BaseModel`` (``RapidOcrOptions`` and a new ``OcrOptions`` subclass share
    ``OcrOptions``); options of no known stage get every kind.
    """
    stage = _option_bases(options_type)
    registry = get_registry()
    kinds = [t.kind for t in registry if stage & _option_bases(t)] or [t.kind for t in registry]
    return sorted(kinds)


def _option_bases(options_type: type[BaseModel]) -> set[type]:
    return {b for b in options_type.__mro__ if issubclass(b, BaseModel) and b is not BaseModel}


def create_instance(options: BaseModel, **deps: Any) -> Any:
    """Build the engine that `options` asks for (chosen by its type, i.e. its ``kind``).

    Args:
        options: an engine's options.
        **deps: what the engine is given besides its options (the cell reader's recognisers).

    Raises:
        UnknownEngineError: no engine is registered for this options type; the message names
            its kind and lists the kinds of its stage.
    """
    engine = get_registry().get(type(options))
    if engine is None:
        raise UnknownEngineError(_unknown(type(options), getattr(type(options), "kind", type(options).__name__)))
    _log.debug("building the %s engine %s", type(options).kind, engine.__name__)
    return engine(options, **deps)


def options_from_dict(stage: type[_Options], data: Mapping[str, Any]) -> _Options:
    """Options of one of `stage`'s engines from a config mapping with a ``kind`` key, e.g.
    ``options_from_dict(OcrOptions, {"kind": "rapidocr", "threads": 1})``.

    Raises:
        UnknownEngineError: no engine of `stage` has this kind; the message lists those that do.
        pydantic.ValidationError: a setting the engine's options do not have, or a bad value.
    """
    settings = dict(data)
    kind = settings.pop("kind", None)
    for options_type in get_registry():
        if issubclass(options_type, stage) and options_type.kind == kind:
            return options_type(**settings)
    raise UnknownEngineError(_unknown(stage, kind))


def _unknown(options_type: type[BaseModel], kind: object) -> str:
    return f"unknown engine kind {kind!r}; known kinds: {', '.join(known_kinds(options_type))}"
