"""Tell file types apart by their first bytes, never by their extension."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from extractor.stages.structured.detect import looks_like_html, zip_document_format

# Bytes to read before deciding: the PDF header may sit anywhere in the first 1024 bytes and
# the tar magic is at offset 257.
HEAD_BYTES = 1024

# (magic prefix, format name) of the page-image formats the pipeline reads.
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"BM", "bmp"),
)
# Word 97-2003 and WPS files are OLE2 compound files; no maintained converter ships as a Python
# package (doc2docx drives an installed Microsoft Word), so they are refused with what to do.
OLE2_DESCRIPTION = (
    "OLE2 document (.doc/.wps/.xls, Word 97-2003 or WPS): convert it to .docx or PDF first "
    "(Word or WPS: Save As; LibreOffice: soffice --headless --convert-to docx FILE)"
)
# (magic prefix, description) of formats we recognise but cannot read, so the error names them.
_UNSUPPORTED_MAGIC = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", OLE2_DESCRIPTION),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"{\\rtf", "RTF document"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000 image"),
)
# Compression wrappers that tarfile can open ("r:*").
_COMPRESSED_TAR_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
)


class Category(str, Enum):
    """What to do with a file."""

    PDF = "pdf"  # a document
    IMAGE = "image"  # a document
    STRUCTURED = "structured"  # a document with its own structure: HTML page, DOCX, OFD
    ZIP = "zip"  # an archive to open
    TAR = "tar"  # an archive to open (plain or compressed)
    UNSUPPORTED = "unsupported"  # refused; `Sniffed.format` says what it looks like


@dataclass(frozen=True)
class Sniffed:
    category: Category
    # short format name for documents ("pdf", "png", "html", "docx", "ofd"), compression for tars ("gzip", "none"),
    # a human description for unsupported files ("HTML page")
    format: str


def sniff(head: bytes) -> Sniffed:
    """Classify a file from its first :data:`HEAD_BYTES` bytes.

    Args:
        head: the beginning of the file (fewer bytes when the file is shorter).

    Returns:
        The category and format name; unknown content is ``UNSUPPORTED`` with a description.
    """
    if head.startswith(b"%PDF-"):
        return Sniffed(Category.PDF, "pdf")
    if looks_like_html(head):
        return Sniffed(Category.STRUCTURED, "html")
    for magic, name in _IMAGE_MAGIC:
        if head.startswith(magic):
            return Sniffed(Category.IMAGE, name)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return Sniffed(Category.IMAGE, "webp")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return Sniffed(Category.ZIP, "zip")
    if head[257:262] == b"ustar":
        return Sniffed(Category.TAR, "none")
    for magic, name in _COMPRESSED_TAR_MAGIC:
        if head.startswith(magic):
            return Sniffed(Category.TAR, name)
    if b"%PDF-" in head[:HEAD_BYTES]:
        # Readers accept a PDF header anywhere in the first 1024 bytes; checked after the
        # archive magics because a tar's first member may itself be a PDF.
        return Sniffed(Category.PDF, "pdf")
    for magic, description in _UNSUPPORTED_MAGIC:
        if head.startswith(magic):
            return Sniffed(Category.UNSUPPORTED, description)
    return Sniffed(Category.UNSUPPORTED, _describe_unknown(head))


def refine_zip(path: Path, sniffed: Sniffed) -> Sniffed:
    """A zip told apart from its members: a Word or OFD document, another document format, or an archive.

    Word (.docx), OFD, Excel and OpenDocument files are zips; only their members say which.
    """
    if sniffed.category is not Category.ZIP:
        return sniffed
    found = zip_document_format(path)
    if found is None:
        return sniffed
    if found in ("docx", "ofd"):
        return Sniffed(Category.STRUCTURED, found)
    return Sniffed(Category.UNSUPPORTED, found)


def _describe_unknown(head: bytes) -> str:
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html")):
        return "HTML page"
    if stripped.startswith(b"<?xml"):
        return "XML file"
    text = _decode_text(head)
    if text is not None and all(c.isprintable() or c in "\r\n\t\f" for c in text):
        return "text file"
    return f"unknown binary data (starts {head[:8].hex(' ')})"


def _decode_text(head: bytes) -> str | None:
    """The head as text (UTF-8 or GB18030, the encodings of Chinese text files), or None."""
    for encoding in ("utf-8", "gb18030"):
        # A multi-byte character cut at the end of the head is still text.
        for end in (len(head), max(0, len(head) - 3)):
            try:
                return head[:end].decode(encoding)
            except UnicodeDecodeError:
                continue
    return None
