import hashlib

import numpy as np
import pytest

from extractor.datamodel import BBox, Cell, Table
from extractor.stages.classify import ClassifyOptions, ClassifyStage
from extractor.stages.classify.features import CELL, CLS, IGNORE, MASK, SEP, encode_table
from models.data import LabelledDocument
from models.pretrain import PretrainConfig, mask_sequence, pretrain
from models.train import TrainConfig, build_vocab, train

_ROWS = ("本年新收政府信息公开申请数量", "上年结转政府信息公开申请数量", "予以公开", "部分公开", "不予公开")


def _table():
    """A label column and two number columns, five rows under a two-cell header."""
    cells = [_cell(0, 0, "申请人情况"), _cell(0, 1, "自然人"), _cell(0, 2, "总计")]
    for r, label in enumerate(_ROWS, start=1):
        cells += [_cell(r, 0, label), _cell(r, 1, str(r)), _cell(r, 2, str(2 * r))]
    return Table(n_rows=6, n_cols=3, cells=cells, pages=[0], bbox=BBox(x1=0, y1=0, x2=150, y2=120))


def _cell(row, col, text):
    return Cell(row=row, col=col, text=text, page=0, bbox=BBox(x1=col * 50, y1=row * 20, x2=col * 50 + 50, y2=row * 20 + 20))


def _doc():
    table = _table()
    labels = ["value" if c.text.isdigit() else "O" for c in table.cells]
    return LabelledDocument(doc_id="t", truth=None, pages=[], tables=[table], labels=[labels])


_TINY = dict(hidden=32, layers=1, heads=2, batch=4, threads=1, warmup=2)


def test_masking_hides_whole_cells_and_never_the_cell_markers():
    # One encoded table, masked with a fixed seed.
    # Masked positions cover every character of the chosen cells; [CLS]/[SEP]/[CELL] keep their ids.
    vocab = build_vocab([_doc()])
    (seq,) = encode_table(_table(), vocab)
    inputs, targets = mask_sequence(seq, vocab, np.random.default_rng(3))
    masked_cells = {c for c, t in zip(seq.cell_index, targets) if t != IGNORE}
    assert masked_cells
    for k, (tok, cell) in enumerate(zip(seq.input_ids, seq.cell_index)):
        if tok in (vocab[CLS], vocab[SEP], vocab[CELL]):
            assert targets[k] == IGNORE and inputs[k] == tok
        elif cell in masked_cells:
            assert targets[k] == tok
    assert vocab[MASK] in inputs


def test_masking_is_deterministic_given_the_seed():
    # The same sequence masked twice with generators of one seed, once with another seed.
    # Same seed: identical inputs and targets; the draws depend on nothing else.
    vocab = build_vocab([_doc()])
    (seq,) = encode_table(_table(), vocab)
    a = mask_sequence(seq, vocab, np.random.default_rng(5))
    assert a == mask_sequence(seq, vocab, np.random.default_rng(5))


@pytest.mark.ml
def test_pretraining_lowers_the_masked_loss_and_the_checkpoint_fine_tunes(tmp_path):
    # A tiny encoder pre-trained on one table for 100 steps, then fine-tuned from its checkpoint.
    # The masked-token loss falls; the checkpoint's vocabulary is kept and the classifier loads and predicts.
    doc = _doc()
    result = pretrain([doc], tmp_path / "mlm", PretrainConfig(steps=100, **_TINY))
    assert result.steps == 100 and not result.stopped_by_clock
    assert result.losses[-1] < result.losses[0]
    train([doc], tmp_path / "clf", TrainConfig(steps=2, minutes=1, base_model=tmp_path / "mlm", **_TINY))
    assert (tmp_path / "clf" / "vocab.json").read_text() == (tmp_path / "mlm" / "vocab.json").read_text()
    (pred,) = ClassifyStage(ClassifyOptions(artifacts_path=tmp_path / "clf", threads=1)).predict([doc.tables[0]])
    assert len(pred.cells) == len(doc.tables[0].cells)


@pytest.mark.ml
def test_training_twice_with_one_seed_gives_identical_weights(tmp_path):
    # Two tiny training runs of the same config and data, one thread each.
    # Bit-identical weights: reproduction depends on the seed and the step count, not on the clock.
    doc = _doc()
    digests = []
    for name in ("a", "b"):
        train([doc], tmp_path / name, TrainConfig(steps=5, minutes=5, seed=7, **_TINY))
        digests.append(hashlib.sha256((tmp_path / name / "model.safetensors").read_bytes()).hexdigest())
    assert digests[0] == digests[1]


@pytest.mark.ml
def test_a_run_cut_by_the_clock_says_so(tmp_path):
    # A training run whose safety limit is zero minutes: it stops before its first step.
    # The result records that the clock, not the step count, ended it.
    result = train([_doc()], tmp_path, TrainConfig(steps=5, minutes=0.0, **_TINY))
    assert result.steps == 0 and result.stopped_by_clock


@pytest.mark.ml
def test_train_and_evaluate_pretraining_records_what_it_ran(tmp_path):
    # The pre-training step of `nianbao train --pretrain-steps 3` with a tiny encoder shape.
    # Its record names the checkpoint, the encoder shape and seed taken from the training config, and the steps run.
    from models.run import pretrain_encoder

    record = pretrain_encoder([_doc()], tmp_path / "mlm", TrainConfig(seed=4, **_TINY), steps=3)
    assert record["checkpoint"] == str(tmp_path / "mlm") and (tmp_path / "mlm" / "model.safetensors").is_file()
    assert (record["config"]["seed"], record["config"]["hidden"], record["config"]["steps"]) == (4, 32, 3)
    assert record["result"]["steps"] == 3 and not record["result"]["stopped_by_clock"]
