"""Ingest of HTML pages, Word and OFD files: recognised by content, refused with a reason otherwise."""

from __future__ import annotations

import zipfile
from pathlib import Path

from extractor.ingest import DocumentKind, iter_inputs
from extractor.ingest.sniff import Category, sniff

_HTML = "<!-- saved from url=(0040)http://example.invalid/ -->\n<html><head><meta charset='gbk'></head><body>年报</body></html>"


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _docx_bytes(tmp_path: Path) -> bytes:
    import docx

    path = tmp_path / "made.docx"
    docx.Document().save(str(path))
    return path.read_bytes()


def test_html_is_recognised_after_a_bom_and_a_saved_from_comment():
    # Browsers' "save page" writes a comment first; some editors write a UTF-8 byte-order mark.
    assert sniff(_HTML.encode("gbk")).category is Category.STRUCTURED
    assert sniff(b"\xef\xbb\xbf<!DOCTYPE html><html>").format == "html"
    assert sniff(b"<?xml version='1.0'?>\n<html xmlns='http://www.w3.org/1999/xhtml'>").format == "html"
    assert sniff("<p>就一段文字</p>".encode()).format == "html"
    assert sniff(b"plain text, not a page").category is Category.UNSUPPORTED


def test_docx_and_ofd_are_documents_by_their_members_not_archives(tmp_path):
    # A Word file named .zip and an OFD named .dat are read as documents; a plain zip stays an archive.
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "report.zip").write_bytes(_docx_bytes(tmp_path))
    _zip(tmp_path / "in" / "report.dat", {"OFD.xml": b"<ofd:OFD/>", "Doc_0/Document.xml": b"<ofd:Document/>"})
    (tmp_path / "in" / "page.htm").write_text(_HTML, encoding="gbk")

    result = iter_inputs([tmp_path / "in"], tmp_path / "work")

    kinds = {d.id: (d.kind, d.format) for d in result.documents}
    # Folder order is by name: report.dat before report.zip.
    assert kinds == {"page": (DocumentKind.HTML, "html"), "report": (DocumentKind.OFD, "ofd"),
                     "report-2": (DocumentKind.DOCX, "docx")}
    assert result.errors == []


def test_documents_inside_an_archive_are_recognised_and_stored_with_their_suffix(tmp_path):
    # A batch zip holding a web page, a Word report and an OFD report.
    archive = _zip(tmp_path / "batch.zip", {
        "a/page.html": _HTML.encode("gbk"),
        "b.docx": _docx_bytes(tmp_path),
        "c.ofd": _zip(tmp_path / "c.ofd", {"OFD.xml": b"<ofd:OFD/>"}).read_bytes(),
    })

    result = iter_inputs([archive], tmp_path / "work")

    assert [(d.id, d.format, d.path.suffix) for d in result.documents] == [
        ("batch__a__page", "html", ".html"), ("batch__b", "docx", ".docx"), ("batch__c", "ofd", ".ofd")]


def test_doc_and_wps_files_are_refused_with_what_to_do(tmp_path):
    # An OLE2 compound file (Word 97-2003 .doc, WPS .wps) cannot be read: the reason says to convert it.
    path = tmp_path / "old.wps"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)

    result = iter_inputs([path], tmp_path / "work")

    (error,) = result.errors
    assert "convert it to .docx or PDF" in error.reason and ".wps" in error.reason


def test_other_office_zips_are_refused_by_name_not_opened_as_archives(tmp_path):
    # An Excel workbook is a zip too; it is named in the refusal instead of being unpacked.
    path = _zip(tmp_path / "table.xlsx", {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})

    result = iter_inputs([path], tmp_path / "work")

    assert [e.reason for e in result.errors] == ["unsupported file type: Excel workbook (.xlsx)"]
