"""Types and ranges: each value against its field's plausible range in the field contract.

The ranges (``value_ranges`` in ``extractor/templates/data/report-templates.yaml``) are read into
:class:`~extractor.templates.FieldDef` (``minimum``, ``maximum``); the same check refuses a value a
reviewer types (``extractor.review.corrections``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from extractor.datamodel import FieldValue
from extractor.templates import Template

_log = logging.getLogger(__name__)


def range_problems(template: Template, fields: Mapping[str, FieldValue]) -> dict[str, str]:
    """Field id → what is wrong with its value's type or size (fields without a problem are absent)."""
    problems: dict[str, str] = {}
    for fid, field in fields.items():
        definition = template.fields.get(fid)
        if definition is None or field.value is None:
            continue
        problem = definition.value_problem(field.value)
        if problem is not None:
            problems[fid] = problem
    return problems
