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
# Whole numbers a Parquet int64 column holds.
_INT64 = (-(2**63), 2**63 - 1)
# Largest double Stata reads as a number (larger ones are its missing-value codes).
_STATA_MAX_DOUBLE = 8.988465674311579e307
# Whole numbers a Stata long (int32) holds; larger ones are its missing-value codes.
_STATA_LONG = (-2_147_483_647, 2_147_483_620)
# Longest variable label of a .dta 118/119 file, characters.
_STATA_LABEL_MAX = 80
# Byte-order mark that makes Excel read a CSV as UTF-8 (without it, Excel on Chinese Windows reads GBK).
UTF8_BOM = b"\xef\xbb\xbf"


class ExportFormat(str, Enum):
    """File formats of an export."""

    CSV = "csv"  # UTF-8 without BOM (with one for Excel: write_bytes(..., excel=True)); empty cell = missing
    PARQUET = "parquet"  # typed columns (string, int64, double), zstd-compressed; see exportable()
    JSONL = "jsonl"  # one JSON object per row, keys in column order, null = missing
    DTA = "dta"  # Stata 15 (dta 119, UTF-8); short names as in the codebook's stata_name, Chinese variable labels


# File name suffix by format.
SUFFIX = {ExportFormat.CSV: ".csv", ExportFormat.PARQUET: ".parquet", ExportFormat.JSONL: ".jsonl",
          ExportFormat.DTA: ".dta"}


def write_bytes(frame: Frame, fmt: ExportFormat, excel: bool = False) -> bytes:
    """The frame encoded in `fmt`; no value makes a writer fail (see :func:`exportable`).

    Args:
        excel: CSV only: start with a UTF-8 byte-order mark and end lines with CRLF, as Excel
            expects (it then opens Chinese text correctly by double-click).
    """
    if fmt is ExportFormat.CSV:
        return _csv(exportable(frame), excel)
    return {
        ExportFormat.PARQUET: _parquet,
        ExportFormat.JSONL: _jsonl,
        ExportFormat.DTA: _dta,
    }[fmt](exportable(frame))


def exportable(frame: Frame) -> Frame:
    """A copy of `frame` whose every value each format can write and read back.

    The field contract bounds what the pipeline reads and what a reviewer types, but an export
    must not lose a whole dataset to one value stored before those bounds, or by hand:

    - a count that is whole and fits int64 stays an int; one that does not (a fraction, beyond
      int64) is kept as a double, and the Parquet column of such a count is written as double
      (the codebook's type is then a double for that export; nothing is rounded or dropped);
    - a number no double holds (a Python int past 1.8e308) and non-finite ones (NaN, ±inf, which
      CSV, JSON and Stata cannot tell from missing or garbage) are written as missing, with a
      warning naming the column (and in .dta a double past Stata's largest, 8.99e307, is missing:
      Stata reads those bit patterns as its missing codes);
    - text is made encodable: lone surrogates (from a file name that was not UTF-8) become
      ``\\udcxx`` escapes and NUL characters are dropped (Stata and C readers stop at one).
    """
    rows = [list(row) for row in frame.rows]
    for i, col in enumerate(frame.columns):
        for row in rows:
            value = row[i]
            if value is None:
                continue
            if col.kind is ColumnKind.STR:
                row[i] = _text(value)
                continue
            number = _number(value, col.kind)
            if number is None:
                _log.warning("column %s: %r cannot be written as a number; written as missing", col.name,
                             value if not isinstance(value, int) else f"an int of {value.bit_length()} bits")
            row[i] = number
    return Frame(columns=list(frame.columns), rows=rows)


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _number(value: Any, kind: ColumnKind) -> int | float | None:
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        if kind is ColumnKind.INT and _INT64[0] <= value <= _INT64[1]:
            return value
        try:
            return float(value)
        except OverflowError:
            return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(number):
        return None
    if kind is ColumnKind.INT and number.is_integer() and _INT64[0] <= number < 2.0**63:
        return int(number)
    return number


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # Whole doubles below 2**53 print as integers; larger ones keep their exponent (their
        # trailing digits are not known).
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    return str(value)


def _csv(frame: Frame, excel: bool = False) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n" if excel else "\n")
    writer.writerow([c.name for c in frame.columns])
    for row in frame.rows:
        writer.writerow([_cell(v) for v in row])
    return (UTF8_BOM if excel else b"") + out.getvalue().encode("utf-8")


def _jsonl(frame: Frame) -> bytes:
    names = [c.name for c in frame.columns]
    lines = [json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False, allow_nan=False)
             for row in frame.rows]
    return ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")


def _parquet(frame: Frame) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {ColumnKind.STR: pa.string(), ColumnKind.INT: pa.int64(), ColumnKind.FLOAT: pa.float64()}
    arrays = []
    for i, col in enumerate(frame.columns):
        values = [row[i] for row in frame.rows]
        kind = types[col.kind]
        if col.kind is ColumnKind.INT and any(isinstance(v, float) for v in values):
            # A count outside int64 or not whole (see exportable): the column is written as double
            # (every value as a double: pyarrow refuses an int with no exact double).
            kind = pa.float64()
            values = [None if v is None else float(v) for v in values]
        arrays.append(pa.array(values, type=kind))
    table = pa.Table.from_arrays(arrays, names=[c.name for c in frame.columns])
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def _dta(frame: Frame) -> bytes:
    import pandas as pd
    import pyreadstat

    from extractor.export.codebook import column_labels

    names = [stata_name(c.name) for c in frame.columns]
    if len(set(names)) != len(names):
        raise ValueError("two columns map to the same Stata name")
    data = {}
    for i, (col, name) in enumerate(zip(frame.columns, names, strict=True)):
        values = [row[i] for row in frame.rows]
        if col.kind is ColumnKind.STR:
            data[name] = pd.Series(["" if v is None else v for v in values], dtype=object)
        elif col.kind is ColumnKind.INT and all(v is None or (float(v).is_integer()
                                                              and _STATA_LONG[0] <= v <= _STATA_LONG[1])
                                                for v in values):
            # Counts are Stata longs ("." for missing), so `list` and `tab` show 3, not 3.0.
            data[name] = pd.Series([None if v is None else int(v) for v in values], dtype="Int32")
        else:
            # A count past a Stata long, a fraction, or an amount: a double ("." for missing).
            data[name] = pd.Series([float("nan") if v is None or abs(float(v)) > _STATA_MAX_DOUBLE else float(v)
                                    for v in values], dtype="float64")
    df = pd.DataFrame(data, columns=names)
    # Chinese variable labels (dta 119 is UTF-8); a column without one keeps its own name.
    known = column_labels()
    labels = [known.get(c.name, c.name)[:_STATA_LABEL_MAX] for c in frame.columns]
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
