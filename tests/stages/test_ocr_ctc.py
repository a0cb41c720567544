"""CTC decoding of the recogniser's output: greedy over the whole vocabulary, n-best over the value alphabet."""

import numpy as np
import pytest

from extractor.stages.ocr.ctc import VALUE_ALPHABET, greedy_decode, value_candidates

# A tiny vocabulary: blank, digits, the letter E and a CJK character the recogniser reads for a zero.
_CHARSET = ["", *"0123456789", "E", "尤"]
_ALPHABET = np.array([0] + [i for i, c in enumerate(_CHARSET) if c and c in VALUE_ALPHABET])


def _frames(*rows: dict[str, float]) -> np.ndarray:
    """(frames × vocabulary) probabilities, the rest of each frame's mass on blank."""
    probs = np.zeros((len(rows), len(_CHARSET)))
    for t, row in enumerate(rows):
        for ch, p in row.items():
            probs[t, _CHARSET.index(ch)] = p
        probs[t, 0] += 1.0 - probs[t].sum()
    return probs


def test_greedy_merges_repeats_and_drops_blanks_like_paddleocr():
    # "1", "1", blank, "1" is the text "11" (a repeat without a blank is one character).
    # The score is the mean probability of the kept frames.
    probs = _frames({"1": 0.9}, {"1": 0.8}, {}, {"1": 0.7})
    assert greedy_decode(probs, _CHARSET) == ("11", pytest.approx(0.8))


def test_a_zero_misread_as_a_letter_is_a_zero_over_the_value_alphabet():
    # The whole vocabulary reads a faint zero "E" (0.6), with "0" second (0.3).
    # Over the value alphabet, "0" is the most probable reading, and "8" a distant second.
    probs = _frames({}, {"E": 0.64, "0": 0.3, "8": 0.05}, {})
    assert greedy_decode(probs, _CHARSET)[0] == "E"
    # Its probability is the alphabet's share of that frame: "E" was the recogniser's first choice.
    (best, p_best), (second, p_second), *_ = value_candidates(probs, _ALPHABET, _CHARSET)
    assert best == "0" and p_best == pytest.approx(0.3, abs=1e-6)
    assert second == "8" and p_second < p_best / 4


def test_a_reading_made_of_characters_no_value_holds_is_none_of_its_readings():
    # A hollow "0" read "(" and ")" (0.8 each, "1" next): the value alphabet would make it "11".
    # Nearly all the mass goes to "none of them", so the reading goes to review.
    probs = _frames({"尤": 0.8, "1": 0.15}, {}, {"尤": 0.8, "1": 0.15})
    readings = value_candidates(probs, _ALPHABET, _CHARSET)
    assert sum(p for _, p in readings) < 0.05


def test_n_best_adds_every_path_of_one_text_and_keeps_a_blank_reading():
    # A frame torn between "1" and blank gives "1" and "" as readings of the cell.
    # "11" needs a blank between its ones; two frames of "1" in a row are one "1".
    probs = _frames({"1": 0.6}, {"1": 0.6})
    readings = dict(value_candidates(probs, _ALPHABET, _CHARSET))
    assert readings["1"] == pytest.approx(0.6 * 0.6 + 2 * 0.6 * 0.4)
    assert readings[""] == pytest.approx(0.4 * 0.4)
    assert "11" not in readings


def test_n_best_probabilities_are_ordered_and_sum_to_at_most_one():
    # Readings come most probable first; they are a share of the probability mass.
    rng = np.random.default_rng(7)
    probs = rng.dirichlet(np.ones(len(_CHARSET)) * 0.3, size=12)
    readings = value_candidates(probs, _ALPHABET, _CHARSET, k=5)
    masses = [p for _, p in readings]
    assert masses == sorted(masses, reverse=True) and sum(masses) <= 1 + 1e-9
    assert all(set(text) <= set(VALUE_ALPHABET) for text, _ in readings)
