"""Ground truth of one synthetic report (`<out>/<doc-id>.truth.json`).

Boxes are in page pixels at ``dpi`` (200) with the origin at the top-left corner of the page
image, in the same frame as :class:`extractor.datamodel.BBox`. For a scanned document they are
in the frame of the degraded page image (rotation, shift and scale of the scan applied), so they
land on the printed cell of the image-only PDF rasterised at ``dpi``.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field


class FieldTruth(BaseModel):
    """One value cell of the report as rendered."""

    value: int | float | None = Field(
        description="the number for the dataset: 0 for a blank zero cell, the true sum for a "
        "blank 总计 cell, 万元 for amounts (a gov-2019 采购总金额 printed in 元 has raw in 元, "
        "layout.procurement_unit says which); None when the field is not printed on this report"
    )
    raw: str = Field("", description="the text printed in the cell ('' for a blank cell)")
    printed: bool = Field(
        True, description="False when the cell is blank (zero left empty, 总计 left empty) or absent"
    )
    page: int | None = Field(None, description="0-based page of the cell; None when the cell does not exist")
    bbox: list[float] | None = Field(
        None, description="[x1, y1, x2, y2] of the cell's border box, page pixels at `dpi`, top-left origin"
    )


class NarrativeClaim(BaseModel):
    """A number stated in the prose that restates a table value."""

    text: str = Field(description="the sentence (clause) that states the number")
    field: str = Field(description="field id whose value the prose restates")
    stated: int | float = Field(description="the number as written in the prose")
    value: int | float = Field(description="the table value of `field`")

    @property
    def consistent(self) -> bool:
        return abs(float(self.stated) - float(self.value)) < 1e-9


class LabelTruth(BaseModel):
    """A printed label: a header or row-label cell of a table, a section heading or the title.

    Lets a token classifier learn header roles as well as value fields. A merged cell that
    continues on the next page is listed once per page it is drawn on.
    """

    role: str = Field(
        description="title | section_heading | group_title (第二十条第（x）项) | col_header | row_label | "
        "row_group (（三）不予公开, the vertical 三、本年度办理结果 = key 'results') | note (勾稽关系 note)"
    )
    key: str = Field(
        description="what it labels: a row id (granted, denied.state_secret, licensing), a column id "
        "(natural_person, upheld), a group (denied, 第二十条第（一）项), a section (active, apply, appeal), or a "
        "header name (applicants, organisations, review, suit, suit_direct, suit_after_review, content)"
    )
    text: str = Field(description="the label as printed (variants, typos and stray spaces included)")
    page: int
    bbox: list[float] = Field(description="cell border box (tables) or text extent (headings), pixels at `dpi`")


class TruthMeta(BaseModel):
    agency: str
    year: int
    published: str = Field(description="ISO date of the signature")


class SynthTruth(BaseModel):
    """Everything known about a generated report."""

    id: str = Field(description="document id, e.g. synth-7-0003; the PDF is <id>.pdf")
    template: str = Field(description="gov-2021 | gov-2019")
    level: str = Field(description="digital | clean | typical | hard; html | docx | ofd for the report in those formats")
    seed: int = Field(description="the per-document seed the document was drawn with")
    dpi: int = Field(200, description="resolution the boxes refer to")
    pages: int
    page_size: list[int] = Field(
        default_factory=list, description="[width, height] of a page image at `dpi`, pixels"
    )
    meta: TruthMeta
    fields: dict[str, FieldTruth] = Field(
        description="every field of the template; value/raw as printed, including planted errors"
    )
    other_row: dict[str, FieldTruth] = Field(
        default_factory=dict,
        description="gov-2021 reports printing （六）其他处理 as ONE row (layout.other_single_row): "
        "the printed cells of that row keyed by applicant column (natural_person .. total); the "
        "three apply.other.* fields are then value None, printed False. The value of each cell is "
        "the sum of the three sub-items.",
    )
    violations: list[str] = Field(
        default_factory=list,
        description="names of the identities the printed values violate (empty for a clean report)",
    )
    planted: list[str] = Field(
        default_factory=list, description="field ids whose printed value was deliberately made wrong"
    )
    narrative: list[NarrativeClaim] = Field(default_factory=list)
    labels: list[LabelTruth] = Field(default_factory=list, description="printed labels of the tables and headings")
    layout: dict = Field(default_factory=dict, description="the rendering choices made for this document")

    def dump(self, path: Path) -> None:
        path.write_text(json.dumps(self.model_dump(mode="json"), ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> SynthTruth:
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))

    def values(self) -> dict[str, int | float | None]:
        """Field id → value, as the dataset should hold it."""
        return {fid: f.value for fid, f in self.fields.items()}
