"""Masked-language-model pre-training of the cell classifier's encoder on generated table text.

The classifier is trained from scratch on a few thousand tables; issue #6 asks whether first
learning the table text itself (which characters make up a label, which label sits where in the
grid) helps. :func:`pretrain` trains ``LayoutLMForMaskedLM`` with the same encoder shape, the
same inputs (:func:`extractor.stages.classify.features.encode_table`) and the same vocabulary as
:func:`models.train.train`, and writes a checkpoint that ``nianbao train --base-model DIR``
fine-tunes (the encoder weights load into ``LayoutLMForTokenClassification``; the head is new).

Masking is by whole cell: a label's characters are predicted from the grid position and the
other cells, not from the neighbouring characters of the same label, which is the knowledge the
role classifier needs. Deterministic given the seed, like training.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from extractor.stages.classify.features import CELL, CLS, IGNORE, MASK, PAD, SEP, SPECIAL_TOKENS, Sequence, encode_table
from extractor.stages.classify.stage import VOCAB_FILE
from models.data import LabelledDocument
from models.train import CROP_SHARE, EncoderRunConfig, build_vocab, crop_rows

_log = logging.getLogger(__name__)

# Share of cells whose tokens are all masked in a sequence (BERT masks 15% of tokens).
MASK_SHARE = 0.15
# Of the masked tokens: share replaced by [MASK], then by a random token; the rest stay (BERT's 80/10/10).
MASK_TOKEN_SHARE, RANDOM_TOKEN_SHARE = 0.8, 0.1
# The pre-training record written beside the checkpoint.
PRETRAIN_MANIFEST = "pretrain.json"


@dataclass
class PretrainConfig(EncoderRunConfig):
    """Hyper-parameters of one pre-training run (the encoder shape of :class:`models.train.TrainConfig`)."""

    steps: int = 500
    minutes: float = 120.0
    threads: int = 1


@dataclass
class PretrainResult:
    steps: int
    seconds: float
    stopped_by_clock: bool  # True: `minutes` ran out before `steps` (not reproducible)
    losses: list[float] = field(default_factory=list)  # mean masked-token loss per 50 steps
    masked_accuracy: float = 0.0  # share of masked tokens predicted right over the last 50 steps


def mask_sequence(seq: Sequence, vocab: dict[str, int], rng: np.random.Generator) -> tuple[list[int], list[int]]:
    """Inputs and MLM targets of one sequence, masking whole cells.

    Args:
        seq: an encoded (part of a) table.
        vocab: token → id.
        rng: the run's random generator.

    Returns:
        (input ids, target ids): targets are the original ids at masked positions and
        :data:`IGNORE` elsewhere. ``[CELL]`` markers and special tokens are never masked, so the
        model still sees where each cell starts; at least one cell is masked per sequence.
    """
    keep = {vocab[t] for t in (PAD, CLS, SEP, CELL)}
    cells = sorted({c for c in seq.cell_index if c >= 0})
    chosen = {c for c in cells if rng.random() < MASK_SHARE}
    if not chosen and cells:
        chosen = {cells[int(rng.integers(len(cells)))]}
    inputs, targets = list(seq.input_ids), [IGNORE] * len(seq.input_ids)
    for k, (tok, cell) in enumerate(zip(seq.input_ids, seq.cell_index)):
        if cell not in chosen or tok in keep:
            continue
        targets[k] = tok
        draw = rng.random()
        if draw < MASK_TOKEN_SHARE:
            inputs[k] = vocab[MASK]
        elif draw < MASK_TOKEN_SHARE + RANDOM_TOKEN_SHARE:
            inputs[k] = int(rng.integers(len(SPECIAL_TOKENS), len(vocab)))  # an ordinary token (specials come first)
    return inputs, targets


def pretrain(docs: list[LabelledDocument], out: Path, config: PretrainConfig) -> PretrainResult:
    """Pre-train the encoder on every table of `docs` (labels unused) and write the checkpoint.

    Args:
        docs: generated reports (:func:`models.data.load_documents`); their labels are ignored.
        out: checkpoint folder (created): ``config.json``, ``model.safetensors``, ``vocab.json``,
            ``pretrain.json``.
        config: hyper-parameters.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import LayoutLMConfig, LayoutLMForMaskedLM

    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    vocab = build_vocab(docs)
    model = LayoutLMForMaskedLM(LayoutLMConfig(
        vocab_size=len(vocab), hidden_size=config.hidden, num_hidden_layers=config.layers,
        num_attention_heads=config.heads, intermediate_size=4 * config.hidden, max_position_embeddings=512,
        max_2d_position_embeddings=1024, type_vocab_size=1, pad_token_id=vocab[PAD],
    ))
    tables = [(t, [""] * len(t.cells)) for doc in docs for t in doc.tables if t.cells]
    _log.info("pre-training on %d tables, vocabulary %d", len(tables), len(vocab))
    optim = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: min(1.0, (s + 1) / config.warmup) * max(0.05, 1 - s / config.steps)
    )
    model.train()
    started, step, losses, window, hits = time.perf_counter(), 0, [], [], []
    batch: list[tuple[Sequence, list[int], list[int]]] = []
    clock_out = False
    while step < config.steps and not clock_out:
        for k in rng.permutation(len(tables)):
            table, dummy = tables[k]
            if rng.random() < CROP_SHARE:
                table, _ = crop_rows(table, dummy, rng)
            batch += [(s, *mask_sequence(s, vocab, rng)) for s in encode_table(table, vocab)]
            if len(batch) < config.batch:
                continue
            loss, acc = _step(model, optim, schedule, batch[: config.batch], vocab[PAD], torch)
            batch = batch[config.batch :]
            window.append(loss)
            hits.append(acc)
            step += 1
            if step % 50 == 0:
                losses.append(round(float(np.mean(window)), 4))
                window = []
                _log.info("pretrain step %d loss %.4f (%.0f s)", step, losses[-1], time.perf_counter() - started)
            clock_out = time.perf_counter() - started >= 60 * config.minutes
            if step >= config.steps or clock_out:
                break
    if clock_out and step < config.steps:
        _log.warning("pre-training stopped by the %.0f-minute limit at step %d of %d: not reproducible",
                     config.minutes, step, config.steps)
    result = PretrainResult(steps=step, seconds=round(time.perf_counter() - started, 1),
                            stopped_by_clock=clock_out and step < config.steps, losses=losses,
                            masked_accuracy=round(float(np.mean(hits[-50:])) if hits else 0.0, 4))
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    (out / VOCAB_FILE).write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    record = {"config": asdict(config), "result": asdict(result), "tables": len(tables),
              "documents": [d.doc_id for d in docs[:1]] + ([d.doc_id for d in docs[-1:]] if len(docs) > 1 else [])}
    (out / PRETRAIN_MANIFEST).write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return result


def _step(model, optim, schedule, batch, pad_id: int, torch) -> tuple[float, float]:
    width = max(len(s.input_ids) for s, _, _ in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    boxes = torch.zeros((len(batch), width, 4), dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    target = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    for b, (s, inputs, targets) in enumerate(batch):
        n = len(inputs)
        ids[b, :n] = torch.tensor(inputs)
        boxes[b, :n] = torch.tensor(s.bbox)
        mask[b, :n] = 1
        target[b, :n] = torch.tensor(targets)
    output = model(input_ids=ids, bbox=boxes, attention_mask=mask, labels=target)
    optim.zero_grad()
    output.loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optim.step()
    schedule.step()
    scored = target != IGNORE
    acc = float((output.logits.argmax(-1)[scored] == target[scored]).float().mean()) if scored.any() else 0.0
    return float(output.loss.detach()), acc
