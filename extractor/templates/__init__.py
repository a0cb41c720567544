"""The field contract: report templates, their fields and accounting identities."""

from extractor.templates.registry import (
    FieldDef,
    Identity,
    Template,
    ValueType,
    Violation,
    get_template,
    list_templates,
    template_for_year,
)

__all__ = [
    "FieldDef",
    "Identity",
    "Template",
    "ValueType",
    "Violation",
    "get_template",
    "list_templates",
    "template_for_year",
]
