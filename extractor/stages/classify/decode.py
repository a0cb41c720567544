"""From cell roles to field readings: a value cell's field is its row label × its column header."""

from __future__ import annotations

import logging
from collections.abc import Callable

from extractor.datamodel import Cell, Table
from extractor.stages.assemble.grid_view import GridView
from extractor.stages.assemble.readings import FieldReading, reading_from_cell
from extractor.stages.assemble.text import nfkc
from extractor.stages.classify.labels import APPEAL_GROUPS, COL, ROW, VALUE
from extractor.stages.classify.stage import TablePrediction
from extractor.templates import Template

_log = logging.getLogger(__name__)

# Column headers that span and name a group of columns rather than one column.
_SPANNING_HEADERS = frozenset({"applicants", "organisations", "content", "suit", *APPEAL_GROUPS})


def read_fields(
    tables: list[Table],
    predictions: list[TablePrediction],
    template: Template,
    calibration: Callable[[float], float] | None = None,
) -> list[FieldReading]:
    """Field readings from the predicted roles of every table's cells.

    Steps, for every cell predicted ``value``:
        1. Its row: the nearest cell to its left, on its top row, labelled ``row:<id>``.
        2. Its column: the nearest cell above it, in its left column, labelled ``col:<id>``
           with a single-column id; section 四 also takes the group header above that
           (``review``, ``suit_direct``, ``suit_after_review``).
        3. The field is the first of ``active.<row>.<col>``, ``apply.<row>.<col>``,
           ``appeal.<group>.<col>`` the template has; a cell that makes none is left out.
        A table whose value cells find no header at all (a continuation printed without one)
        takes the previous table's columns, aligned at the right edge.
        4. Its match score is the least of the probabilities of the value, row and column
           labels, mapped through `calibration` when given; when two cells claim one field the
           higher score wins.

    Args:
        tables: the document's tables, joined across pages.
        predictions: :meth:`ClassifyStage.predict` of `tables`, in the same order.
        template: the detected template.
        calibration: raw score → probability the field is right (``ClassifyStage.calibration``).
    """
    best: dict[str, FieldReading] = {}
    previous_columns: list[tuple] = []  # column headers of the last table that printed them, left to right
    for table, pred in zip(tables, predictions):
        view = GridView(table)
        role = {id(cell): p for cell, p in zip(table.cells, pred.cells)}
        values = [(cell, p) for cell, p in zip(table.cells, pred.cells) if p.label == VALUE]
        headers = {id(cell): _col_label(view, cell, role) for cell, _ in values}
        columns = {cell.col: headers[id(cell)][0] for cell, _ in values if headers[id(cell)][0] is not None}
        for cell, p in values:
            col, group = headers[id(cell)]
            if col is None and not columns and previous_columns:
                # A continuation table printed without its header: the value columns are the
                # previous table's, counted from the right edge (as the rule-based matcher does).
                k = table.n_cols - (cell.col + cell.col_span)
                col = previous_columns[-1 - k] if k < len(previous_columns) else None
            if col is None:
                continue
            row = _row_label(view, cell, role)
            candidates = []
            if row is not None:
                candidates += [f"active.{row[0]}.{col[0]}", f"apply.{row[0]}.{col[0]}"]
            if group is not None:
                candidates.append(f"appeal.{group[0]}.{col[0]}")
            field_id = next((f for f in candidates if f in template.fields), None)
            if field_id is None:
                continue
            place = group if field_id.startswith("appeal.") else row
            score = min(p.prob, col[1], place[1])
            if calibration is not None:
                score = calibration(score)
            header = nfkc(col[2].text)
            reading = reading_from_cell(template, field_id, cell, score, in_yuan="元" in header and "万元" not in header)
            if field_id not in best or best[field_id].match_score < score:
                best[field_id] = reading
        if columns:
            previous_columns = [columns[c] for c in sorted(columns)]
    _log.debug("classifier read %d fields", len(best))
    return list(best.values())


def _row_label(view: GridView, cell: Cell, role: dict) -> tuple[str, float, Cell] | None:
    """(row id, probability, label cell) of the nearest row label left of `cell`."""
    seen = {id(cell)}
    for c in range(cell.col - 1, -1, -1):
        other = view.at(cell.row, c)
        if other is None or id(other) in seen:
            continue
        seen.add(id(other))
        p = role[id(other)]
        if p.label.startswith(ROW):
            return p.label[len(ROW) :], p.prob, other
    return None


def _col_label(view: GridView, cell: Cell, role: dict):
    """((col id, prob, cell) | None, (group id, prob, cell) | None) from the headers above `cell`."""
    col = group = None
    seen = {id(cell)}
    for r in range(cell.row - 1, -1, -1):
        other = view.at(r, cell.col)
        if other is None or id(other) in seen:
            continue
        seen.add(id(other))
        p = role[id(other)]
        if p.label == VALUE and col is not None:
            break  # the headers of this value belong to the rows just above it
        if not p.label.startswith(COL):
            continue
        key = p.label[len(COL) :]
        if key in APPEAL_GROUPS:
            group = (key, p.prob, other)
            break
        if key not in _SPANNING_HEADERS and col is None:
            col = (key, p.prob, other)
    return col, group


