"""Records of the ingest stage: limits in, documents and errors out."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

# One mebibyte, for readable defaults.
_MIB = 1024 * 1024


class IngestLimits(BaseModel):
    """Bounds that keep a hostile or broken archive from filling the disk or hanging a batch."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_member_bytes: int = Field(
        512 * _MIB, gt=0, description="largest uncompressed size of one archive member, bytes"
    )
    max_total_bytes: int = Field(
        20 * 1024 * _MIB,
        gt=0,
        description="largest uncompressed size read from one top-level archive (nested ones included), bytes",
    )
    max_ratio: float = Field(
        200.0,
        gt=1,
        description="largest uncompressed/compressed size ratio of a member (zip) or of a whole archive",
    )
    ratio_grace_bytes: int = Field(
        1 * _MIB,
        ge=0,
        description="members and archives that decompress to less than this are not held to max_ratio "
        "(tiny files compress very well and are harmless)",
    )
    max_members: int = Field(100_000, gt=0, description="most members read from one top-level archive")
    max_skip_bytes: int = Field(
        2 * 1024 * _MIB,
        ge=0,
        description="a compressed tar's members refused for their size are decompressed and thrown away, up to "
        "this many bytes in all, to reach the members after them (a few seconds); past it the archive is "
        "abandoned with the rest unread",
    )


class DocumentKind(str, Enum):
    """What a document file holds, decided from its first bytes."""

    PDF = "pdf"  # a PDF, born-digital or scanned
    IMAGE = "image"  # one page image (png, jpeg, tiff, bmp, webp)
    HTML = "html"  # a saved web page
    DOCX = "docx"  # a Word (Office Open XML) document
    OFD = "ofd"  # an OFD document (GB/T 33190)


class InputDocument(BaseModel):
    """One report file ready for the pipeline."""

    id: str = Field(description="unique within the batch; archive members are '<archive>__<member path>'")
    source: str = Field(description="where it came from, for people: 'batch.zip!2024/a.pdf'")
    path: Path = Field(description="local file to read; archive members are extracted under work_dir by hash")
    sha256: str = Field(description="hex digest of the file's bytes")
    size: int = Field(description="file size in bytes")
    kind: DocumentKind
    format: str = Field(description="file format from the content: pdf, png, jpeg, tiff, bmp, webp, html, docx, ofd")
    duplicate_of: str | None = Field(
        None, description="id of an earlier document with the same bytes; None when this is the first"
    )


class InputError(BaseModel):
    """An input (file, archive or member) that was not turned into a document, and why."""

    source: str
    reason: str


class IngestResult(BaseModel):
    documents: list[InputDocument] = Field(default_factory=list)
    errors: list[InputError] = Field(default_factory=list)

    def unique_documents(self) -> list[InputDocument]:
        """Documents to process: the first copy of every distinct file."""
        return [d for d in self.documents if d.duplicate_of is None]
