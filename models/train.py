"""Train the cell classifier: LayoutLM token classification over cell characters and grid boxes.

Deterministic given the seed (data order, noise, initialisation; torch runs on CPU with a fixed
number of threads). The run's length is `steps`; `minutes` is a safety limit only: a run it stops
is recorded (``stopped_by_clock``) because where it stops depends on how busy the CPU was, so
such a run cannot be reproduced.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from extractor.datamodel import Table
from extractor.stages.assemble.text import nfkc
from extractor.stages.classify.features import IGNORE, PAD, SPECIAL_TOKENS, Sequence, encode_table
from extractor.stages.classify.labels import OTHER, VALUE
from extractor.stages.classify.stage import VOCAB_FILE
from extractor.templates import get_template, list_templates
from models.data import UNLABELLED, LabelledDocument
from models.noise import ocr_noise

_log = logging.getLogger(__name__)

# Share of training tables whose cell text gets OCR noise in a given epoch.
NOISY_SHARE = 0.6
# Share of training tables cut to a random run of rows in a given epoch (page splits).
CROP_SHARE = 0.5
# Labels kept first in the label list, whatever the data holds.
_FIRST_LABELS = (OTHER, VALUE)


@dataclass
class EncoderRunConfig:
    """Encoder shape and optimiser of one run: shared by fine-tuning and MLM pre-training."""

    seed: int = 0  # initialisation, data order and noise / masking
    hidden: int = 128  # hidden size
    layers: int = 2  # transformer layers
    heads: int = 4  # attention heads
    batch: int = 16  # sequences per step
    lr: float = 1e-3  # peak learning rate (AdamW, linear warm-up then decay)
    warmup: int = 40  # warm-up steps
    steps: int = 1500  # the run's length: it stops here
    minutes: float = 20.0  # safety limit on wall-clock time (a run it stops is not reproducible)
    threads: int = 2  # torch CPU threads


@dataclass
class TrainConfig(EncoderRunConfig):
    """Hyper-parameters of one training run."""

    base_model: Path | None = None  # fine-tune from this local checkpoint (its vocabulary is kept)


@dataclass
class TrainResult:
    steps: int
    seconds: float
    losses: list[float] = field(default_factory=list)  # mean loss per 50 steps
    stopped_by_clock: bool = False  # True: `minutes` ran out before `steps` (not reproducible)


def build_vocab(docs: list[LabelledDocument]) -> dict[str, int]:
    """Special tokens, then every character of the template labels and of the training tables."""
    chars: Counter[str] = Counter()
    for tid in list_templates():
        for f in get_template(tid).fields.values():
            chars.update(ch for label in (f.row_label, f.col_label) for ch in nfkc(label or "") if not ch.isspace())
    for doc in docs:
        for table in doc.tables:
            for cell in table.cells:
                chars.update(ch for ch in nfkc(cell.text) if not ch.isspace())
    chars.update("0123456789")
    ordered = list(SPECIAL_TOKENS) + sorted(ch for ch in chars if ch not in SPECIAL_TOKENS)
    return {tok: i for i, tok in enumerate(ordered)}


def build_labels(docs: list[LabelledDocument]) -> list[str]:
    seen = {label for doc in docs for labels in doc.labels for label in labels}
    return list(_FIRST_LABELS) + sorted(seen - set(_FIRST_LABELS) - {UNLABELLED})


def _examples(docs: list[LabelledDocument]):
    """(table, its cell labels) for every table holding at least one template role (unlabelled cells are none)."""
    return [(t, labels) for doc in docs for t, labels in zip(doc.tables, doc.labels)
            if any(l not in (OTHER, UNLABELLED) for l in labels)]


def crop_rows(table: Table, labels: list[str], rng: np.random.Generator) -> tuple[Table, list[str]]:
    """A random run of whole rows of `table`, renumbered from 0: the part printed on one page.

    Reports split long tables at any row and may or may not repeat the header, so the model
    must not tie a row's role to where it sits in the grid.
    """
    if table.n_rows < 4:
        return table, labels
    start = int(rng.integers(0, table.n_rows - 2))
    stop = int(rng.integers(start + 2, table.n_rows + 1))
    keep = [(c, l) for c, l in zip(table.cells, labels) if c.row >= start and c.row + c.row_span <= stop]
    if not keep:
        return table, labels
    cells = [c.model_copy(update={"row": c.row - start}) for c, _ in keep]
    return table.model_copy(update={"cells": cells, "n_rows": stop - start}), [l for _, l in keep]


def _token_labels(seq: Sequence, cell_labels: list[int]) -> list[int]:
    return [cell_labels[c] if c >= 0 else IGNORE for c in seq.cell_index]


def train(docs: list[LabelledDocument], out: Path, config: TrainConfig) -> TrainResult:
    """Train on `docs` and write the model, its vocabulary and labels into `out`.

    Args:
        docs: labelled training reports (:func:`models.data.load_documents`).
        out: artifacts folder (created): ``config.json``, ``model.safetensors``, ``vocab.json``.
        config: hyper-parameters.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import LayoutLMConfig, LayoutLMForTokenClassification

    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    labels = build_labels(docs)
    label_id = {l: i for i, l in enumerate(labels)}
    if config.base_model:
        vocab = json.loads((Path(config.base_model) / VOCAB_FILE).read_text(encoding="utf-8"))
        model = LayoutLMForTokenClassification.from_pretrained(
            config.base_model, local_files_only=True, num_labels=len(labels), ignore_mismatched_sizes=True,
            id2label=dict(enumerate(labels)), label2id=label_id,
        )
    else:
        vocab = build_vocab(docs)
        model = LayoutLMForTokenClassification(LayoutLMConfig(
            vocab_size=len(vocab), hidden_size=config.hidden, num_hidden_layers=config.layers,
            num_attention_heads=config.heads, intermediate_size=4 * config.hidden, max_position_embeddings=512,
            max_2d_position_embeddings=1024, type_vocab_size=1, pad_token_id=vocab[PAD],
            num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label_id,
        ))
    examples = _examples(docs)
    _log.info("training on %d tables, %d labels, vocabulary %d, %.2f M parameters",
              len(examples), len(labels), len(vocab), sum(p.numel() for p in model.parameters()) / 1e6)
    optim = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: min(1.0, (s + 1) / config.warmup) * max(0.05, 1 - s / config.steps)
    )
    model.train()
    started, step, losses, window = time.perf_counter(), 0, [], []
    batch: list[tuple[Sequence, list[int]]] = []
    while step < config.steps and time.perf_counter() - started < 60 * config.minutes:
        for k in rng.permutation(len(examples)):
            table, cell_labels = examples[k]
            if rng.random() < CROP_SHARE:
                table, cell_labels = crop_rows(table, cell_labels, rng)
            texts = None
            if rng.random() < NOISY_SHARE:
                texts = [ocr_noise(c.text, rng, scale=float(rng.uniform(0.3, 1.5))) for c in table.cells]
            ids = [IGNORE if l == UNLABELLED else label_id[l] for l in cell_labels]
            pieces = [(s, _token_labels(s, ids)) for s in encode_table(table, vocab, texts)]
            # A piece of a reviewed report may hold no labelled cell: it adds nothing, and a
            # batch of only such pieces would have no loss at all.
            batch += [(s, t) for s, t in pieces if any(x != IGNORE for x in t)]
            if len(batch) < config.batch:
                continue
            loss = _step(model, optim, schedule, batch[: config.batch], vocab[PAD], torch)
            batch = batch[config.batch :]
            window.append(loss)
            step += 1
            if step % 50 == 0:
                losses.append(round(float(np.mean(window)), 4))
                window = []
                _log.info("step %d loss %.4f (%.0f s)", step, losses[-1], time.perf_counter() - started)
            if step >= config.steps or time.perf_counter() - started >= 60 * config.minutes:
                break
    clock_out = step < config.steps
    if clock_out:
        _log.warning("training stopped by the %.0f-minute limit at step %d of %d: not reproducible",
                     config.minutes, step, config.steps)
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    (out / VOCAB_FILE).write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    return TrainResult(steps=step, seconds=round(time.perf_counter() - started, 1), losses=losses,
                       stopped_by_clock=clock_out)


def _step(model, optim, schedule, batch, pad_id: int, torch) -> float:
    width = max(len(s.input_ids) for s, _ in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    boxes = torch.zeros((len(batch), width, 4), dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    target = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    for b, (s, labels) in enumerate(batch):
        n = len(s.input_ids)
        ids[b, :n] = torch.tensor(s.input_ids)
        boxes[b, :n] = torch.tensor(s.bbox)
        mask[b, :n] = 1
        target[b, :n] = torch.tensor(labels)
    loss = model(input_ids=ids, bbox=boxes, attention_mask=mask, labels=target).loss
    optim.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optim.step()
    schedule.step()
    return float(loss.detach())
