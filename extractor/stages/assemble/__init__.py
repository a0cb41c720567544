"""Assemble: from page text and table grids to template field readings and report metadata."""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict

from extractor.datamodel import PageRecord, ReportMeta, Table, reading_lines
from extractor.stages.assemble.meta import detect_template, extract_meta
from extractor.stages.assemble.readings import FieldReading
from extractor.stages.assemble.sections import classify_table, map_active, map_apply, map_appeal
from extractor.templates import get_template

_log = logging.getLogger(__name__)

__all__ = ["AssembleOptions", "AssembleStage", "Assembly", "FieldReading"]


class AssembleOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: str | None = None
    """Force a template id instead of detecting it (None: detect from labels and year)."""


class Assembly(BaseModel):
    """What the assembler read from one document."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    template: str | None
    template_reason: str
    meta: ReportMeta
    readings: list[FieldReading]
    notes: list[str]


def page_text(page: PageRecord) -> str:
    """Page text in reading order: one printed line per line, its tokens separated by spaces."""
    return "\n".join(" ".join(t.text for t in line) for line in reading_lines(page.tokens or []))


class AssembleStage:
    """Rule-based header matching from tables to the fields of the detected template."""

    def __init__(self, options: AssembleOptions | None = None) -> None:
        self.options = options or AssembleOptions()

    def predict(self, pages: list[PageRecord], tables: list[Table]) -> Assembly:
        texts = [page_text(p) for p in pages]
        meta = extract_meta(texts)
        if self.options.template:
            template_id, reason = self.options.template, "given by the caller"
        else:
            template_id, reason = detect_template(texts, meta.year)
        notes: list[str] = []
        if template_id is None:
            return Assembly(template=None, template_reason=reason, meta=meta, readings=[], notes=[reason])
        template = get_template(template_id)
        by_section: dict[str, list[Table]] = {"active": [], "apply": [], "appeal": []}
        previous = None
        for table in tables:
            section = classify_table(table)
            if section is None and previous == "apply" and table.n_cols >= 7:
                section = "apply"  # a continuation of section 三 whose rows name no known words
            if section is not None:
                by_section[section].append(table)
            previous = section
        readings = map_active(by_section["active"], template)
        apply_readings, apply_notes = map_apply(by_section["apply"], template)
        readings += apply_readings
        notes += apply_notes
        for table in by_section["appeal"][:1]:
            readings += map_appeal(table, template)
        for section, found in by_section.items():
            if not found:
                notes.append(f"no table found for section {section}")
        _log.debug("assembled %d readings (%s)", len(readings), template_id)
        return Assembly(template=template_id, template_reason=reason, meta=meta, readings=readings, notes=notes)
