"""Export of a batch: layouts, formats, codebook, reproducibility (SQLite store, no servers)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from extractor.datamodel import DocumentInfo, DocumentResult, FieldStatus, FieldValue, ReportMeta
from extractor.export import ExportFormat, Layout, Selection, codebook, export_batch, stata_name
from extractor.output import dataset_field_ids
from extractor.settings import DbSettings
from extractor.storage import (
    BatchDocument,
    Document,
    DocumentState,
    create_batch,
    make_engine,
    make_sessionmaker,
    upgrade_database,
)
from extractor.storage.results import save_result
from extractor.templates import get_template


def _result(doc_id: str, values: dict[str, float], flagged: tuple[str, ...] = ()) -> DocumentResult:
    return DocumentResult(
        document=DocumentInfo(id=doc_id, source=f"a.zip!{doc_id}.pdf", sha256=doc_id * 4, pages=3),
        template="gov-2021",
        meta=ReportMeta(agency="某市人民政府", year=2024, published="2025-01-20"),
        fields={
            fid: FieldValue(value=v, raw=str(v), confidence=0.9, page=1, bbox=[1, 2, 3, 4],
                            status=FieldStatus.FLAGGED if fid in flagged else FieldStatus.AUTO)
            for fid, v in values.items()
        },
    )


@pytest.fixture
def store_with_batch(tmp_path):
    """A SQLite store with one batch of two done reports (the second with a flagged field)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade_database(url)
    factory = make_sessionmaker(make_engine(DbSettings(url=url)))
    fields = list(get_template("gov-2021").fields)
    amount = next(f for f, d in get_template("gov-2021").fields.items() if d.value_type.value == "decimal")
    with factory() as session:
        batch = create_batch(session, "a.zip")
        for doc_id, flagged in (("r1", ()), ("r2", (fields[0],))):
            result = _result(doc_id, {fields[0]: 3, fields[1]: 0, amount: 12.5}, flagged)
            doc = Document(sha256=result.document.sha256, blob_key="inputs/x.pdf", kind="pdf", format="pdf", size=1,
                           state=DocumentState.PROCESSING.value)
            session.add(doc)
            session.flush()
            save_result(session, doc, result, finish_hash="h")
            session.add(BatchDocument(batch_id=batch.id, document_id=doc.id, item_id=doc_id, source=f"a.zip!{doc_id}"))
        session.commit()
        yield factory, batch.id, fields, amount


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_same_data_gives_same_bytes_in_every_format(store_with_batch):
    # A batch is exported twice in each format, both layouts, with status columns.
    # The zips and the manifest hash are identical, and the manifest hashes each file.
    factory, batch_id, _, _ = store_with_batch
    import hashlib

    for fmt in ExportFormat:
        with factory() as session:
            first = export_batch(session, batch_id, fmt, Layout.BOTH, statuses=True)
        with factory() as session:
            second = export_batch(session, batch_id, fmt, Layout.BOTH, statuses=True)
        assert first.zip_bytes() == second.zip_bytes(), fmt
        for entry in first.manifest["files"]:
            assert hashlib.sha256(first.files[entry["name"]]).hexdigest() == entry["sha256"]


def test_wide_csv_has_meta_columns_then_every_field_then_statuses(store_with_batch):
    # A wide CSV export with status columns.
    # Columns are the meta columns, all field ids, then one status per field; values are typed.
    factory, batch_id, fields, amount = store_with_batch
    with factory() as session:
        bundle = export_batch(session, batch_id, ExportFormat.CSV, Layout.WIDE, statuses=True)
    data = bundle.files["dataset-wide.csv"]
    header = data.decode().splitlines()[0].split(",")
    ids = dataset_field_ids()
    assert header[:2] == ["document_id", "source"]
    assert header[-2 * len(ids):] == ids + [f"{f}.status" for f in ids]
    rows = _csv_rows(data)
    assert [r["document_id"] for r in rows] == ["r1", "r2"]
    assert rows[0][fields[0]] == "3" and rows[0][amount] == "12.5" and rows[0][fields[2]] == ""
    assert rows[1][f"{fields[0]}.status"] == "flagged" and rows[1]["flagged"] == "1"


def test_long_layout_has_one_row_per_report_and_field(store_with_batch):
    # A long JSON Lines export of two reports with three fields each.
    # Six rows with value, status, confidence and the 1-based page.
    factory, batch_id, fields, _ = store_with_batch
    with factory() as session:
        bundle = export_batch(session, batch_id, ExportFormat.JSONL, Layout.LONG)
    rows = [json.loads(line) for line in bundle.files["dataset-long.jsonl"].decode().splitlines()]
    assert len(rows) == 6
    first = next(r for r in rows if r["document_id"] == "r1" and r["field_id"] == fields[0])
    assert first == {"document_id": "r1", "field_id": fields[0], "value": 3.0, "raw": "3", "status": "auto",
                     "confidence": 0.9, "page": 2}


def test_reviewed_only_leaves_out_reports_with_flagged_fields(store_with_batch):
    # r2 still has a flagged field; r1 has none.
    # Exporting only fully reviewed reports keeps r1 alone.
    factory, batch_id, _, _ = store_with_batch
    with factory() as session:
        bundle = export_batch(session, batch_id, ExportFormat.CSV, Layout.WIDE, selection=Selection.REVIEWED)
    assert [r["document_id"] for r in _csv_rows(bundle.files["dataset-wide.csv"])] == ["r1"]
    assert bundle.manifest["reports"] == 1 and bundle.manifest["selection"] == "reviewed"


def test_parquet_and_dta_keep_values_and_types(store_with_batch, tmp_path):
    # The wide dataset as Parquet and as Stata .dta.
    # Parquet keeps int64 counts and float amounts; .dta holds the same numbers under Stata names.
    import pyarrow.parquet as pq
    import pyreadstat

    factory, batch_id, fields, amount = store_with_batch
    with factory() as session:
        parquet = export_batch(session, batch_id, ExportFormat.PARQUET, Layout.WIDE).files["dataset-wide.parquet"]
        dta = export_batch(session, batch_id, ExportFormat.DTA, Layout.WIDE).files["dataset-wide.dta"]
    table = pq.read_table(io.BytesIO(parquet))
    assert str(table.schema.field(fields[0]).type) == "int64"
    assert str(table.schema.field(amount).type) == "double"
    assert table.column(fields[0]).to_pylist() == [3, 3]
    (tmp_path / "w.dta").write_bytes(dta)
    df, meta = pyreadstat.read_dta(str(tmp_path / "w.dta"))
    assert df[stata_name(fields[0])].tolist() == [3.0, 3.0]
    assert df[stata_name(amount)].tolist() == [12.5, 12.5]
    # Chinese variable labels (UTF-8, dta 118+), counts as Stata longs, amounts as doubles.
    definition = get_template("gov-2021").fields[fields[0]]
    assert meta.column_names_to_labels[stata_name(fields[0])] == definition.label
    assert meta.column_names_to_labels["agency"] == "机关名称"
    assert meta.readstat_variable_types[stata_name(fields[0])] == "int32"
    assert meta.readstat_variable_types[stata_name(amount)] == "double"
    assert raw_dta_version(dta) >= 118


def raw_dta_version(data: bytes) -> int:
    """The release number in a .dta 117+ header (<release>119</release>)."""
    match = re.search(rb"<release>(\d+)</release>", data[:200])
    return int(match.group(1))


def test_excel_csv_starts_with_a_bom_and_reads_back_in_chinese(store_with_batch):
    # The wide dataset exported for Excel and plainly.
    # The Excel one starts with the UTF-8 byte-order mark and CRLF lines and decodes (utf-8-sig)
    # to the same table as the plain one, Chinese text included; the plain one has no BOM.
    factory, batch_id, _, _ = store_with_batch
    with factory() as session:
        excel = export_batch(session, batch_id, ExportFormat.CSV, Layout.WIDE, excel=True)
        plain = export_batch(session, batch_id, ExportFormat.CSV, Layout.WIDE)
    data, book = excel.files["dataset-wide.csv"], excel.files["codebook.csv"]
    assert data.startswith(b"\xef\xbb\xbf") and book.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data and not plain.files["dataset-wide.csv"].startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == list(csv.reader(io.StringIO(plain.files["dataset-wide.csv"].decode("utf-8"))))
    assert "机关名称" in book.decode("utf-8-sig") and excel.manifest["excel"] is True


def test_stata_names_are_readable_without_hashes():
    # Every field id of both templates and its status column, mapped to a Stata name.
    # None is cut with a hash; each is its parts shortened by the documented map.
    from extractor.export.frame import STATA_ABBREVIATIONS

    for template_id in ("gov-2021", "gov-2019"):
        for fid in get_template(template_id).fields:
            for name in (fid, f"{fid}.status"):
                expected = "_".join(STATA_ABBREVIATIONS.get(p, p) for p in name.split("."))
                assert stata_name(name) == expected and len(expected) <= 32
    assert stata_name("apply.denied.state_secret.natural_person") == "req_den_secret_person"


def test_codebook_lists_every_field_of_every_template_with_labels():
    # The codebook, built from the templates.
    # Every field id of each template appears with its Chinese label, type, unit and template.
    book = codebook()
    names = [c.name for c in book.columns]
    rows = [dict(zip(names, r, strict=True)) for r in book.rows]
    for template_id in ("gov-2021", "gov-2019"):
        template = get_template(template_id)
        listed = {r["variable"]: r for r in rows if r["template"] == template_id}
        assert set(listed) == set(template.fields)
        some_id, some = next(iter(template.fields.items()))
        assert listed[some_id]["label_zh"] == some.label and listed[some_id]["unit"] == some.unit


def test_stata_names_are_valid_and_unique_for_every_column():
    # Every meta column and field id mapped to a Stata name.
    # Each name is a valid Stata identifier of at most 32 characters, and no two collide.
    variables = {r[0] for r in codebook().rows if not r[0].startswith("<")}
    names = {stata_name(v) for v in variables}
    assert len(names) == len(variables)
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,31}", n) for n in names)
