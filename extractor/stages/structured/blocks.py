"""What a document with its own structure (HTML, DOCX) says, before it is laid out as a page.

A reader turns its format into a list of blocks in reading order: paragraphs of prose and
tables whose cells keep their row and column spans. :mod:`extractor.stages.structured.layout`
then places them on a virtual page, so that the rest of the pipeline sees the same
``PageRecord``/``Table``/``Cell`` records as for a born-digital PDF.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Runs of whitespace (non-breaking and ideographic spaces included) collapse to one space.
_SPACE = re.compile(r"[\s\u00a0\u3000]+")


def clean_text(text: str) -> str:
    """Text with whitespace runs collapsed to one space and trimmed."""
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Paragraph:
    """A paragraph or heading of prose."""

    text: str  # whitespace collapsed; never empty


@dataclass(frozen=True)
class SourceCell:
    """One cell as the document declares it."""

    text: str  # whitespace collapsed
    row: int  # 0-based top row in the table grid
    col: int  # 0-based left column in the table grid
    row_span: int = 1
    col_span: int = 1


@dataclass
class TableBlock:
    """A table on a row/column grid; cells do not overlap."""

    n_rows: int
    n_cols: int
    cells: list[SourceCell] = field(default_factory=list)

    def text(self) -> str:
        return " ".join(c.text for c in self.cells)


Block = Paragraph | TableBlock


def place_rows(rows: list[list[tuple[str, int, int]]]) -> TableBlock:
    """A grid from rows of (text, row span, column span), placed as HTML places them.

    Each cell goes to the first column of its row not yet covered by a cell spanning down from
    a row above (the HTML table algorithm); spans running past the last row are cut there.

    Args:
        rows: the table's rows top to bottom, each its cells left to right.

    Returns:
        The table; a row without cells is kept as an empty grid row.
    """
    taken: set[tuple[int, int]] = set()
    cells: list[SourceCell] = []
    n_rows = len(rows)
    for r, row in enumerate(rows):
        c = 0
        for text, row_span, col_span in row:
            while (r, c) in taken:
                c += 1
            row_span = max(1, min(row_span, n_rows - r))
            col_span = max(1, col_span)
            for rr in range(r, r + row_span):
                for cc in range(c, c + col_span):
                    taken.add((rr, cc))
            cells.append(SourceCell(text=text, row=r, col=c, row_span=row_span, col_span=col_span))
            c += col_span
    n_cols = max((c for _, c in taken), default=-1) + 1
    return TableBlock(n_rows=n_rows, n_cols=n_cols, cells=cells)
