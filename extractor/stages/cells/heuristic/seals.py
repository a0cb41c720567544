"""A red seal stamped over a cell, taken out of its crop."""

from __future__ import annotations

import logging

import numpy as np

from extractor.stages.grid.lines import seal_mask

_log = logging.getLogger(__name__)

# In the red channel, seal ink is paler than this share of the paper; print under a seal darker.
_SEAL_RED = 0.6


def without_seal(crop: np.ndarray, min_ink: float) -> np.ndarray | None:
    """The crop in grey without a red seal's ink, or None when no seal crosses it (fewer than
    `min_ink` pixels of red ink).

    A seal stamped over a table turns a label or a value into one blot of grey. Black print
    under a seal stays dark (ink multiplies), but is reddish. The red channel keeps the print
    and shows the seal pale, down to the pink of its edges; the seal's own red pixels, those
    paler there than print, are made paper. (Measured on seals stamped over generated tables:
    at 0.7 of the paper's red, pieces of the seal were left as ink; at 0.6 none were, and grey
    digits under it kept their strokes.)
    """
    red = seal_mask(crop)
    if np.count_nonzero(red) < min_ink:
        return None
    out = crop[:, :, 0].copy()
    paper = np.percentile(out, 90)
    out[red & (out > _SEAL_RED * paper)] = paper
    return out
