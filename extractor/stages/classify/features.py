"""Turn a table grid into model inputs: character tokens with the grid box of their cell.

One table becomes one or more sequences. Each cell contributes a ``[CELL]`` marker followed by
the characters of its text (NFKC, whitespace removed, at most :data:`MAX_CELL_CHARS`); an empty
cell contributes ``[CELL] [EMPTY]`` and a number (digits, separators, a sign) the single token
``[NUM]``: value cells are most of a table, and their digits say nothing about their role, so
one token each keeps sequences short enough to train on two CPU cores. Every token carries its cell's *grid* box, normalised to
0–1000 over the table (x from columns, y from rows), not its page box: a table joined across
pages then has one frame, and the model sees row/column structure directly.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from extractor.datamodel import Cell, Table
from extractor.stages.assemble.text import nfkc

_log = logging.getLogger(__name__)

# Special tokens, in vocabulary order (ids 0..6).
PAD, UNK, CLS, SEP, CELL, EMPTY, MASK, NUM = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[CELL]", "[EMPTY]", "[MASK]", "[NUM]"
SPECIAL_TOKENS = (PAD, UNK, CLS, SEP, CELL, EMPTY, MASK, NUM)
# Characters kept per cell: the template's row labels differ within their first 10 characters.
MAX_CELL_CHARS = 10
# Longest sequence (tokens, [CLS] and [SEP] included); longer tables are split at cell boundaries.
MAX_SEQ_LEN = 256
# A cell that is only a number: digits with separators, a decimal point or a sign.
_NUMBER = re.compile(r"^[+\-−]?[\d,，.．]*\d[\d,，.．]*$")
# Label of a token that is not scored (special tokens), as torch's cross-entropy expects.
IGNORE = -100


@dataclass(frozen=True)
class Sequence:
    """One model input built from (part of) a table."""

    input_ids: list[int]  # token ids, [CLS] first and [SEP] last
    bbox: list[list[int]]  # per token [x1, y1, x2, y2] on the 0–1000 grid frame
    cell_index: list[int]  # per token the index of its cell in table.cells; -1 for [CLS]/[SEP]


def cell_tokens(text: str) -> list[str]:
    """The tokens of a cell: ``[NUM]`` for a number, else ``[CELL]`` and its first characters."""
    chars = [ch for ch in nfkc(text) if not ch.isspace()]
    if _NUMBER.match("".join(chars)):
        return [NUM]
    return [CELL] + (chars[:MAX_CELL_CHARS] or [EMPTY])


def grid_box(cell: Cell, table: Table) -> list[int]:
    """The cell's box in grid units scaled to 0–1000 (LayoutLM's 2-D position range)."""
    rows, cols = max(table.n_rows, 1), max(table.n_cols, 1)
    return [
        min(1000, round(1000 * cell.col / cols)),
        min(1000, round(1000 * cell.row / rows)),
        min(1000, round(1000 * (cell.col + cell.col_span) / cols)),
        min(1000, round(1000 * (cell.row + cell.row_span) / rows)),
    ]


def encode_table(table: Table, vocab: dict[str, int], texts: list[str] | None = None) -> list[Sequence]:
    """Model inputs for one table.

    Args:
        table: the grid.
        vocab: token → id; unknown characters map to ``[UNK]``.
        texts: cell texts to use instead of ``cell.text`` (training feeds OCR-noised text here).

    Returns:
        Sequences covering every cell exactly once, in the order of ``table.cells``.
    """
    unk = vocab[UNK]
    pieces: list[tuple[int, list[int], list[int]]] = []  # (cell index, token ids, box)
    for i, cell in enumerate(table.cells):
        text = cell.text if texts is None else texts[i]
        ids = [vocab.get(tok, unk) for tok in cell_tokens(text)]
        pieces.append((i, ids, grid_box(cell, table)))
    sequences: list[Sequence] = []
    ids, boxes, owner = [vocab[CLS]], [[0, 0, 0, 0]], [-1]
    for i, cell_ids, box in pieces:
        if len(ids) + len(cell_ids) + 1 > MAX_SEQ_LEN:
            sequences.append(_close(ids, boxes, owner, vocab))
            ids, boxes, owner = [vocab[CLS]], [[0, 0, 0, 0]], [-1]
        ids += cell_ids
        boxes += [box] * len(cell_ids)
        owner += [i] * len(cell_ids)
    if len(ids) > 1 or not sequences:
        sequences.append(_close(ids, boxes, owner, vocab))
    return sequences


def _close(ids: list[int], boxes: list[list[int]], owner: list[int], vocab: dict[str, int]) -> Sequence:
    return Sequence(input_ids=ids + [vocab[SEP]], bbox=boxes + [[1000, 1000, 1000, 1000]], cell_index=owner + [-1])
