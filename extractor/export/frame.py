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


def stata_name(name: str) -> str:
    """A Stata variable name for a column: [A-Za-z_][A-Za-z0-9_]*, at most 32 characters.

    Long field ids keep their first 25 characters and gain a short hash of the full id, so the
    name is the same in every export and unique in practice (the codebook maps it back).
    """
    clean = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not clean or clean[0].isdigit():
        clean = f"v_{clean}"
    if len(clean) > _STATA_MAX:
        clean = f"{clean[:25]}_{hashlib.sha1(name.encode()).hexdigest()[:6]}"
    return clean
