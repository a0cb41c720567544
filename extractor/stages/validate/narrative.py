"""Narrative cross-check: numbers the prose states (全年共办理行政许可事项 333 件) against the table.

Reports restate a few table numbers in their prose. A disagreement means either the prose or
the reading of the cell is wrong; either way a person should look at the cell. Only phrasings
that name one field unambiguously are matched: a missed statement costs nothing, a wrongly
attributed one sends a correct field to review.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from extractor.datamodel import PageRecord, reading_lines

_log = logging.getLogger(__name__)

# A number as the prose writes it (333, 12.5), captured as "n".
_N = r"(?P<n>\d+(?:\.\d+)?)"
# Up to a few characters between a keyword and its number, not crossing a clause or another number.
_GAP = r"[^，。；,;：:\d]{0,%d}?"
# Field id → patterns naming it, most specific phrasing first. A pattern must end at the unit.
PATTERNS: dict[str, list[str]] = {
    "apply.carried_over.total": [r"上年结转" + _GAP % 12 + _N + r"件"],
    "apply.carried_forward.total": [r"结转下年度" + _GAP % 8 + _N + r"件"],
    "apply.new_received.total": [
        r"(?:收到|受理|新收)" + _GAP % 10 + r"信息公开申请" + _GAP % 2 + _N + r"件",
    ],
    "apply.total.total": [r"(?:办结|办理完成)" + _GAP % 12 + _N + r"件"],
    "apply.partially_granted.total": [r"部分公开" + _N + r"件"],
    "apply.granted.total": [r"(?<!部分)予以公开" + _GAP % 2 + _N + r"件"],
    "apply.unavailable.not_held.total": [r"不掌握相关政府信息" + _N + r"件"],
    "active.licensing.decisions": [r"行政许可(?:事项|决定)" + _GAP % 2 + _N + r"件"],
    "active.penalty.decisions": [r"行政处罚(?:决定|案件)?" + _N + r"件"],
    "active.coercion.decisions": [r"行政强制(?:措施)?" + _N + r"件"],
    "active.fees.amount": [r"行政事业性收费" + _N + r"万元"],
    "active.normative.issued": [r"制发(?:行政)?规范性文件" + _N + r"件"],
    "active.normative.in_force": [r"现行有效(?:的)?(?:行政)?规范性文件(?:共)?" + _N + r"件"],
    "active.normative.made": [r"新制作(?:行政)?规范性文件" + _N + r"件"],
    "active.procurement.amount": [r"政府集中采购总金额" + _N + r"万元"],
    "appeal.suit_direct.total": [r"未经复议直接起诉的行政诉讼" + _N + r"件"],
    "appeal.suit_after_review.total": [r"复议后起诉的行政诉讼" + _N + r"件"],
    "appeal.review.corrected": [r"(?:被纠错|结果纠正)" + _N + r"件"],
    "appeal.review.total": [r"行政复议(?:案件|申请)?" + _N + r"[件个]"],
}
_COMPILED = {fid: [re.compile(p) for p in ps] for fid, ps in PATTERNS.items()}
# Characters that end the clause a statement is quoted in.
_CLAUSE_END = "，。；,;"


@dataclass(frozen=True)
class ProseClaim:
    """A number the prose states for a field."""

    field_id: str
    stated: int | float
    clause: str  # the clause it is stated in, for the reviewer


def prose_text(page: PageRecord) -> str:
    """The page's running text: tokens outside its tables, in reading order, spaces removed.

    Spaces and line breaks are dropped because prose wraps mid-sentence and some reports space
    their numbers (333 件); table cells are left out so a row label and its cell never read as
    a sentence.
    """
    boxes = [t.bbox for t in page.tables or []]
    tokens = [
        t for t in page.tokens or []
        if not any(b.x1 <= t.bbox.center[0] <= b.x2 and b.y1 <= t.bbox.center[1] <= b.y2 for b in boxes)
    ]
    text = "".join(t.text for line in reading_lines(tokens) for t in line)
    return re.sub(r"\s+", "", text)


def find_claims(text: str, field_ids: set[str] | frozenset[str]) -> list[ProseClaim]:
    """Statements of `field_ids` in `text`, each text span attributed to one field at most."""
    claims: list[ProseClaim] = []
    taken: list[tuple[int, int]] = []
    for fid, patterns in _COMPILED.items():
        if fid not in field_ids:
            continue
        for pattern in patterns:
            for m in pattern.finditer(text):
                span = m.span("n")
                if any(a < span[1] and span[0] < b for a, b in taken):
                    continue
                taken.append(span)
                raw = m.group("n")
                stated: int | float = float(raw) if "." in raw else int(raw)
                claims.append(ProseClaim(fid, stated, _clause(text, m.start(), m.end())))
    return claims


def _clause(text: str, start: int, end: int) -> str:
    left = max((text.rfind(c, 0, start) for c in _CLAUSE_END), default=-1) + 1
    rights = [i for i in (text.find(c, end) for c in _CLAUSE_END) if i >= 0]
    return text[left : min(rights) if rights else len(text)]
