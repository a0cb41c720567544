"""The per-document output contract (`DIR/<doc-id>.json`)."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, Field


class FieldStatus(str, Enum):
    """How far a field value can be trusted."""

    AUTO = "auto"  # read by the machine, nothing doubtful about it
    FLAGGED = "flagged"  # sent to the review queue
    DERIVED = "derived"  # computed from other fields (e.g. a blank printed total)
    REVIEWED = "reviewed"  # confirmed or corrected by a person


class FieldValue(BaseModel):
    value: int | float | None = Field(description="the number for the dataset; None when unreadable")
    raw: str | None = Field(None, description="the text as printed ('' for a blank cell)")
    confidence: float | None = Field(None, description="calibrated probability that value is right")
    status: FieldStatus = FieldStatus.AUTO
    page: int | None = Field(None, description="0-based page the value is printed on")
    bbox: list[float] | None = Field(None, description="[x1, y1, x2, y2] in page pixels at `dpi`")
    reasons: list[str] = Field(default_factory=list, description="why the field is flagged or derived")
    margin: float | None = Field(
        None,
        description="scanned value cells: nats by which the chosen reading, taken jointly with the accounting "
        "identities, beats the best assignment with another value for this field (capped); None elsewhere",
    )
    suggestion: int | float | None = Field(
        None,
        description="the value the accounting identities imply when this one cell alone explains a broken "
        "identity; `value` keeps what is printed (a suggestion is never applied without review)",
    )


class CheckResult(BaseModel):
    identity: str
    ok: bool
    fields: list[str]
    detail: str = ""


class DocumentInfo(BaseModel):
    id: str
    source: str
    sha256: str
    format: str | None = Field(
        None,
        description="file format read from its content: pdf, png, jpeg, tiff, bmp, webp, html, docx or ofd "
        "(None in results written before formats were recorded)",
    )
    pages: int | None = None
    dpi: float | None = Field(None, description="resolution the page/bbox coordinates refer to")
    pipeline: str | None = Field(
        None, description="short hash of the code, models and options that read it (None in older results)"
    )


class ReportMeta(BaseModel):
    agency: str | None = None
    year: int | None = None
    published: str | None = Field(None, description="ISO date of the signature")


class DocumentResult(BaseModel):
    document: DocumentInfo
    template: str | None = None
    meta: ReportMeta = Field(default_factory=ReportMeta)
    fields: dict[str, FieldValue] = Field(default_factory=dict)
    checks: list[CheckResult] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
