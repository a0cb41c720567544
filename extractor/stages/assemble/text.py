"""Text normalisation for matching printed labels to template labels."""

from __future__ import annotations

import re
import unicodedata

# Leading item numbering: （一） (一) 一、 1. 1、 1． 1: what differs between reports, not what a row means.
# On a scan the numeral in brackets is misread ("(→)", "(t)", "(广)") and the dot after a digit lost
# ("2 重复申请"); no label starts with one or two characters in brackets or a digit and a space.
# Brackets are misread as one another ("(六》"): any opening and closing bracket counts.
_NUMBERING = re.compile(
    r"^\s*(?:[（(《〈<\[【][^()（）《》〈〉<>\[\]【】\s]{1,2}[)）》〉>\]】]|[一二三四五六七八九十]+[、.．]|\d+\s*[、.．:：]|\d+\s+(?=\D))\s*"
)
# Characters that carry no meaning for label matching (spaces, punctuation, brackets, quotes).
_NOISE = re.compile(r"[\s\u3000,，、.．。:：;；“”\"'‘’()（）\[\]【】<>《》/\\\-—_·•]+")


def nfkc(text: str) -> str:
    """NFKC-normalise: full-width digits and Kangxi radicals (⼀ ⾏) become ordinary characters."""
    return unicodedata.normalize("NFKC", text)


def strip_numbering(text: str) -> str:
    """Drop one level of leading item numbering such as （三） or 1、."""
    return _NUMBERING.sub("", text, count=1)


def compact(text: str) -> str:
    """A label reduced to its meaningful characters, for fuzzy comparison."""
    return _NOISE.sub("", nfkc(text))


def label_key(text: str) -> str:
    """Compact form of a label without its leading numbering (applied repeatedly)."""
    previous = None
    text = nfkc(text).strip()
    while previous != text:
        previous = text
        text = strip_numbering(text)
    return compact(text)
