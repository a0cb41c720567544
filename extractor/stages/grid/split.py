"""Split cells merged where a rule was lost on the scan, by the values printed side by side in them."""

from __future__ import annotations

import logging
import re
import unicodedata

from extractor.datamodel import Cell, Table

_log = logging.getLogger(__name__)

# One value as a merged cell can hold it side by side with others: a number or a zero mark.
_ONE_VALUE = re.compile(r"[+\-−]?\d+(?:\.\d+)?|[/\-—–－]")
# What is left of a lost rule between two values, as the recogniser reads it.
_RULE_MARK = frozenset("|lI1丨!")
_STUCK_MARKS = "|lI丨!"
_ZERO_AND_RULE = re.compile(r"^0[1|lI丨!]+$")


def side_by_side(text: str, n: int) -> list[str] | None:
    """The `n` values of `text` if it is exactly `n` values parted by spaces (and, all or none,
    by what is left of the rules between them: "0 | 0", "0 0 l0"), else None."""
    parts = text.split()
    if n >= 2 and len(parts) == 2 * n - 1 and all(_nfkc(p) in _RULE_MARK for p in parts[1::2]):
        parts = parts[::2]
    # A piece of a rule can stick to a value ("l0"); not a "1", which may be a digit of it, but
    # for a "1" after a zero ("01"): no value is printed with a leading zero.
    parts = [_ZERO_AND_RULE.sub("0", _nfkc(p).strip(_STUCK_MARKS)) or p for p in parts]
    if n < 2 or len(parts) != n or not all(_ONE_VALUE.fullmatch(_nfkc(p)) for p in parts):
        return None
    return parts


def split_part(cell: Cell, text: str, **update: object) -> Cell:
    """`cell` as one value of those read together in it: its text `text`, the merged text kept in
    ``merged_text`` (any other fields, such as its column and box, from `update`)."""
    # The merged cell's readings over the value alphabet are of the whole cell, not of this part.
    return cell.model_copy(
        update={"text": text, "token_texts": [text], "merged_text": cell.text, "candidates": [], **update}
    )


def split_merged_values(table: Table) -> Table:
    """The table with each one-row cell over `n` columns that reads as `n` values ("0 0", "3 12",
    "0 | 0") split into `n` cells, one per column.

    Where the rule between value cells was lost, the grid merges them. Each part keeps the merged
    text in ``merged_text``, so the assembler can send its value to review.
    """
    cells: list[Cell] = []
    for cell in table.cells:
        parts = side_by_side(cell.text, cell.col_span) if cell.row_span == 1 else None
        if parts is None:
            cells.append(cell)
            continue
        cells.extend(_one_cell_per_value(cell, parts))
        _log.info("split a cell over %d columns reading %r on page %d", len(parts), cell.text, cell.page)
    return table.model_copy(update={"cells": cells})


def _one_cell_per_value(cell: Cell, parts: list[str]) -> list[Cell]:
    """The values read side by side in `cell`, one cell each from its column on: they share its
    height and divide its width evenly (value columns are printed alike)."""
    width = cell.bbox.width / len(parts)
    return [
        split_part(
            cell,
            part,
            col=cell.col + k,
            col_span=1,
            bbox=cell.bbox.model_copy(update={"x1": cell.bbox.x1 + k * width, "x2": cell.bbox.x1 + (k + 1) * width}),
        )
        for k, part in enumerate(parts)
    ]


def split_lost_columns(table: Table) -> Table:
    """The table with each column whose rules were lost from top to bottom split into the columns
    it holds.

    A grid column about `k` times as wide as the table's value columns (k ≥ 2), with a one-row
    cell in it that reads as `k` values side by side ("0 0 0"), stands for `k` columns: each such
    cell becomes `k` cells (as in :func:`split_merged_values`), and every other cell over the
    column spans the `k` columns (a header printed over them, read as one).
    """
    typical = _value_column_width(table)
    if typical is None:
        return table
    for col in range(table.n_cols - 1, -1, -1):
        own = [c for c in table.cells if c.col == col and c.col_span == 1]
        width = max((c.bbox.width for c in own), default=0.0)
        k = round(width / typical)
        if k < 2 or abs(width - k * typical) > 0.25 * typical:
            continue
        if not any(c.row_span == 1 and side_by_side(c.text, k) for c in own):
            continue
        table = _widen_column(table, col, k)
        _log.info("split a column %d values wide on page %d", k, table.pages[0])
    return table


def _value_column_width(table: Table) -> float | None:
    """The median width of the table's one-column cells holding a single value (a value column's width)."""
    widths = sorted(
        c.bbox.width for c in table.cells if c.col_span == 1 and _ONE_VALUE.fullmatch(_nfkc(c.text).strip() or " ")
    )
    return widths[len(widths) // 2] if widths else None


def _widen_column(table: Table, col: int, k: int) -> Table:
    cells: list[Cell] = []
    for cell in table.cells:
        if cell.col > col:
            cells.append(cell.model_copy(update={"col": cell.col + k - 1}))
        elif cell.col + cell.col_span <= col:
            cells.append(cell)
        elif cell.col == col and cell.col_span == cell.row_span == 1 and (parts := side_by_side(cell.text, k)):
            cells.extend(_one_cell_per_value(cell, parts))
        else:
            cells.append(cell.model_copy(update={"col_span": cell.col_span + k - 1}))
    return table.model_copy(update={"cells": cells, "n_cols": table.n_cols + k - 1})


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)
