"""Place a structured document's blocks on a virtual page, as the records the pipeline reads.

An HTML page or a Word file has no fixed layout, but every later stage (the grid join, the
assembler, validation, review) reads page records: tokens with boxes, tables of cells with
boxes, on a page of known size and resolution. The blocks are laid out top to bottom on one
page the width of A4 (one text line per token, one grid row per table row, column widths
from their text), with metrics derived from the resolution only, so the same file gives the
same boxes at extraction and when the review page draws it again
(:func:`extractor.stages.structured.render.draw_page`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from extractor.datamodel import BBox, Cell, LayoutRegion, PageRecord, Table, TextToken, TokenSource
from extractor.stages.structured.blocks import Block, Paragraph, TableBlock

# Metrics in pixels at 200 dpi (scaled by dpi / 200): A4 width, margins, the em of the text
# (10.5 pt), line pitch, cell padding, space after a paragraph and after a table.
_PAGE_W_200 = 1654
_MARGIN_200 = 120
_EM_200 = 29
_LINE_200 = 46
_PAD_200 = 10
_PARA_GAP_200 = 14
_TABLE_GAP_200 = 36
# Column widths at 200 dpi: the narrowest and widest a column is given from its text.
_MIN_COL_200 = 70
_MAX_COL_200 = 460
# Width of a narrow (Latin, digit) character in ems; wide (CJK) characters are one em.
_NARROW_EM = 0.55


@dataclass
class LaidOutPage:
    """A page's records plus what is drawn for a person to see."""

    record: PageRecord  # tokens and tables filled (tables None: find them from `rules`)
    rules: list[tuple[float, float, float, float, float]] = field(default_factory=list)
    # ruling segments (x1, y1, x2, y2, width) in page pixels, drawn as lines
    font_px: float = 0.0  # text size to draw the tokens with


def text_width(text: str, em: float) -> float:
    """Advance width of `text` in pixels for an em of `em` pixels."""
    return sum(em if unicodedata.east_asian_width(ch) in ("W", "F") else em * _NARROW_EM for ch in text)


def wrap(text: str, width: float, em: float) -> list[str]:
    """`text` broken into lines no wider than `width` (at least one character a line)."""
    lines: list[str] = []
    line, used = "", 0.0
    for ch in text:
        w = text_width(ch, em)
        if line and used + w > width:
            lines.append(line.rstrip())
            line, used = ch.lstrip(), (w if ch.strip() else 0.0)
            continue
        line += ch
        used += w
    if line.strip():
        lines.append(line.rstrip())
    return lines


def lay_out(blocks: list[Block], dpi: float, index: int = 0) -> LaidOutPage:
    """One virtual page holding `blocks` top to bottom.

    Args:
        blocks: the document's paragraphs and tables in reading order.
        dpi: the resolution every box refers to.
        index: the page's 0-based number.

    Returns:
        The page record (tokens of every text line and table cell, the tables, their layout
        regions) and the font size to draw it with.
    """
    s = dpi / 200.0
    em, line, pad = _EM_200 * s, _LINE_200 * s, _PAD_200 * s
    margin = _MARGIN_200 * s
    content_w = (_PAGE_W_200 - 2 * _MARGIN_200) * s
    tokens: list[TextToken] = []
    tables: list[Table] = []
    page_w = _PAGE_W_200 * s
    y = margin
    for block in blocks:
        if isinstance(block, Paragraph):
            for text in wrap(block.text, content_w, em):
                box = BBox(x1=margin, y1=y + (line - em) / 2, x2=margin + text_width(text, em), y2=y + (line + em) / 2)
                tokens.append(TextToken(text=text, bbox=box, source=TokenSource.TEXT_LAYER))
                y += line
            y += _PARA_GAP_200 * s
        else:
            table, cell_tokens = _lay_out_table(block, margin, y, content_w, index, s)
            tables.append(table)
            tokens.extend(cell_tokens)
            y = table.bbox.y2 + _TABLE_GAP_200 * s
            page_w = max(page_w, table.bbox.x2 + margin)
    height = int(round(y + margin))
    record = PageRecord(
        index=index,
        width=int(round(page_w)),
        height=height,
        dpi=dpi,
        tokens=tokens,
        layout=[LayoutRegion(label="table", bbox=t.bbox, score=1.0) for t in tables],
        tables=tables,
    )
    return LaidOutPage(record=record, font_px=em)


def _lay_out_table(
    block: TableBlock, x0: float, y0: float, content_w: float, index: int, s: float
) -> tuple[Table, list[TextToken]]:
    em, line, pad = _EM_200 * s, _LINE_200 * s, _PAD_200 * s
    min_col, max_col = _MIN_COL_200 * s, _MAX_COL_200 * s
    widths = [min_col] * block.n_cols
    for cell in block.cells:
        if cell.col_span == 1:
            want = text_width(cell.text, em) + 2 * pad
            widths[cell.col] = max(widths[cell.col], min(max_col, want))
    total = sum(widths)
    if total > content_w:
        # Narrow the wide columns (their text wraps), never below the narrowest width.
        spare = sum(w - min_col for w in widths)
        cut = min(spare, total - content_w)
        widths = [w - (w - min_col) * cut / spare if spare else w for w in widths]
    xs = [x0]
    for w in widths:
        xs.append(xs[-1] + w)
    wrapped = {id(c): wrap(c.text, xs[c.col + c.col_span] - xs[c.col] - 2 * pad, em) for c in block.cells}
    heights = [line + 2 * pad] * block.n_rows
    for cell in sorted(block.cells, key=lambda c: c.row_span):
        need = max(1, len(wrapped[id(cell)])) * line + 2 * pad
        have = sum(heights[cell.row : cell.row + cell.row_span])
        if need > have:
            heights[cell.row + cell.row_span - 1] += need - have
    ys = [y0]
    for h in heights:
        ys.append(ys[-1] + h)
    cells: list[Cell] = []
    tokens: list[TextToken] = []
    for c in block.cells:
        box = BBox(x1=xs[c.col], y1=ys[c.row], x2=xs[c.col + c.col_span], y2=ys[c.row + c.row_span])
        lines = wrapped[id(c)]
        top = box.center[1] - len(lines) * line / 2
        for i, text in enumerate(lines):
            ty = top + i * line + (line - em) / 2
            tx = box.center[0] - text_width(text, em) / 2
            tokens.append(TextToken(text=text, bbox=BBox(x1=tx, y1=ty, x2=tx + text_width(text, em), y2=ty + em),
                                    source=TokenSource.TEXT_LAYER))
        cells.append(Cell(row=c.row, col=c.col, row_span=c.row_span, col_span=c.col_span, text=c.text, bbox=box,
                          page=index, token_texts=lines))
    bbox = BBox(x1=xs[0], y1=ys[0], x2=xs[-1], y2=ys[-1])
    table = Table(n_rows=block.n_rows, n_cols=block.n_cols, cells=cells, pages=[index], bbox=bbox)
    return table, tokens
