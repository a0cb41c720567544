"""Write a Frame as CSV, Parquet, JSON Lines or Stata .dta — the same bytes for the same data.

Reproducibility: rows and columns come in a fixed order; numbers are written by Python's
shortest round-trip repr; Parquet is written without a timestamp; the .dta header's
timestamp, which readstat takes from the clock, is set to a fixed value.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
import tempfile
from enum import Enum
from pathlib import Path
from typing import Any

from extractor.export.frame import ColumnKind, Frame, stata_name

_log = logging.getLogger(__name__)

# The timestamp written into every .dta header ("dd Mon yyyy hh:mm", 17 characters).
_DTA_TIMESTAMP = b" 1 Jan 2000 00:00"


class ExportFormat(str, Enum):
    """File formats of an export."""

    CSV = "csv"  # UTF-8 with BOM-less header row; empty cell = missing
    PARQUET = "parquet"  # typed columns (string, int64, double), zstd-compressed
    JSONL = "jsonl"  # one JSON object per row, keys in column order, null = missing
    DTA = "dta"  # Stata 15 (dta 119); long names mapped as in the codebook's stata_name


# File name suffix by format.
SUFFIX = {ExportFormat.CSV: ".csv", ExportFormat.PARQUET: ".parquet", ExportFormat.JSONL: ".jsonl",
          ExportFormat.DTA: ".dta"}


def write_bytes(frame: Frame, fmt: ExportFormat) -> bytes:
    """The frame encoded in `fmt`."""
    return {
        ExportFormat.CSV: _csv,
        ExportFormat.PARQUET: _parquet,
        ExportFormat.JSONL: _jsonl,
        ExportFormat.DTA: _dta,
    }[fmt](frame)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _csv(frame: Frame) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.name for c in frame.columns])
    for row in frame.rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue().encode("utf-8")


def _jsonl(frame: Frame) -> bytes:
    names = [c.name for c in frame.columns]
    lines = [json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False) for row in frame.rows]
    return ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")


def _parquet(frame: Frame) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {ColumnKind.STR: pa.string(), ColumnKind.INT: pa.int64(), ColumnKind.FLOAT: pa.float64()}
    arrays = [
        pa.array([row[i] for row in frame.rows], type=types[col.kind]) for i, col in enumerate(frame.columns)
    ]
    table = pa.Table.from_arrays(arrays, names=[c.name for c in frame.columns])
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def _dta(frame: Frame) -> bytes:
    import pandas as pd
    import pyreadstat

    names = [stata_name(c.name) for c in frame.columns]
    if len(set(names)) != len(names):
        raise ValueError("two columns map to the same Stata name")
    data = {}
    for i, (col, name) in enumerate(zip(frame.columns, names, strict=True)):
        values = [row[i] for row in frame.rows]
        if col.kind is ColumnKind.STR:
            data[name] = pd.Series(["" if v is None else v for v in values], dtype=object)
        else:
            # Stata has no nullable integer: counts go out as doubles with "." for missing.
            data[name] = pd.Series([float("nan") if v is None else float(v) for v in values], dtype="float64")
    df = pd.DataFrame(data, columns=names)
    labels = [c.name[:80] for c in frame.columns]
    fd, tmp = tempfile.mkstemp(suffix=".dta")
    os.close(fd)
    try:
        pyreadstat.write_dta(df, tmp, column_labels=labels, version=15)
        raw = Path(tmp).read_bytes()
    finally:
        os.unlink(tmp)
    return _fix_dta_timestamp(raw)


def _fix_dta_timestamp(raw: bytes) -> bytes:
    """Replace the clock time in a dta 118/119 header by :data:`_DTA_TIMESTAMP`."""
    tag = b"<timestamp>"
    at = raw.find(tag, 0, 4096)
    if at < 0:
        raise ValueError("no <timestamp> in the .dta header")
    length = raw[at + len(tag)]
    start = at + len(tag) + 1
    if length != len(_DTA_TIMESTAMP):
        # An empty timestamp (length 0) is already reproducible.
        return raw
    return raw[:start] + _DTA_TIMESTAMP + raw[start + length:]
