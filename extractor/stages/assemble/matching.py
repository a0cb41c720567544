"""Fuzzy matching of printed labels to template labels."""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher

from extractor.stages.assemble.text import label_key


def similarity(printed: str, official: str) -> float:
    """How alike two labels are, in [0, 1], after normalisation.

    Containment counts as a strong match: reports shorten or extend labels
    (规范性文件 / 行政规范性文件, 予以公开 / （一）予以公开).
    """
    a, b = label_key(printed), label_key(official)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    ratio = SequenceMatcher(None, a, b, autojunk=False).ratio()
    if len(a) >= 2 and len(b) >= 2 and (a in b or b in a):
        ratio = max(ratio, 0.75 + 0.25 * min(len(a), len(b)) / max(len(a), len(b)))
    return ratio


def align(scores: Sequence[Sequence[float]], threshold: float) -> dict[int, int]:
    """Monotonic alignment of printed rows to template rows.

    Args:
        scores: ``scores[i][j]`` is the similarity of printed row i to template row j.
        threshold: pairs below it are never matched.

    Returns:
        ``{printed index: template index}``, increasing in both, maximising the summed score.
        Rows on either side may stay unmatched (extra or missing rows).
    """
    n = len(scores)
    m = len(scores[0]) if n else 0
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            take = scores[i][j] + best[i + 1][j + 1] if scores[i][j] >= threshold else -1.0
            best[i][j] = max(take, best[i + 1][j], best[i][j + 1])
    out: dict[int, int] = {}
    i = j = 0
    while i < n and j < m:
        if scores[i][j] >= threshold and best[i][j] == scores[i][j] + best[i + 1][j + 1]:
            out[i] = j
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return out
