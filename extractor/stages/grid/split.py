"""Split cells merged where a rule was lost on the scan, by the values printed side by side in them."""

from __future__ import annotations

import logging
import re
import unicodedata

from extractor.datamodel import BBox, Cell, Table

_log = logging.getLogger(__name__)

# One value as a merged cell can hold it side by side with others: a number or a zero mark.
_ONE_VALUE = re.compile(r"[+\-−]?\d+(?:\.\d+)?|[/\-—–－]")
# What is left of a lost rule between two values, as the recogniser reads it.
_RULE_MARK = frozenset("|lI1丨!")
_STUCK_MARKS = "|lI丨!"


def side_by_side(text: str, n: int) -> list[str] | None:
    """The `n` values of `text` if it is exactly `n` values parted by spaces (and, all or none,
    by what is left of the rules between them: "0 | 0", "0 0 l0"), else None."""
    parts = text.split()
    if n >= 2 and len(parts) == 2 * n - 1 and all(_nfkc(p) in _RULE_MARK for p in parts[1::2]):
        parts = parts[::2]
    # A piece of a rule can stick to a value ("l0"); not a "1", which may be a digit of it.
    parts = [_nfkc(p).strip(_STUCK_MARKS) or p for p in parts]
    if n < 2 or len(parts) != n or not all(_ONE_VALUE.fullmatch(_nfkc(p)) for p in parts):
        return None
    return parts


def split_part(cell: Cell, text: str, **update: object) -> Cell:
    """`cell` as one value of those read together in it: its text `text`, the merged text kept in
    ``merged_text`` (any other fields, such as its column and box, from `update`)."""
    return cell.model_copy(update={"text": text, "token_texts": [text], "merged_text": cell.text, **update})


def split_merged_values(table: Table) -> Table:
    """The table with each one-row cell over `n` columns that reads as `n` values ("0 0", "3 12",
    "0 | 0") split into `n` cells, one per column.

    Where the rule between value cells was lost, the grid merges them. The parts share the merged
    cell's height and divide its width evenly (value columns are printed alike); each keeps the
    merged text in ``merged_text``, so the assembler can send its value to review.
    """
    cells: list[Cell] = []
    for cell in table.cells:
        parts = side_by_side(cell.text, cell.col_span) if cell.row_span == 1 else None
        if parts is None:
            cells.append(cell)
            continue
        width = cell.bbox.width / len(parts)
        for k, part in enumerate(parts):
            box = BBox(x1=cell.bbox.x1 + k * width, y1=cell.bbox.y1, x2=cell.bbox.x1 + (k + 1) * width, y2=cell.bbox.y2)
            cells.append(split_part(cell, part, col=cell.col + k, col_span=1, bbox=box))
        _log.info("split a cell over %d columns reading %r on page %d", len(parts), cell.text, cell.page)
    return table.model_copy(update={"cells": cells})


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)
