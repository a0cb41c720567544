"""Ingest: unpack inputs safely, hash and dedupe them, one InputDocument per report file."""

from extractor.ingest.collect import iter_inputs
from extractor.ingest.models import (
    DocumentKind,
    IngestLimits,
    IngestResult,
    InputDocument,
    InputError,
)

__all__ = [
    "DocumentKind",
    "IngestLimits",
    "IngestResult",
    "InputDocument",
    "InputError",
    "iter_inputs",
]
