"""The codebook shipped with every export: what each column means."""

from __future__ import annotations

from extractor.export.frame import Column, ColumnKind, Frame, stata_name
from extractor.templates import ValueType, get_template, list_templates

# Meta columns of the wide layout: (name, kind, Chinese label, English label).
META_COLUMNS: tuple[tuple[str, ColumnKind, str, str], ...] = (
    ("document_id", ColumnKind.STR, "报告编号", "report id within the batch (archive and member path)"),
    ("source", ColumnKind.STR, "来源文件", "file the report came from ('archive!member')"),
    ("sha256", ColumnKind.STR, "文件哈希", "SHA-256 of the report file"),
    ("pages", ColumnKind.INT, "页数", "pages in the report file"),
    ("template", ColumnKind.STR, "报告格式", "national template the report follows (gov-2021, gov-2019)"),
    ("agency", ColumnKind.STR, "机关名称", "reporting agency"),
    ("year", ColumnKind.INT, "报告年度", "year the report covers"),
    ("published", ColumnKind.STR, "发布日期", "date of the signature (ISO)"),
    ("state", ColumnKind.STR, "处理状态", "done or failed"),
    ("errors", ColumnKind.STR, "错误", "why values are missing (unreadable pages, no template)"),
    ("flagged", ColumnKind.INT, "待复核数", "fields still flagged for review"),
)

# Columns of the long layout: (name, kind, Chinese label, English label).
LONG_COLUMNS: tuple[tuple[str, ColumnKind, str, str], ...] = (
    ("document_id", ColumnKind.STR, "报告编号", "report id within the batch"),
    ("field_id", ColumnKind.STR, "字段", "field id (see the template rows of this codebook)"),
    ("value", ColumnKind.FLOAT, "数值", "the value; empty when unreadable"),
    ("raw", ColumnKind.STR, "原文", "the cell text as printed"),
    ("status", ColumnKind.STR, "状态", "auto | flagged | derived | reviewed"),
    ("confidence", ColumnKind.FLOAT, "置信度", "probability the value is right"),
    ("page", ColumnKind.INT, "页码", "1-based page the value is printed on"),
)

# Codebook columns.
_CODEBOOK = [
    Column("variable", ColumnKind.STR),
    Column("stata_name", ColumnKind.STR),
    Column("label_zh", ColumnKind.STR),
    Column("label_en", ColumnKind.STR),
    Column("type", ColumnKind.STR),
    Column("unit", ColumnKind.STR),
    Column("template", ColumnKind.STR),
]


def column_labels() -> dict[str, str]:
    """Column name → Chinese label, for every column an export may hold (Stata variable labels).

    A field id names the same cell in both templates, so its label is that of the first
    template listing it; ``<field id>.status`` columns are labelled ``<label>·状态``.
    """
    labels = {name: zh for name, _, zh, _ in (*META_COLUMNS, *LONG_COLUMNS)}
    for template_id in list_templates():
        for fid, fdef in get_template(template_id).fields.items():
            labels.setdefault(fid, fdef.label)
            labels.setdefault(f"{fid}.status", f"{fdef.label}·状态")
    labels.update({"variable": "变量", "stata_name": "Stata 变量名", "label_zh": "中文标签", "label_en": "英文标签",
                   "type": "类型", "unit": "单位"})
    return labels


def field_kinds() -> dict[str, ColumnKind]:
    """Field id → column kind, over every template (amounts are decimals, the rest counts)."""
    kinds: dict[str, ColumnKind] = {}
    for template_id in list_templates():
        for fid, fdef in get_template(template_id).fields.items():
            kinds[fid] = ColumnKind.FLOAT if fdef.value_type is ValueType.DECIMAL else ColumnKind.INT
    return kinds


def codebook(statuses: bool = False) -> Frame:
    """One row per meta column, long column, and (template, field id), in a fixed order.

    Args:
        statuses: also describe the wide layout's ``<field id>.status`` columns.
    """
    frame = Frame(columns=list(_CODEBOOK))
    for name, kind, zh, en in META_COLUMNS:
        frame.rows.append([name, stata_name(name), zh, en, kind.value, None, None])
    for name, kind, zh, en in LONG_COLUMNS:
        if name not in {m[0] for m in META_COLUMNS}:
            frame.rows.append([name, stata_name(name), zh, f"(long layout) {en}", kind.value, None, None])
    for template_id in list_templates():
        for fid, fdef in get_template(template_id).fields.items():
            frame.rows.append(
                [fid, stata_name(fid), fdef.label, fdef.label_en, fdef.value_type.value, fdef.unit, template_id]
            )
    if statuses:
        frame.rows.append(["<field id>.status", None, "字段状态", "status of the field: auto | flagged | derived | "
                           "reviewed", "str", None, None])
    return frame
