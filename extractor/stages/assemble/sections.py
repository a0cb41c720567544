"""Map table grids to template fields, section by section (rule-based header matching).

Each mapper reads the row and column labels printed in the grid, matches them to the
template's official labels, and reads the value cells where a matched row meets a matched
column. Nothing is guessed: a cell that cannot be placed is left out, so its field stays
missing for validation and review to see.
"""

from __future__ import annotations

import functools
import logging
import re

from extractor.datamodel import Cell, Table
from extractor.stages.assemble.grid_view import GridView
from extractor.stages.assemble.matching import align, similarity
from extractor.stages.assemble.readings import (
    COLUMN_HEADER_DISAGREES,
    COLUMNS_BY_ORDER,
    ROW_PLACED_BY_POSITION,
    FieldReading,
    reading_from_cell,
)
from extractor.stages.assemble.text import label_key, nfkc
from extractor.stages.grid.split import side_by_side, split_part
from extractor.templates import Template

_log = logging.getLogger(__name__)

# Minimum label similarity for a printed row to be taken as a template row.
_ROW_MATCH_THRESHOLD = 0.55
# Minimum similarity for a header cell to be taken as a template column.
_COL_MATCH_THRESHOLD = 0.8
# Text that identifies a printed row as the first data row of section 三.
_APPLY_FIRST_ROW = "本年新收"
# A cell text that looks like a value: digits, blanks and zero marks, or a number with a note.
_VALUE_LIKE = re.compile(r"^\s*([+\-−]?\s*[\d,０-９]+(?:[.．]\d+)?.*|[/\-—–－无]?)\s*$")

# Words that tell which section a table belongs to.
_APPLY_WORDS = ("本年新收", "上年结转", "办理结果", "予以公开", "不予公开", "无法提供", "不予处理", "结转下年度", "其他处理")
_APPEAL_WORDS = ("行政复议", "行政诉讼", "复议后起诉", "直接起诉")
_ACTIVE_WORDS = (
    "信息内容", "第二十条", "规章", "规范性文件", "行政许可", "行政处罚", "行政强制", "行政事业性收费",
    "其他对外管理服务事项", "政府集中采购", "采购项目数量", "采购总金额",
)


def classify_table(table: Table) -> str | None:
    """Which section a table holds: 'apply', 'appeal', 'active', or None for other tables.

    Steps:
        1. Words of each section's labels printed in the table: two of one section decide.
        2. Else the table's labels as misread on a poor scan ("收政信么开申请数"): cells alike
           to the labels of the templates' sections (:func:`_fuzzy_section`).
        3. Else its shape: rows of seven or more values side by side are section 三's (section
           四 prints one row of values, section 二 at most four columns).
    """
    text = label_key(" ".join(c.text for c in table.cells))
    scores = {
        "apply": sum(w in text for w in _APPLY_WORDS),
        "appeal": sum(w in text for w in _APPEAL_WORDS) + ("维持" in text and "纠正" in text),
        "active": sum(w in text for w in _ACTIVE_WORDS),
    }
    section, score = max(scores.items(), key=lambda kv: kv[1])
    if score >= 2:
        return section
    return _fuzzy_section(table) or ("apply" if _numeric_rows(table, 7) >= _APPLY_MIN_VALUE_ROWS else None)


# Label similarity from which a misread cell counts for a section, and how many such cells decide.
_FUZZY_LABEL = 0.5
_FUZZY_CELLS = 3
# Rows of seven or more values that make a table section 三's by its shape alone.
_APPLY_MIN_VALUE_ROWS = 5


def _fuzzy_section(table: Table) -> str | None:
    """The section most of whose labels the table's text cells resemble (at least `_FUZZY_CELLS`)."""
    labels = _section_labels()
    hits = dict.fromkeys(labels, 0)
    for cell in table.cells:
        key = label_key(cell.text)
        if len(key) < 3 or _is_value_like(cell.text):
            continue
        best = max(labels, key=lambda s: max(similarity(key, label) for label in labels[s]))
        if max(similarity(key, label) for label in labels[best]) >= _FUZZY_LABEL:
            hits[best] += 1
    section, count = max(hits.items(), key=lambda kv: kv[1])
    return section if count >= _FUZZY_CELLS else None


@functools.cache
def _section_labels() -> dict[str, tuple[str, ...]]:
    """Every row and column label of each section, in both templates (their last parts: an item's
    own words, without its group's)."""
    from extractor.templates import get_template

    out: dict[str, set[str]] = {"active": set(), "apply": set(), "appeal": set()}
    for template_id in ("gov-2021", "gov-2019"):
        for f in get_template(template_id).fields.values():
            out[f.section] |= {label_key(f.row_label.split(" ")[-1]), label_key(f.col_label)}
    return {s: tuple(sorted(v)) for s, v in out.items()}


def _numeric_rows(table: Table, n: int) -> int:
    """Rows of the table with at least `n` cells of their own holding a number."""
    view = GridView(table)
    return sum(
        1 for r in range(view.n_rows)
        if sum(1 for c in view.own_row_cells(r) if _is_value_like(c.text) and any(ch.isdigit() for ch in c.text)) >= n
    )


def _is_value_like(text: str) -> bool:
    return bool(_VALUE_LIKE.match(text))


# ---------------------------------------------------------------- section 三 (apply)


def _apply_header_columns(view: GridView, template: Template, header_rows: range) -> dict[str, int]:
    """Template column → grid column, from the header labels above the first data row."""
    labels = {col: template.fields[f"apply.new_received.{col}"].col_label for col in template.cols("apply")}
    found: dict[str, tuple[float, int]] = {}
    for r in header_rows:
        for cell in view.own_row_cells(r):
            if cell.col_span != 1:
                continue  # 申请人情况 / 法人或其他组织 span several value columns
            for col, label in labels.items():
                score = similarity(cell.text, label)
                if score >= _COL_MATCH_THRESHOLD and score > found.get(col, (0.0, -1))[0]:
                    found[col] = (score, cell.col)
    return {col: grid_col for col, (_, grid_col) in found.items()}


def _columns_from_anchors(header: dict[str, int], cols: list[str], first_value_col: int, n_grid_cols: int) -> dict[str, int]:
    """Template column → grid column: the header's matches, and the others placed by position
    where the grid has exactly as many columns as the template between two matches, or between a
    match and an edge of the value columns (the end of the first data row's label cell, the
    grid's right edge).

    A header cell misread or lost (a streak, a faint side of the page) leaves its column to be
    placed by its neighbours; a table cut short (its last columns lost) has fewer grid columns
    than template columns beyond its last match, and those stay unplaced. Matches out of the
    template's order are dropped: they cannot all be right.
    """
    anchors = sorted((cols.index(col), grid_col) for col, grid_col in header.items())
    kept: list[tuple[int, int]] = []
    for j, g in anchors:
        if not kept or (j > kept[-1][0] and g - kept[-1][1] >= j - kept[-1][0]):
            kept.append((j, g))
    placed = {cols[j]: g for j, g in kept}
    for (j1, g1), (j2, g2) in zip(kept, kept[1:]):
        if g2 - g1 == j2 - j1:
            placed.update({cols[j1 + k]: g1 + k for k in range(1, j2 - j1)})
    if kept:
        j_first, g_first = kept[0]
        if g_first - first_value_col == j_first:
            placed.update({cols[j]: first_value_col + j for j in range(j_first)})
        j_last, g_last = kept[-1]
        if n_grid_cols - 1 - g_last == len(cols) - 1 - j_last:
            placed.update({cols[j]: g_last + j - j_last for j in range(j_last + 1, len(cols))})
    return placed


# A cell holding a value and nothing else: a number or a zero mark (not "1、属于国家秘密").
_BARE_VALUE = re.compile(r"^\s*(?:[+\-−]?\s*[\d,０-９]+(?:[.．][\d０-９]+)?|[/\-—–－无])\s*$")
# A column holds values when at least this share of its filled cells below the header do.
_VALUE_COLUMN_SHARE = 0.7
# ... and it has at least this many filled cells there.
_VALUE_COLUMN_MIN_CELLS = 3


def _value_columns(view: GridView, first_row: int, first_col: int) -> list[int]:
    """Grid columns from `first_col` on whose cells of their own, from `first_row` down, hold
    values (numbers, zero marks) rather than text; a sliver column is mostly empty and is none."""
    out = []
    for c in range(first_col, view.n_cols):
        texts = [
            cell.text for r in range(first_row, view.n_rows)
            if (cell := view.at(r, c)) is not None and cell.row == r and cell.col == c and cell.col_span == 1
            and cell.text.strip()
        ]
        values = sum(1 for t in texts if _BARE_VALUE.match(t))
        if len(texts) >= _VALUE_COLUMN_MIN_CELLS and values >= _VALUE_COLUMN_SHARE * len(texts):
            out.append(c)
    return out


def _agrees(column_map: dict[str, int], cols: list[str], by_values: list[int]) -> bool:
    """Whether `by_values` has one column per template column, in which every placed one lies."""
    return len(by_values) == len(cols) and all(by_values[cols.index(col)] == g for col, g in column_map.items())


def _rightmost_value_columns(view: GridView, n: int) -> list[int]:
    return list(range(view.n_cols - n, view.n_cols))


def _row_label(view: GridView, row: int, first_value_col: int) -> tuple[str, str]:
    """(specific label, full label) of a grid row from its label cells."""
    cells = []
    for c in range(first_value_col):
        cell = view.at(row, c)
        if cell is not None and cell.text.strip() and cell not in cells:
            cells.append(cell)
    if not cells:
        return "", ""
    # A mark left in an empty item column ("-" beside （七）总计) is no label.
    worded = [c for c in cells if _has_cjk(c.text)] or cells
    return worded[-1].text, " ".join(c.text for c in worded)


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def row_scores(specific: str, full: str, official: list[str]) -> list[float]:
    """Similarity of one printed row to every official row label.

    Official labels of items carry their group ("（三）不予公开 1.属于国家秘密"). A printed row
    labelled only with a group name ("（六）其他处理") is the group's own row, never one of its
    items, however alike the words (其他处理 / 3.其他).
    """
    groups = {label_key(o.split(" ")[0]) for o in official if " " in o}
    # The group's label misread ("(六) 他处") is still the group's, not an item's ("3.其他" has its number).
    is_group_row = label_key(specific) in groups or (
        not _ITEM_NUMBER.match(specific) and any(similarity(specific, g) >= 0.8 for g in groups)
    )
    out = []
    for o in official:
        if " " in o and is_group_row:
            out.append(0.0)
        else:
            out.append(max(similarity(specific, o.split(" ")[-1]), similarity(full, o)))
    return out


def map_apply(tables: list[Table], template: Template) -> tuple[list[FieldReading], list[str]]:
    """Read section 三 from its table(s), continuation tables included, in page order.

    Returns:
        The readings, and notes about the section as a whole (e.g. a single-row （六）).
    """
    rows = template.rows("apply")
    cols = template.cols("apply")
    official = [template.fields[f"apply.{r}.total"].row_label for r in rows]
    printed: list[tuple[GridView, int, dict[str, int], str, str]] = []
    column_map: dict[str, int] | None = None
    for table in tables:
        view = GridView(table)
        first = next(
            (r for r in range(view.n_rows) if any(_APPLY_FIRST_ROW in label_key(c.text) for c in view.row_cells(r))),
            None,
        )
        if first is not None:
            header = _apply_header_columns(view, template, range(first))
            label = next(c for c in view.row_cells(first) if _APPLY_FIRST_ROW in label_key(c.text))
            by_values = _value_columns(view, first, label.col + label.col_span)
            if header:
                column_map = _columns_from_anchors(header, cols, label.col + label.col_span, view.n_cols)
                if len(column_map) != len(cols) and _agrees(column_map, cols, by_values):
                    # The header's misread cells leave columns unplaced: as many columns of
                    # values as the template has are its columns in order.
                    column_map = dict(zip(cols, by_values))
                if len(column_map) != len(cols):
                    _log.info("apply header placed %d of %d columns; the others are not guessed", len(column_map), len(cols))
            elif len(by_values) == len(cols):
                column_map = dict(zip(cols, by_values))
            else:
                column_map = dict(zip(cols, _rightmost_value_columns(view, len(cols))))
                _log.info("apply header matched no column; using the rightmost columns")
            start = first
        else:
            # A continuation page: the same value columns as the table it continues, counted from
            # the right, unless its columns of values say otherwise (a sliver of a column beside
            # the table's last rule).
            by_values = _value_columns(view, 0, 1)
            rightmost = _rightmost_value_columns(view, len(cols))
            column_map = dict(zip(cols, by_values if len(by_values) == len(cols) else rightmost))
            start = 0
        first_value_col = min(column_map.values())
        for r in range(start, view.n_rows):
            specific, full = _row_label(view, r, first_value_col)
            if (specific or _has_values(view, r, column_map)) and not _is_header_row(view, r, column_map):
                # A row whose label is lost (a streak, a seal) still holds its place in the order.
                printed.append((view, r, column_map, specific, full))

    scores = [row_scores(specific, full, official) for _, _, _, specific, full in printed]
    matches = align(scores, _ROW_MATCH_THRESHOLD)
    matched_rows = {rows[j] for j in matches.values()}
    single = _single_other_row(printed, matches, matched_rows) if "other.other" in rows else None
    # The single （六） row stands where its last item would: a row after it can be placed by it.
    anchors = {**matches, single: rows.index("other.other")} if single is not None else matches
    by_place = {i: j for i, j in _placed_between(anchors).items() if i != single}
    readings: list[FieldReading] = []
    notes: list[str] = []
    for i, j in sorted({**matches, **by_place}.items()):
        view, r, column_map, specific, _ = printed[i]
        row_readings = _row_readings(template, view, r, column_map, f"apply.{rows[j]}", scores[i][j])
        if i in by_place:
            for reading in row_readings:
                reading.notes.append(f"{ROW_PLACED_BY_POSITION}, its label read {specific!r}")
        readings.extend(row_readings)
    if single is not None:
        view, r, column_map, _, _ = printed[single]
        notes.append("（六）其他处理 is printed as one row without its three items")
        for col in cols:
            # A column the header did not place is not read here either (as in every other row).
            cell = view.at(r, column_map[col]) if col in column_map else None
            if cell is not None:
                readings.extend(_split_single_other_row(template, cell, col))
    return readings, notes


def _has_values(view: GridView, row: int, column_map: dict[str, int]) -> bool:
    """Whether a grid row has cells of its own holding values in the section's value columns."""
    cells = [view.at(row, c) for c in column_map.values()]
    return any(
        cell is not None and cell.row == row and cell.text.strip() and _is_value_like(cell.text) for cell in cells
    )


def _is_header_row(view: GridView, row: int, column_map: dict[str, int]) -> bool:
    """Whether a grid row is (part of) the header: text that is no value in the value columns
    (a header repeated on a continuation page is no row of the section, and counting it broke
    the count that places rows by position)."""
    first = min(column_map.values())
    # Cells that begin in the value columns: a label merged over the first value column is no header.
    cells = {id(cell): cell for c in column_map.values() if (cell := view.at(row, c)) is not None and cell.col >= first}
    return any(
        cell.text.strip() and not _is_value_like(cell.text) and any("\u4e00" <= ch <= "\u9fff" for ch in cell.text)
        for cell in cells.values()
    )


def _placed_between(matches: dict[int, int]) -> dict[int, int]:
    """Printed rows whose labels were misread, placed by position: a run of printed rows between
    two matched rows that have as many template rows between them ("(t)总i" between （六） and
    四、结转下年度继续办理 is （七）总计; three rows under a streak between 2. and 6. are 3., 4.
    and 5.). Order and count say where each goes; the identities check their values."""
    pairs = sorted(matches.items())
    return {
        i1 + k: j1 + k
        for (i1, j1), (i2, j2) in zip(pairs, pairs[1:])
        if i2 - i1 == j2 - j1
        for k in range(1, i2 - i1)
    }


def _row_readings(
    template: Template, view: GridView, r: int, column_map: dict[str, int], prefix: str, score: float
) -> list[FieldReading]:
    """The readings of one printed row: each template column from the cell at its grid column
    (template columns that fall in one merged cell share it)."""
    first_value_col = min(column_map.values())
    readings = []
    for col, grid_col in column_map.items():
        cell = view.at(r, grid_col)
        if cell is None or cell.row != r:
            continue  # no cell of this row there: the value is missing, not guessed
        if cell.col < first_value_col and grid_col == cell.col + cell.col_span - 1:
            cell = _value_after_label(cell)
        readings.append(reading_from_cell(template, f"{prefix}.{col}", cell, score))
    return readings


# A value printed at the end of a label cell: a number or a zero mark.
_TRAILING_VALUE = re.compile(r"(?<=\D)\s*([+\-−]?\d+(?:\.\d+)?|[/—–－])\s*$")


def _value_after_label(cell: Cell) -> Cell:
    """The value at the end of a label cell merged with the first value cell, where the rule
    between them was lost ("一、本年新收政府信息公开申请数量0"); the cell as it is otherwise."""
    match = _TRAILING_VALUE.search(nfkc(cell.text))
    if match is None:
        return cell
    return split_part(cell, match.group(1))


_OTHER_ITEMS = ("other.no_correction", "other.no_fee", "other.other")


def _single_other_row(printed, matches, matched_rows) -> int | None:
    """The index among `printed` of the （六）其他处理 row of a 2021-format report that omits its
    three items."""
    if matched_rows & set(_OTHER_ITEMS):
        return None
    for i, (_, _, _, specific, _) in enumerate(printed):
        # The group's own label, misread too ("(六) 他处"), but not an item of it ("3.其他").
        if i not in matches and not _ITEM_NUMBER.match(specific) and similarity(specific, "其他处理") >= 0.8:
            return i
    return None


# An item's number at the start of its label ("3.其他", "3、其他").
_ITEM_NUMBER = re.compile(r"^\s*\d")


def _split_single_other_row(template: Template, cell: Cell, col: str) -> list[FieldReading]:
    """The three （六） items of one column, from their printed sum.

    A sum of 0 means every item is 0 (counts are never negative), derived. Any other sum
    cannot be split: the items stay unknown and go to review with the printed sum.
    """
    out = []
    for item in _OTHER_ITEMS:
        reading = reading_from_cell(template, f"apply.{item}.{col}", cell, 1.0)
        reading.raw = ""  # the item itself is not printed; page and box point at the row's cell
        reading.options = []  # the cell's readings are of the row's sum, not of this item
        if reading.value == 0:
            reading.derived = True
            reading.notes.append("（六）其他处理 printed as one row with 0: each item is 0")
        else:
            reading.notes.append(f"（六）其他处理 printed as one row with {cell.text.strip()!r}: items unknown")
            reading.value = None
        out.append(reading)
    return out


# ---------------------------------------------------------------- section 四 (appeal)


def map_appeal(table: Table, template: Template) -> list[FieldReading]:
    """Read the 15 value cells of section 四.

    The value row is the row with the most value-like cells; its last 15 cells are, in order,
    行政复议, 未经复议直接起诉 and 复议后起诉 × (维持, 纠正, 其他, 尚未审结, 总计). Position is
    trusted over the header, which real reports sometimes print shifted by one column.
    """
    view = GridView(table)
    fields = [f"appeal.{g}.{c}" for g in template.rows("appeal") for c in template.cols("appeal")]
    best_row, best_count = None, 0
    for r in range(view.n_rows):
        cells = view.own_row_cells(r)
        count = sum(1 for c in cells if _is_value_like(c.text) and c.text.strip())
        if count > best_count:
            best_row, best_count = r, count
    if best_row is None:
        return []
    row = view.own_row_cells(best_row)
    if len(row) < len(fields):
        # Where a rule was lost in every row the grid has too few columns, and a cell holds its
        # values side by side ("0 0"): split, the row may have its 15 again.
        row = [part for cell in row for part in _side_by_side_cells(cell)]
        if len(row) != len(fields):
            _log.info("appeal value row has %d cells, expected %d", len(row), len(fields))
            return []
    readings = [reading_from_cell(template, fid, cell, 1.0) for fid, cell in zip(fields, row[-len(fields) :])]
    col_labels = {c: template.fields[f"appeal.review.{c}"].col_label for c in template.cols("appeal")}
    for reading, cell in zip(readings, row[-len(fields) :]):
        header = _column_header(view, best_row, cell.col)
        named = _named_column(header, col_labels)
        if named is not None and named != reading.field_id.rsplit(".", 1)[1]:
            # Position and header disagree: the grid gained or lost a column, or the header is
            # printed shifted (some real reports do). A person decides.
            reading.notes.append(f"{COLUMN_HEADER_DISAGREES}: the header above reads {header!r}")
    return readings


def _column_header(view: GridView, row: int, col: int) -> str:
    """The text of the nearest header cell above (`row`, `col`) that is one column wide."""
    for r in range(row - 1, -1, -1):
        cell = view.at(r, col)
        if cell is not None and cell.col_span == 1 and cell.text.strip():
            return cell.text
    return ""


# A header names a column when it is this alike to that column's label...
_HEADER_NAMES = 0.8
# ... and at least this much less alike to every other column's label.
_HEADER_MARGIN = 0.2


def _named_column(header: str, labels: dict[str, str]) -> str | None:
    """The column whose label `header` clearly reads (None: no clear reading)."""
    if not header.strip():
        return None
    scores = sorted(((similarity(header, label), col) for col, label in labels.items()), reverse=True)
    (best, col), (second, _) = scores[0], scores[1]
    return col if best >= _HEADER_NAMES and best - second >= _HEADER_MARGIN else None


# ---------------------------------------------------------------- section 二 (active)


def map_active(tables: list[Table], template: Template) -> list[FieldReading]:
    """Read section 二: rows such as 规章 or 行政许可 under the column header of their group.

    The printed table is one grid or several small ones; either way a header row
    (信息内容 | column labels) sets the columns for the rows below it.
    """
    groups: dict[str, list[str]] = {}
    col_labels: dict[str, str] = {}
    row_labels: dict[str, str] = {}
    for f in template.section_fields("active"):
        groups.setdefault(f.row, []).append(f.col)
        col_labels[f.col] = f.col_label
        row_labels[f.row] = f.row_label
    readings: dict[str, FieldReading] = {}
    for table in tables:
        view = GridView(table)
        header: list[tuple[int, str, bool]] = []  # (grid col, template col, amount in 元)
        for r in range(view.n_rows):
            cells = view.own_row_cells(r)
            if not cells:
                continue
            head = label_key(cells[0].text)
            if head == "信息内容" or (head.startswith("信息内容") and len(cells) > 1):
                header = []
                for cell in cells[1:]:
                    col, score = max(((c, similarity(cell.text, lbl)) for c, lbl in col_labels.items()), key=lambda x: x[1])
                    text = label_key(cell.text)
                    header.append((cell.col, col if score >= 0.6 else "", "元" in text and "万元" not in text))
                continue
            row, score = max(((k, similarity(cells[0].text, lbl)) for k, lbl in row_labels.items()), key=lambda x: x[1])
            if score < 0.7:
                continue
            values = [c for c in cells[1:]]
            wanted = groups[row]
            by_header = {col: (cell, yuan) for (gcol, col, yuan) in header for cell in values if cell.col == gcol}
            note = None
            if all(col in by_header for col in wanted):
                pairs = [(col, *by_header[col]) for col in wanted]
            elif len(values) >= len(wanted):
                pairs = [(col, cell, False) for col, cell in zip(wanted, values)]
                if len(values) > len(wanted):
                    # More cells than columns and no header to place them: which are the values
                    # is a guess by order (a column gained where a rule was doubled or stained).
                    note = f"{COLUMNS_BY_ORDER}: {len(values)} cells for {len(wanted)} columns and no header read"
            else:
                continue
            for col, cell, yuan in pairs:
                fid = f"active.{row}.{col}"
                if fid not in readings:
                    readings[fid] = reading_from_cell(template, fid, cell, score, in_yuan=yuan)
                    if note:
                        readings[fid].notes.append(note)
    return list(readings.values())


def _side_by_side_cells(cell: Cell) -> list[Cell]:
    """The values printed side by side in `cell`, each as a cell ("0 0", "0 | 0"), or the cell."""
    n = len(cell.text.split())
    parts = side_by_side(cell.text, n) or side_by_side(cell.text, (n + 1) // 2)
    if parts is None:
        return [cell]
    return [split_part(cell, p) for p in parts]
