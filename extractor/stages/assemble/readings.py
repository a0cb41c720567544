"""What the assembler read for one field, before validation decides its status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from extractor.datamodel import BBox, Cell
from extractor.stages.assemble.values import ParsedValue, parse_value
from extractor.templates import Template

# Evidence of a cell of a grid built from the template's labels where the table's rules were lost
# (`extractor.stages.anchor`), and the note its reading carries: its place is the anchors' fit.
ANCHORED = "grid:anchored"
ANCHORED_PLACE = "placed by the template's labels (the table's rules were lost)"
# Start of the note on a reading whose row was placed by its order among rows with read labels.
ROW_PLACED_BY_POSITION = "row placed by position"
# Start of the note on a value whose column, by its position, is not the one its header names.
COLUMN_HEADER_DISAGREES = "its column header names another column"
# Start of the note on values taken in order from a row with more cells than its columns.
COLUMNS_BY_ORDER = "placed by order"
# Start of the note on a reading the rule-based matcher and the cell classifier placed differently.
MATCHER_DISAGREES = "matcher and classifier disagree"


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
    # The cell's readings over the value alphabet that are printed forms of a value, as
    # (value, probability, text), most probable first; `value` is the first. Empty where the cell
    # was read otherwise (text layer, shape, labels) or none of its readings is a value.
    options: list[tuple[int | float, float, str]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)  # how the cell was read (not reasons to flag)
    # The value the whole-vocabulary reading gives, where it is a clean printed value (None when
    # it is not a number or has marks around it): a second decoding of the same cell.
    whole_value: int | float | None = None


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
    value_type = template.fields[field_id].value_type
    parsed = parse_value(cell.text, value_type, amount_in_yuan=in_yuan)
    options = value_options(cell.candidates, lambda text: parse_value(text, value_type, amount_in_yuan=in_yuan))
    evidence = list(cell.evidence)
    value, raw, notes = parsed.value, parsed.raw, [parsed.note]
    if options:
        # Read over the value alphabet: what it could hold decides, not the marks around it.
        value, _, raw = options[0]
        notes = []
        if raw != parsed.raw:
            evidence.append(f"read {parsed.raw!r} over the whole vocabulary, {raw!r} over the value alphabet")
    return FieldReading(
        field_id=field_id,
        value=value,
        raw=raw,
        page=cell.page,
        bbox=cell.bbox,
        text_score=cell.score,
        match_score=match_score,
        notes=[n for n in (*notes, merged_note(cell.merged_text), ANCHORED_PLACE if ANCHORED in cell.evidence else None) if n],
        options=options,
        evidence=evidence,
        whole_value=parsed.value if parsed.note is None else None,
    )


def value_options(
    candidates: list[tuple[str, float]], parse: Callable[[str], ParsedValue]
) -> list[tuple[int | float, float, str]]:
    """The candidates that are printed forms of a value, as (value, probability, text), one per
    value (the probabilities of its forms added; the text of the likeliest kept), most probable
    first. A candidate the parser has a note on ("01", "3.", "-0") is not a printed form."""
    merged: dict[int | float, list] = {}
    for text, p in candidates:
        parsed = parse(text)
        if parsed.value is None or parsed.note is not None:
            continue
        if parsed.value in merged:
            merged[parsed.value][1] += p
        else:
            merged[parsed.value] = [parsed.value, p, parsed.raw]
    return sorted((tuple(o) for o in merged.values()), key=lambda o: -o[1])  # type: ignore[misc]


def merged_note(merged_text: str | None) -> str | None:
    """The note a value split from a merged cell carries (it is flagged for review)."""
    if merged_text is None:
        return None
    return f"one of the values read side by side in one cell (a rule lost on the scan): {merged_text!r}"
