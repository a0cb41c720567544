"""Calibration of the classifier's field score: raw score → probability that the field is right.

The map is monotone piecewise-linear through points fitted on held-out generated reports
(``calibration.json`` in the artifacts folder, written by ``nianbao train``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

_log = logging.getLogger(__name__)

# The calibration file of an artifacts folder.
CALIBRATION_FILE = "calibration.json"


class Calibration:
    """A monotone map from raw score to probability, through (score, probability) points."""

    def __init__(self, scores: list[float], probs: list[float]) -> None:
        self.scores = [float(s) for s in scores]
        self.probs = [float(p) for p in probs]

    def __call__(self, score: float) -> float:
        if not self.scores:
            return score
        # Below the lowest fitted score there is no evidence: fall linearly to 0 at score 0
        # rather than extend the lowest bin's accuracy to scores never seen.
        xs, ys = self.scores, self.probs
        if xs[0] > 0:
            xs, ys = [0.0, *xs], [0.0, *ys]
        return float(np.interp(score, xs, ys))

    @classmethod
    def fit(cls, scores: list[float], right: list[bool], bins: int = 10) -> Calibration:
        """Fit on raw scores and outcomes: equal-count bins, then pool adjacent violators.

        Args:
            scores: raw field scores in [0, 1].
            right: whether each field was read correctly.
            bins: number of equal-count bins (fewer when there are few scores).
        """
        order = np.argsort(scores)
        s, y = np.asarray(scores, float)[order], np.asarray(right, float)[order]
        chunks = [c for c in np.array_split(np.arange(len(s)), min(bins, len(s))) if len(c)]
        blocks = [[float(s[c].mean()), float(y[c].mean()), len(c)] for c in chunks]
        merged: list[list[float]] = []
        for block in blocks:  # pool adjacent violators: the probability never falls as the score rises
            merged.append(block)
            while len(merged) > 1 and merged[-2][1] > merged[-1][1]:
                b = merged.pop()
                a = merged.pop()
                n = a[2] + b[2]
                merged.append([(a[0] * a[2] + b[0] * b[2]) / n, (a[1] * a[2] + b[1] * b[2]) / n, n])
        return cls([round(m[0], 4) for m in merged], [round(m[1], 4) for m in merged])

    def save(self, folder: Path) -> None:
        (Path(folder) / CALIBRATION_FILE).write_text(
            json.dumps({"scores": self.scores, "probs": self.probs}) + "\n", encoding="utf-8"
        )

    @classmethod
    def load(cls, folder: Path) -> Calibration | None:
        """The folder's calibration, or None when it has none (raw scores are used)."""
        path = Path(folder) / CALIBRATION_FILE
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["scores"], data["probs"])
