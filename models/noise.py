"""OCR-like noise on cell text, so a model trained on digital reports copes with scans.

Rates follow what RapidOCR does to scanned report tables (FINDINGS.md): most cells are read
exactly; errors are look-alike digits (0/8, 1/7, 6/9, 3/8, 5/6), look-alike characters, a dropped
character or a stray space.
"""

from __future__ import annotations

import numpy as np

# Characters OCR confuses, both ways.
_CONFUSIONS = [
    ("0", "8"), ("1", "7"), ("6", "9"), ("3", "8"), ("5", "6"), ("1", "l"),
    ("己", "已"), ("未", "末"), ("人", "入"), ("土", "士"), ("日", "曰"), ("戊", "戌"),
    ("（", "("), ("）", ")"), ("、", "，"), ("．", "."), ("一", "-"), ("口", "□"),
]
_SWAP = {a: b for a, b in _CONFUSIONS} | {b: a for a, b in _CONFUSIONS}
# Per-character probability of a substitution (where a look-alike exists), a drop, a space.
SUBSTITUTE, DROP, SPACE = 0.08, 0.02, 0.02


def ocr_noise(text: str, rng: np.random.Generator, scale: float = 1.0) -> str:
    """`text` as a noisy OCR engine might read it.

    Args:
        text: the printed text.
        rng: the caller's generator (training is deterministic given its seed).
        scale: multiplies every rate (0 returns `text` unchanged).
    """
    out = []
    for ch in text:
        u = rng.random()
        if ch in _SWAP and u < SUBSTITUTE * scale:
            out.append(_SWAP[ch])
        elif u > 1 - DROP * scale:
            continue
        else:
            out.append(ch)
        if rng.random() < SPACE * scale:
            out.append(" ")
    return "".join(out)
