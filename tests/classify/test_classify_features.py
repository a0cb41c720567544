import numpy as np

from extractor.datamodel import BBox, Cell, Table
from extractor.stages.classify.features import CELL, MAX_SEQ_LEN, NUM, SPECIAL_TOKENS, cell_tokens, encode_table
from models.noise import ocr_noise


def _table(n_rows, n_cols, text):
    cells = [
        Cell(row=r, col=c, text=text, bbox=BBox(x1=c, y1=r, x2=c + 1, y2=r + 1), page=0)
        for r in range(n_rows) for c in range(n_cols)
    ]
    return Table(n_rows=n_rows, n_cols=n_cols, cells=cells, pages=[0], bbox=BBox(x1=0, y1=0, x2=9, y2=9))


def test_number_cells_are_one_token_and_labels_are_characters():
    # A value cell (with separators) and a label cell.
    # The number is [NUM]; the label is [CELL] then its NFKC characters without spaces.
    assert cell_tokens("1,234") == [NUM]
    assert cell_tokens("（一） 予以公开") == [CELL, "(", "一", ")", "予", "以", "公", "开"]
    assert cell_tokens("") == [CELL, "[EMPTY]"]


def test_long_table_splits_into_sequences_covering_each_cell_once():
    # A 40 × 10 table of label text is longer than one sequence.
    # It splits at cell boundaries; every cell appears in exactly one sequence, boxes in 0–1000.
    vocab = {tok: i for i, tok in enumerate(SPECIAL_TOKENS + tuple("规章"))}
    table = _table(40, 10, "规章规章")
    seqs = encode_table(table, vocab)
    assert len(seqs) > 1 and all(len(s.input_ids) <= MAX_SEQ_LEN for s in seqs)
    owners = [c for s in seqs for c in dict.fromkeys(s.cell_index) if c >= 0]
    assert sorted(owners) == list(range(len(table.cells)))
    last = seqs[-1].bbox[-2]
    assert last == [900, 975, 1000, 1000]


def test_ocr_noise_is_deterministic_and_off_at_scale_zero():
    # Noise drawn twice from the same seed, and once at scale 0.
    # Same seed gives the same text; scale 0 returns the text unchanged.
    text = "1．属于国家秘密 106"
    a = ocr_noise(text * 20, np.random.default_rng(3))
    assert a == ocr_noise(text * 20, np.random.default_rng(3)) and a != text * 20
    assert ocr_noise(text, np.random.default_rng(3), scale=0.0) == text
