"""What the assembler read for one field, before validation decides its status."""

from __future__ import annotations

from dataclasses import dataclass, field

from extractor.datamodel import BBox


@dataclass
class FieldReading:
    """One template field as read from one table cell."""

    field_id: str  # template field id
    value: int | float | None  # parsed number; None when the cell text is not a number
    raw: str  # printed text of the cell ('' for a blank cell)
    page: int | None  # 0-based page of the cell
    bbox: BBox | None  # cell box in page pixels
    text_score: float  # OCR confidence of the cell text (1.0 for a text layer)
    match_score: float  # how well the row and column labels matched the template, in [0, 1]
    notes: list[str] = field(default_factory=list)  # reasons for a reviewer to look
    derived: bool = False  # the value is inferred from other printed cells, not printed itself
