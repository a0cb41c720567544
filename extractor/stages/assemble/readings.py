"""What the assembler read for one field, before validation decides its status."""

from __future__ import annotations

from dataclasses import dataclass, field

from extractor.datamodel import BBox, Cell
from extractor.stages.assemble.values import parse_value
from extractor.templates import Template


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


def reading_from_cell(
    template: Template, field_id: str, cell: Cell, match_score: float, in_yuan: bool = False
) -> FieldReading:
    """The reading of `field_id` from the text of `cell`.

    Args:
        template: the report's template (for the field's value type).
        field_id: the field the cell was placed in.
        cell: the value cell.
        match_score: how sure the placement is, in [0, 1].
        in_yuan: the column header says the amount is in 元 (converted to 万元).
    """
    parsed = parse_value(cell.text, template.fields[field_id].value_type, amount_in_yuan=in_yuan)
    return FieldReading(
        field_id=field_id,
        value=parsed.value,
        raw=parsed.raw,
        page=cell.page,
        bbox=cell.bbox,
        text_score=cell.score,
        match_score=match_score,
        notes=[n for n in (parsed.note, merged_note(cell.merged_text)) if n],
    )


def merged_note(merged_text: str | None) -> str | None:
    """The note a value split from a merged cell carries (it is flagged for review)."""
    if merged_text is None:
        return None
    return f"one of the values read side by side in one cell (a rule lost on the scan): {merged_text!r}"
