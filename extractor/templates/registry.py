"""Load the report templates (package data) into typed objects.

The YAML in ``data/report-templates.yaml`` is the project's copy of the shared field contract.
A field id is ``<section>.<row>.<col>``; a row key may itself contain a dot
(``apply.denied.state_secret.natural_person``). Field ids are the public contract of every
exported dataset: they are derived here and nowhere else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import Enum
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

# Columns of the 本年增/减 kind: the only counts that may be negative.
_SIGNED_COLS = frozenset({"change"})
# Columns holding money, in 万元, with decimals.
_DECIMAL_COLS = frozenset({"amount"})
# Rows of section 三 that are results of handling (summed by （七）总计).
_NON_RESULT_APPLY_ROWS = frozenset({"new_received", "carried_over", "total", "carried_forward"})
# Applicant columns of section 三 (summed by the 总计 column).
_APPLICANT_COLS = ("natural_person", "commercial", "research", "social", "legal", "other_org")
# Value columns of section 四 summed by its 总计 column.
_APPEAL_PARTS = ("upheld", "corrected", "other", "pending")


class ValueType(str, Enum):
    """What kind of number a field holds."""

    INTEGER = "integer"  # a non-negative count
    SIGNED_INTEGER = "signed_integer"  # 本年增/减: may be negative
    DECIMAL = "decimal"  # an amount in 万元


class FieldDef(BaseModel):
    """One value cell of the national template."""

    model_config = ConfigDict(frozen=True)

    id: str
    template: str
    section: str = Field(description="active | apply | appeal")
    row: str
    col: str
    group: str | None = Field(None, description="第二十条 group label (section active only)")
    row_label: str = Field(description="official Chinese row label")
    col_label: str = Field(description="official Chinese column label")
    label_en: str
    value_type: ValueType = ValueType.INTEGER
    unit: str = Field("件", description="unit of the value: 件 for counts, 万元 for amounts")
    minimum: float = Field(0, description="smallest plausible value (the contract's value_ranges)")
    maximum: float = Field(math.inf, description="largest plausible value (the contract's value_ranges)")

    @property
    def label(self) -> str:
        """Chinese label of the field: row and column."""
        return f"{self.row_label} / {self.col_label}"

    def allowed(self) -> str:
        """The values this field may hold, for people: ``integer in [0, 100000] 件``."""
        return f"{self.value_type.value} in [{_fmt(self.minimum)}, {_fmt(self.maximum)}] {self.unit}"

    def value_problem(self, value: float) -> str | None:
        """What is wrong with `value` for this field (type or plausible range), or ``None``.

        The reason names the allowed range, so a reviewer refused a value sees why.
        """
        allowed = self.allowed()
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"not a number ({value!r}); allowed: {allowed}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"not a finite number ({value}); allowed: {allowed}"
        if self.value_type is not ValueType.DECIMAL and isinstance(value, float) and not value.is_integer():
            return f"a count must be a whole number, read {value}; allowed: {allowed}"
        if value < self.minimum:
            if self.minimum == 0:
                return f"negative value {_fmt(value)} where only counts/amounts ≥ 0 are allowed; allowed: {allowed}"
            return f"implausibly small value {_fmt(value)}; allowed: {allowed}"
        if value > self.maximum:
            what = "amount" if self.value_type is ValueType.DECIMAL else "count"
            return f"implausibly large {what} {_fmt(value)}; allowed: {allowed}"
        return None


class Violation(BaseModel):
    """An accounting identity that does not hold on a report's values."""

    identity: str
    fields: list[str]
    lhs: float
    rhs: float
    detail: str


class Identity(BaseModel):
    """``sum(lhs) == sum(rhs)`` over field ids (勾稽关系)."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    lhs: tuple[str, ...]
    rhs: tuple[str, ...]

    @property
    def fields(self) -> list[str]:
        return [*self.lhs, *self.rhs]

    def evaluate(self, values: Mapping[str, float | int | None]) -> Violation | None | bool:
        """Check the identity.

        Returns:
            ``True`` when it holds, a :class:`Violation` when it does not, and ``None`` when a
            field it needs is missing (the identity cannot be checked).
        """
        if any(values.get(f) is None for f in self.fields):
            return None
        lhs = sum(values[f] for f in self.lhs)  # type: ignore[misc]
        rhs = sum(values[f] for f in self.rhs)  # type: ignore[misc]
        if abs(lhs - rhs) < 1e-6:
            return True
        return Violation(
            identity=self.name,
            fields=self.fields,
            lhs=lhs,
            rhs=rhs,
            detail=f"{self.description}: {_fmt(lhs)} ≠ {_fmt(rhs)}",
        )


class Template(BaseModel):
    """One official table format with its fields and identities."""

    id: str
    report_years: tuple[int, int | None]
    section_titles: dict[str, str]
    fields: dict[str, FieldDef]
    identities: list[Identity]

    def section_fields(self, section: str) -> list[FieldDef]:
        return [f for f in self.fields.values() if f.section == section]

    def rows(self, section: str) -> list[str]:
        return list(dict.fromkeys(f.row for f in self.section_fields(section)))

    def cols(self, section: str, row: str | None = None) -> list[str]:
        fields = self.section_fields(section)
        return list(dict.fromkeys(f.col for f in fields if row is None or f.row == row))

    def check(self, values: Mapping[str, float | int | None]) -> list[Violation]:
        """Every identity that is violated by `values` (unknown fields are not checked)."""
        out = []
        for identity in self.identities:
            result = identity.evaluate(values)
            if isinstance(result, Violation):
                out.append(result)
        return out


def _fmt(x: float) -> str:
    if isinstance(x, int):
        # A huge int has no float (OverflowError), its digits would fill the message, and past
        # 4,300 digits str() refuses it.
        return str(x) if abs(x) < 10**16 else f"a number of about {int(x.bit_length() * 0.30103) + 1} digits"
    if not math.isfinite(x):
        return str(x)
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e16 else f"{x:g}"


def _load_yaml(name: str) -> Any:
    text = resources.files("extractor.templates").joinpath("data", name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _value_type(col: str) -> ValueType:
    if col in _SIGNED_COLS:
        return ValueType.SIGNED_INTEGER
    if col in _DECIMAL_COLS:
        return ValueType.DECIMAL
    return ValueType.INTEGER


def _bounds(ranges: dict, vtype: ValueType, section: str) -> tuple[float, float]:
    """(minimum, maximum) of a value type in `section`, from the contract's ``value_ranges``."""
    spec = ranges[vtype.value]
    upper = spec["max"]
    if isinstance(upper, dict):
        upper = upper[section]
    return float(spec["min"]), float(upper)


def _build_fields(template_id: str, spec: dict, en: dict, ranges: dict) -> dict[str, FieldDef]:
    fields: dict[str, FieldDef] = {}

    def add(section: str, row: str, col: str, row_label: str, col_label: str, group: str | None) -> None:
        field_id = f"{section}.{row}.{col}"
        vtype = _value_type(col)
        minimum, maximum = _bounds(ranges, vtype, section)
        fields[field_id] = FieldDef(
            id=field_id,
            template=template_id,
            section=section,
            row=row,
            col=col,
            group=group,
            row_label=row_label,
            col_label=col_label,
            label_en=f"{en['rows'][row]} / {en['cols'][col]}",
            value_type=vtype,
            unit="万元" if vtype is ValueType.DECIMAL else "件",
            minimum=minimum,
            maximum=maximum,
        )

    for group in spec["active"]["groups"]:
        for row, row_label in group["rows"].items():
            for col, col_label in group["cols"].items():
                add("active", row, col, row_label, col_label, group["label"])
    for section in ("apply", "appeal"):
        for row, row_label in spec[section]["rows"].items():
            for col, col_label in spec[section]["cols"].items():
                add(section, row, col, row_label, col_label, None)
    return fields


def _build_identities(spec: dict) -> list[Identity]:
    """The four identity families of both formats, spelled out per column and row."""
    apply_rows = list(spec["apply"]["rows"])
    apply_cols = list(spec["apply"]["cols"])
    result_rows = [r for r in apply_rows if r not in _NON_RESULT_APPLY_ROWS]
    col_labels = spec["apply"]["cols"]
    out: list[Identity] = []
    for c in apply_cols:
        out.append(
            Identity(
                name=f"apply.balance.{c}",
                description=f"{col_labels[c]}列: 本年新收 + 上年结转 = 总计 + 结转下年度",
                lhs=(f"apply.new_received.{c}", f"apply.carried_over.{c}"),
                rhs=(f"apply.total.{c}", f"apply.carried_forward.{c}"),
            )
        )
    for c in apply_cols:
        out.append(
            Identity(
                name=f"apply.results.{c}",
                description=f"{col_labels[c]}列: （七）总计 = 办理结果各项之和",
                lhs=(f"apply.total.{c}",),
                rhs=tuple(f"apply.{r}.{c}" for r in result_rows),
            )
        )
    for r in apply_rows:
        out.append(
            Identity(
                name=f"apply.row_total.{r}",
                description=f"{spec['apply']['rows'][r]}行: 总计 = 各类申请人之和",
                lhs=(f"apply.{r}.total",),
                rhs=tuple(f"apply.{r}.{c}" for c in _APPLICANT_COLS),
            )
        )
    for g, label in spec["appeal"]["rows"].items():
        out.append(
            Identity(
                name=f"appeal.row_total.{g}",
                description=f"{label}: 总计 = 维持 + 纠正 + 其他 + 尚未审结",
                lhs=(f"appeal.{g}.total",),
                rhs=tuple(f"appeal.{g}.{p}" for p in _APPEAL_PARTS),
            )
        )
    return out


@cache
def _all_templates() -> dict[str, Template]:
    data = _load_yaml("report-templates.yaml")
    en = _load_yaml("labels-en.yaml")
    out = {}
    for template_id, spec in data["templates"].items():
        sections = spec["sections"]
        first, last = spec["report_years"]
        out[template_id] = Template(
            id=template_id,
            report_years=(first, last),
            section_titles={name: s["title"] for name, s in sections.items()},
            fields=_build_fields(template_id, sections, en, data["value_ranges"]),
            identities=_build_identities(sections),
        )
    return out


def list_templates() -> list[str]:
    """Ids of the known templates, newest format first."""
    return list(_all_templates())


def get_template(template_id: str) -> Template:
    """The template with this id.

    Raises:
        KeyError: naming the known templates, when `template_id` is not one of them.
    """
    templates = _all_templates()
    if template_id not in templates:
        raise KeyError(f"unknown template {template_id!r}; known: {', '.join(templates)}")
    return templates[template_id]


def template_for_year(year: int) -> Template | None:
    """The template in force for a report year, or ``None`` before 2019."""
    for template in _all_templates().values():
        first, last = template.report_years
        if year >= first and (last is None or year <= last):
            return template
    return None
