"""Every exporter writes every value it holds: the extremes of every field type, in every format.

The batch holds, for each template and each value type, the contract's bounds and the values
just outside them (which the pipeline flags but keeps), plus values no int64 or no 16-digit
double holds exactly (a store written before the bounds existed). Each file is read back by
the reader a researcher would use: pandas (CSV, JSON Lines), pyarrow (Parquet), pyreadstat (.dta).
"""

from __future__ import annotations

import io
import math

import pytest

from extractor.datamodel import DocumentInfo, DocumentResult, FieldStatus, FieldValue, ReportMeta
from extractor.export import Column, ColumnKind, ExportFormat, Frame, Layout, export_batch, stata_name, write_bytes
from extractor.output import dataset_field_ids
from extractor.settings import DbSettings
from extractor.storage import BatchDocument, Document, DocumentState, create_batch, make_engine, make_sessionmaker
from extractor.storage import upgrade_database
from extractor.storage.results import save_result
from extractor.templates import FieldDef, ValueType, get_template, list_templates


def _extremes(fdef: FieldDef) -> list[float]:
    """The values one field is exported with, one per report of the batch."""
    lo, hi = fdef.minimum, fdef.maximum
    common = [lo, hi, hi + 1, lo - 1, 2.0**53, 2.0**63, 1e19, 1e300, -1e300]
    if fdef.value_type is ValueType.DECIMAL:
        return [*common, 1e-6, 123456.789012, hi - 0.0001, 0.1 + 0.2]
    return [*common, 1.5, 2.0**53 - 1, -(2.0**63), 0.0]


N_REPORTS = 13  # len(_extremes(...)) for every type


def _expected(value: float) -> float:
    """What a reader gets back: every finite double, exactly (Stata reads its largest ones too)."""
    return value


@pytest.fixture(scope="module")
def extreme_batch(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('extremes') / 'store.db'}"
    upgrade_database(url)
    factory = make_sessionmaker(make_engine(DbSettings(url=url)))
    expected: dict[tuple[str, str], float] = {}
    with factory() as session:
        batch = create_batch(session, "extremes")
        for template_id in list_templates():
            template = get_template(template_id)
            for k in range(N_REPORTS):
                doc_id = f"{template_id}-{k:02d}"
                fields = {}
                for fid, fdef in template.fields.items():
                    value = _extremes(fdef)[k]
                    fields[fid] = FieldValue(value=value, raw=str(value), confidence=0.5, page=0,
                                             status=FieldStatus.FLAGGED, reasons=["extreme"])
                    expected[(doc_id, fid)] = value
                result = DocumentResult(
                    document=DocumentInfo(id=doc_id, source=f"x.tar!名{k}\x00.pdf", sha256=f"{doc_id:0<64}",
                                          pages=k),
                    template=template_id,
                    # Text extremes too: a long name, NUL, a character outside the BMP.
                    meta=ReportMeta(agency="某" * 3000 + "\x00🙂", year=2024, published="2025-01-20"),
                    fields=fields,
                )
                doc = Document(sha256=result.document.sha256, blob_key="inputs/x.pdf", kind="pdf", format="pdf",
                               size=1, state=DocumentState.PROCESSING.value)
                session.add(doc)
                session.flush()
                save_result(session, doc, result, finish_hash="h")
                session.add(BatchDocument(batch_id=batch.id, document_id=doc.id, item_id=doc_id,
                                          source=result.document.source))
        session.commit()
    return factory, batch.id, expected


def _read(fmt: ExportFormat, data: bytes, tmp_path, name: str):
    """The file as a pandas DataFrame, read by the format's usual reader."""
    import pandas as pd

    if fmt is ExportFormat.CSV:
        return pd.read_csv(io.BytesIO(data), dtype={"document_id": str}, keep_default_na=True, low_memory=False)
    if fmt is ExportFormat.JSONL:
        return pd.read_json(io.BytesIO(data), lines=True, dtype=False)
    if fmt is ExportFormat.PARQUET:
        import pyarrow.parquet as pq

        return pq.read_table(io.BytesIO(data)).to_pandas()
    import pyreadstat

    path = tmp_path / f"{name}.dta"
    path.write_bytes(data)
    df, _ = pyreadstat.read_dta(str(path))
    return df


def _same(got, want: float) -> bool:
    if got is None or (isinstance(got, float) and math.isnan(got)):
        return False
    return float(got) == want


@pytest.mark.parametrize("fmt", list(ExportFormat), ids=lambda f: f.value)
def test_every_extreme_of_every_type_is_written_and_read_back(extreme_batch, fmt, tmp_path):
    # 2 templates × 13 reports, each report holding one extreme in every field (bounds, just outside,
    # 2^53, 2^63, 1e19, ±1e300, fractions in counts, tiny amounts), long and surrogate-laden text.
    # Every format writes both layouts and the codebook; each value reads back equal to what is stored.
    factory, batch_id, expected = extreme_batch
    with factory() as session:
        bundle = export_batch(session, batch_id, fmt, Layout.BOTH, statuses=True)
    bundle.manifest_bytes()
    suffix = {"csv": ".csv", "parquet": ".parquet", "jsonl": ".jsonl", "dta": ".dta"}[fmt.value]

    wide = _read(fmt, bundle.files[f"dataset-wide{suffix}"], tmp_path, "wide")
    id_col = "document_id"
    assert len(wide) == 2 * N_REPORTS
    names = {fid: (stata_name(fid) if fmt is ExportFormat.DTA else fid) for fid in dataset_field_ids()}
    bad = []
    for _, row in wide.iterrows():
        doc_id = row[id_col]
        for (d, fid), want in expected.items():
            if d == doc_id and not _same(row[names[fid]], _expected(want)):
                bad.append((doc_id, fid, want, row[names[fid]]))
    assert not bad, bad[:5]
    # The text survived too (NUL dropped).
    agency = wide["agency"].iloc[0]
    assert agency.startswith("某" * 3000) and agency.endswith("🙂") and "\x00" not in agency

    long = _read(fmt, bundle.files[f"dataset-long{suffix}"], tmp_path, "long")
    assert len(long) == len(expected)
    value_col, field_col = "value", ("field_id" if fmt is not ExportFormat.DTA else stata_name("field_id"))
    got = {(r[id_col], r[field_col]): r[value_col] for _, r in long.iterrows()}
    assert all(_same(got[key], want) for key, want in expected.items())
    codebook = _read(fmt, bundle.files[f"codebook{suffix}"], tmp_path, "codebook")
    assert len(codebook) > len(dataset_field_ids())


def test_parquet_keeps_int64_counts_when_every_count_fits(extreme_batch):
    # The same writer on the contract's bounds only: counts stay int64 (the type researchers expect).
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = Frame(columns=[Column("n", ColumnKind.INT), Column("amount", ColumnKind.FLOAT)],
                  rows=[[0, 0.0], [5_000_000, 1e8], [None, None]])
    table = pq.read_table(io.BytesIO(write_bytes(frame, ExportFormat.PARQUET)))
    assert table.schema.field("n").type == pa.int64()
    assert table.column("n").to_pylist() == [0, 5_000_000, None]


@pytest.mark.parametrize("fmt", list(ExportFormat), ids=lambda f: f.value)
def test_values_no_format_can_hold_are_written_as_missing_not_a_failure(fmt, tmp_path):
    # A frame built in memory with what no double holds (a 400-digit int), NaN, ±inf and an int past int64.
    # The writer does not fail: the unholdable ones are missing, the int past int64 is a double.
    # Text with a lone surrogate (a file name that was not UTF-8) is written with an escape.
    frame = Frame(columns=[Column("id", ColumnKind.STR), Column("n", ColumnKind.INT), Column("x", ColumnKind.FLOAT)],
                  rows=[["a\udcff", 10**400, float("nan")], ["b", 2**64, float("inf")], ["c", 7, -float("inf")],
                        ["d", 10**5000, 10**400]])
    suffix = {"csv": ".csv", "parquet": ".parquet", "jsonl": ".jsonl", "dta": ".dta"}[fmt.value]
    df = _read(fmt, write_bytes(frame, fmt), tmp_path, f"odd{suffix}")
    n = [None if (v is None or (isinstance(v, float) and math.isnan(v))) else float(v) for v in df["n"]]
    assert n == [None, 2.0**64, 7.0, None]
    assert all(v is None or math.isnan(v) for v in df["x"])
    assert list(df["id"]) == ["a\\udcff", "b", "c", "d"]
