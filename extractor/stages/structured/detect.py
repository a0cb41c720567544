"""Recognise HTML pages, Word (DOCX) and OFD files by their content, never by their extension.

Ingest and the page source both ask here, so a file is read the way it was accepted.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

# Tags a saved web page starts with, after any byte-order mark, XML declaration, comments
# ("<!-- saved from url=… -->") and whitespace.
_HTML_START = re.compile(rb"^<(?:!doctype\s+html|html|head|meta|title|body|table|div|p|h1)[\s>/]", re.IGNORECASE)
# What may come before the first tag of an HTML page.
_PREAMBLE = re.compile(rb"^(?:\s+|<!--.*?-->|<\?xml[^>]*\?>)", re.DOTALL)
# Byte-order marks: UTF-8, UTF-16 LE and BE.
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
# Zip members that tell what an office-format zip holds.
_OOXML_PARTS = (
    ("word/document.xml", "docx"),
    ("xl/workbook.xml", "Excel workbook (.xlsx)"),
    ("ppt/presentation.xml", "PowerPoint presentation (.pptx)"),
)
# Mime types of OpenDocument files (the first, uncompressed member 'mimetype').
_ODF = {
    b"application/vnd.oasis.opendocument.text": "OpenDocument text (.odt)",
    b"application/vnd.oasis.opendocument.spreadsheet": "OpenDocument spreadsheet (.ods)",
}


def looks_like_html(head: bytes) -> bool:
    """Whether the first bytes of a file are an HTML page (any ASCII-compatible encoding or UTF-16)."""
    for bom in _BOMS:
        if head.startswith(bom):
            if bom != _BOMS[0]:
                codec = "utf-16-le" if bom == b"\xff\xfe" else "utf-16-be"
                head = head[2:].decode(codec, errors="ignore").encode("ascii", errors="ignore")
            else:
                head = head[3:]
            break
    while True:
        match = _PREAMBLE.match(head)
        if not match or not match.group(0):
            break
        head = head[match.end():]
    return bool(_HTML_START.match(head))


def zip_document_format(path: Path) -> str | None:
    """What a zip file is, when it is a document rather than an archive of files.

    Returns:
        ``"docx"`` or ``"ofd"`` for the formats the pipeline reads, a description such as
        ``"Excel workbook (.xlsx)"`` for other document formats, None for an ordinary archive
        (or a zip that cannot be opened: the archive reader reports why).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = {n.replace("\\", "/").lstrip("/").lower() for n in archive.namelist()}
            mimetype = b""
            if "mimetype" in archive.namelist():
                with archive.open("mimetype") as member:
                    mimetype = member.read(80).strip()  # never more: a hostile member may be huge
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, ValueError, EOFError):
        return None
    if "[content_types].xml" in names:
        for part, name in _OOXML_PARTS:
            if part in names:
                return name
    if "ofd.xml" in names:
        return "ofd"
    return _ODF.get(mimetype)
