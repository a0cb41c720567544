"""A small typed table: the one shape every export writer takes."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class ColumnKind(str, Enum):
    """Type of an exported column."""

    STR = "str"  # text; None is an empty cell / missing
    INT = "int"  # whole numbers (counts, years, pages); None is missing
    FLOAT = "float"  # decimals (万元 amounts, confidences); None is missing


@dataclass(frozen=True)
class Column:
    name: str  # column name as exported (field ids keep their dots)
    kind: ColumnKind


@dataclass
class Frame:
    """Rows of values under typed columns, in a fixed order."""

    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)


# Longest variable name Stata accepts.
_STATA_MAX = 32
# Short names of the parts of field ids, for Stata variable names: a field id's parts are
# joined with "_" after this map (apply.denied.state_secret.natural_person → req_den_secret_person).
# The codebook lists every resulting name next to its field id (its stata_name column).
STATA_ABBREVIATIONS: dict[str, str] = {
    "active": "act", "apply": "req", "appeal": "apl", "status": "st",
    "amount": "amt", "carried_forward": "cfwd", "carried_over": "cover", "coercion": "coerc", "commercial": "biz",
    "confirmation": "confirm", "corrected": "corr", "decisions": "dec", "denied": "den", "duplicate": "dup",
    "enforcement_files": "enffile", "excessive": "excess", "granted": "grant", "in_force": "inforce",
    "internal_affairs": "internal", "licensing": "license", "natural_person": "person", "needs_creation": "create",
    "new_received": "new", "no_correction": "nocorr", "no_fee": "nofee", "normative": "norm", "not_held": "nothold",
    "not_processed": "notproc", "other": "oth", "other_org": "othorg", "partially_granted": "partial",
    "pending": "pend", "process_info": "process", "prohibited": "prohib", "publication": "publ",
    "repealed": "repeal", "security_stability": "security", "state_secret": "secret",
    "suit_after_review": "suitrev", "suit_direct": "suitdir", "third_party": "thirdpty", "total": "tot",
    "unavailable": "unavail", "change": "chg", "other_services": "othsvc", "prev_items": "previtems",
    "procurement": "procure", "total_public": "totpub",
}


def stata_name(name: str) -> str:
    """A Stata variable name for a column: [A-Za-z_][A-Za-z0-9_]*, at most 32 characters.

    Meta columns keep their names; a field id's parts are shortened by
    :data:`STATA_ABBREVIATIONS` and joined with ``_`` (``apply.granted.total`` → ``req_grant_tot``),
    so names stay readable and every template field fits (tests/export checks it). Only a name
    outside the templates that still does not fit keeps its first 25 characters and a short hash.
    """
    parts = re.split(r"[.]", name)
    short = "_".join(STATA_ABBREVIATIONS.get(p, p) for p in parts) if len(parts) > 1 else name
    clean = re.sub(r"[^A-Za-z0-9_]", "_", short)
    if not clean or clean[0].isdigit():
        clean = f"v_{clean}"
    if len(clean) > _STATA_MAX:
        clean = f"{clean[:25]}_{hashlib.sha1(name.encode()).hexdigest()[:6]}"
    return clean
