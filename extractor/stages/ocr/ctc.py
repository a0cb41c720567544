"""The PP-OCR recogniser run on ONNX Runtime by us, and the decoders of its CTC output.

rapidocr decodes the recogniser's output greedily over its whole vocabulary (18,708 characters)
and keeps one reading. A value cell can only hold a handful of characters, so for value cells
the same output is also decoded over that alphabet alone, keeping the k most probable readings
with their probabilities (a CTC prefix beam search): the assembler and the accounting identities
choose among them (`extractor.stages.validate.joint`).

The model is the one rapidocr ships (PP-OCRv6 small); its input is prepared exactly as rapidocr
prepares it (BGR, 48 px high, batches of similar width padded to the widest), so the greedy
reading over the full vocabulary is the one rapidocr gives.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

_log = logging.getLogger(__name__)

# What a value cell may print: digits (ASCII and full-width), the marks printed for zero or for
# nothing to report, signs, separators and the percent sign. Anything else in a value cell is a
# misreading or dirt.
VALUE_ALPHABET = "0123456789０１２３４５６７８９.,+-−—–/无零%．，＋－／％"
# Longest greedy reading of a crop that is decoded over the value alphabet too: the longest value
# printed (a 万元 amount such as "12345.6789") with a few misread marks. Longer crops are labels.
MAX_VALUE_CHARS = 14
# Recogniser input height (px), as the model was trained.
_HEIGHT = 48
# Output frames per input pixel of width (the model downsamples the width by 8).
_STRIDE = 8


@dataclass(frozen=True)
class CtcReading:
    """One crop's reading."""

    text: str  # greedy reading over the full vocabulary (as rapidocr gives it)
    score: float  # mean probability of its characters (rapidocr's score)
    candidates: tuple[tuple[str, float], ...]  # k best readings over the value alphabet, most probable first;
    # empty when they were not asked for


class CtcRecogniser:
    """PP-OCR text-line recognition on ONNX Runtime, returning per-frame character probabilities.

    Args:
        model_path: the recogniser's ONNX file; its vocabulary is read from the file's metadata.
        threads: ONNX Runtime intra-op threads.
        min_width: narrowest width (px at 48 high) a batch is padded to.
        batch_size: crops per session run (crops are sorted by width first).
    """

    def __init__(self, model_path: Path, threads: int = 1, min_width: int = 96, batch_size: int = 6) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        keys = self._session.get_modelmeta().custom_metadata_map.get("character")
        if not keys:
            raise ValueError(f"{model_path} carries no character list in its metadata")
        # Index 0 is CTC's blank; the last index is a space (PaddleOCR's convention).
        self.charset: list[str] = ["", *keys.splitlines(), " "]
        self.value_indices = np.array(
            [0] + [i for i, ch in enumerate(self.charset) if ch and ch in VALUE_ALPHABET], dtype=np.int64
        )
        self.min_width = min_width
        self.batch_size = batch_size

    def probabilities(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Per crop (BGR, one text line), its (frames × vocabulary) probabilities.

        Crops are sorted by width and run in batches of `batch_size`, each padded to its widest
        crop (at least `min_width`): the model's reading of a crop can depend on that padding, so
        this is done exactly as rapidocr does it.
        """
        out: list[np.ndarray | None] = [None] * len(images)
        order = np.argsort([im.shape[1] / im.shape[0] for im in images], kind="stable")
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            ratio = max([self.min_width / _HEIGHT] + [images[i].shape[1] / images[i].shape[0] for i in batch])
            width = int(_HEIGHT * ratio)
            tensor = np.zeros((len(batch), 3, _HEIGHT, width), dtype=np.float32)
            for row, i in enumerate(batch):
                h, w = images[i].shape[:2]
                resized_w = min(width, math.ceil(_HEIGHT * w / h))
                resized = cv2.resize(images[i], (resized_w, _HEIGHT)).astype(np.float32)
                tensor[row, :, :, :resized_w] = resized.transpose(2, 0, 1) / 127.5 - 1.0
            probs = self._session.run(None, {self._input: tensor})[0]
            for row, i in enumerate(batch):
                out[i] = probs[row]
        return out  # type: ignore[return-value]

    def read(self, images: Sequence[np.ndarray], k: int = 5) -> list[CtcReading]:
        """Each crop's greedy reading, and for a short one (a value cell's) its `k` best
        readings over the value alphabet."""
        readings = []
        for probs in self.probabilities(images):
            text, score = greedy_decode(probs, self.charset)
            short = len(text) <= MAX_VALUE_CHARS
            candidates = value_candidates(probs, self.value_indices, self.charset, k) if short else ()
            readings.append(CtcReading(text, score, candidates))
        return readings


def greedy_decode(probs: np.ndarray, charset: Sequence[str]) -> tuple[str, float]:
    """Best path decoding: the most probable character per frame, repeats merged, blanks dropped.

    Returns:
        The text and the mean probability of its kept frames (0.0 for an empty reading), as
        PaddleOCR and rapidocr compute them.
    """
    best = probs.argmax(axis=1)
    keep = np.ones(len(best), dtype=bool)
    keep[1:] = best[1:] != best[:-1]
    keep &= best != 0
    if not keep.any():
        return "", 0.0
    text = "".join(charset[i] for i in best[keep])
    return text, round(float(np.mean(np.round(probs.max(axis=1)[keep], 5))), 5)


def value_candidates(
    probs: np.ndarray, alphabet: np.ndarray, charset: Sequence[str], k: int = 5, beam: int = 8, floor: float = 1e-3
) -> tuple[tuple[str, float], ...]:
    """The `k` most probable readings of a crop over a restricted alphabet (CTC prefix beam search).

    Every frame's distribution is conditioned on the alphabet (the blank included): the
    probability of the characters outside it is shared out in proportion, so a frame where a "0"
    was read "E" still gives "0" most of its remaining mass. But the readings' probabilities are
    scaled by the alphabet's share of each frame whose best character lies outside it: a "0"
    read "E" (0.6) with "0" second (0.3) is "0" with probability about 0.3, not 0.75, and a
    hollow "0" read "()" is none of its readings. Characters below `floor` in a frame are not
    extended, and `beam` prefixes are kept per frame.

    Args:
        probs: (frames × vocabulary) probabilities of one crop.
        alphabet: vocabulary indices allowed, blank (0) first.
        charset: the vocabulary.

    Returns:
        Up to `k` ``(text, probability)``, most probable first; probabilities are the mass of
        the kept paths of each text (a lower bound) times that share, summing to at most 1.
    """
    sub = probs[:, alphabet].astype(np.float64)
    inside = sub.sum(axis=1)
    sub /= np.maximum(inside[:, None], 1e-12)
    # A frame whose most probable character is one no value cell holds ("E", "(", "尤") is
    # evidence that the crop is misread, not only a hint at the nearest digit: the readings
    # share only the mass those frames give the alphabet, the rest being "none of them".
    outside = probs.argmax(axis=1) != 0
    outside &= ~np.isin(probs.argmax(axis=1), alphabet)
    trust = float(np.prod(inside[outside])) if outside.any() else 1.0
    chars = [charset[i] for i in alphabet]
    # prefix (tuple of alphabet positions) -> (mass ending in blank, mass ending in its last symbol)
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (1.0, 0.0)}
    for frame in sub:
        symbols = [s for s in np.flatnonzero(frame >= floor) if s != 0]
        blank = frame[0]
        grown: dict[tuple[int, ...], list[float]] = {}
        for prefix, (pb, pnb) in beams.items():
            total = pb + pnb
            entry = grown.setdefault(prefix, [0.0, 0.0])
            entry[0] += total * blank
            for s in symbols:
                p = frame[s]
                if prefix and prefix[-1] == s:
                    # The same symbol again without a blank between is the same character.
                    entry[1] += pnb * p
                    longer = grown.setdefault(prefix + (s,), [0.0, 0.0])
                    longer[1] += pb * p
                else:
                    longer = grown.setdefault(prefix + (int(s),), [0.0, 0.0])
                    longer[1] += total * p
        kept = sorted(grown.items(), key=lambda kv: kv[1][0] + kv[1][1], reverse=True)[:beam]
        beams = {prefix: (pb, pnb) for prefix, (pb, pnb) in kept}
    ranked = sorted(((sum(m), prefix) for prefix, m in beams.items()), reverse=True)[:k]
    return tuple(
        ("".join(chars[s] for s in prefix), round(float(mass * trust), 6)) for mass, prefix in ranked if mass * trust > 0
    )
