from pathlib import Path

import pytest
import yaml

from extractor.templates import ValueType, get_template, list_templates, template_for_year

_SHARED_SCHEMA = Path(__file__).resolve().parents[2] / ".." / "shared" / "schema" / "report-templates.yaml"

_APPLY_COLS = ("natural_person", "commercial", "research", "social", "legal", "other_org", "total")


def _zero_values(template_id: str) -> dict[str, float]:
    return {fid: 0 for fid in get_template(template_id).fields}


def _set_apply_row(values: dict, row: str, numbers: tuple[int, ...]) -> None:
    for col, number in zip(_APPLY_COLS, numbers, strict=True):
        values[f"apply.{row}.{col}"] = number


def test_both_templates_are_registered_with_their_years():
    # The two official formats are known and picked by report year.
    # 2019/2020 use gov-2019, 2021 onwards gov-2021, earlier years have no template.
    assert list_templates() == ["gov-2021", "gov-2019"]
    assert template_for_year(2020).id == "gov-2019"
    assert template_for_year(2025).id == "gov-2021"
    assert template_for_year(2018) is None


def test_field_counts_match_the_official_tables():
    # gov-2021: 10 active cells, 25 x 7 apply cells, 15 appeal cells.
    # gov-2019: 22 active cells, 23 x 7 apply cells (one 其他处理 row), 15 appeal cells.
    t21, t19 = get_template("gov-2021"), get_template("gov-2019")
    assert [len(t21.section_fields(s)) for s in ("active", "apply", "appeal")] == [10, 175, 15]
    assert [len(t19.section_fields(s)) for s in ("active", "apply", "appeal")] == [22, 161, 15]


def test_field_ids_follow_section_row_col():
    # Ids are the public contract: the documented examples must exist verbatim.
    # Row keys may contain a dot, so ids can have four parts.
    t21 = get_template("gov-2021")
    for fid in ("active.fees.amount", "apply.denied.state_secret.natural_person", "appeal.suit_after_review.total"):
        assert fid in t21.fields
    assert "active.procurement.amount" in get_template("gov-2019").fields
    assert "apply.other.all.total" in get_template("gov-2019").fields


def test_value_types_distinguish_amounts_and_signed_changes():
    # Money is a decimal in 万元; 本年增/减 may be negative; everything else is a count.
    t19 = get_template("gov-2019")
    assert t19.fields["active.procurement.amount"].value_type is ValueType.DECIMAL
    assert t19.fields["active.procurement.amount"].unit == "万元"
    assert t19.fields["active.licensing.change"].value_type is ValueType.SIGNED_INTEGER
    assert t19.fields["apply.granted.total"].value_type is ValueType.INTEGER


def test_unknown_template_names_the_known_ones():
    # A typo in a template id fails loudly with the list of valid ids.
    with pytest.raises(KeyError, match="gov-2021, gov-2019"):
        get_template("gov-2022")


@pytest.mark.skipif(not _SHARED_SCHEMA.exists(), reason="../shared/schema is not beside this checkout")
def test_field_ids_match_the_shared_contract():
    # Our packaged copy must define exactly the ids the shared field contract defines.
    # The ids are recomputed here from the shared YAML independently of the registry code.
    shared = yaml.safe_load(_SHARED_SCHEMA.read_text(encoding="utf-8"))
    for template_id, spec in shared["templates"].items():
        expected = set()
        for group in spec["sections"]["active"]["groups"]:
            expected |= {f"active.{r}.{c}" for r in group["rows"] for c in group["cols"]}
        for section in ("apply", "appeal"):
            sec = spec["sections"][section]
            expected |= {f"{section}.{r}.{c}" for r in sec["rows"] for c in sec["cols"]}
        assert set(get_template(template_id).fields) == expected


def test_consistent_report_passes_every_identity():
    # 湘乡 2025 as printed: 31 new + 2 carried over = 33 handled (30 granted + 3 partial).
    # Appeal: reconsideration 5 upheld + 2 corrected = 7. Every identity holds.
    values = _zero_values("gov-2021")
    _set_apply_row(values, "new_received", (31, 0, 0, 0, 0, 0, 31))
    _set_apply_row(values, "carried_over", (2, 0, 0, 0, 0, 0, 2))
    _set_apply_row(values, "granted", (30, 0, 0, 0, 0, 0, 30))
    _set_apply_row(values, "partially_granted", (3, 0, 0, 0, 0, 0, 3))
    _set_apply_row(values, "total", (33, 0, 0, 0, 0, 0, 33))
    values.update({"appeal.review.upheld": 5, "appeal.review.corrected": 2, "appeal.review.total": 7})
    assert get_template("gov-2021").check(values) == []


def test_zhaosu_printed_row_totals_violate_the_row_total_identity():
    # 昭苏 2025 prints 自然人 1 and 其他 1 but 总计 1 on the 新收, 予以公开 and 总计 rows.
    # The check must name those row identities and the fields in them, and nothing else.
    values = _zero_values("gov-2021")
    for row in ("new_received", "granted", "total"):
        _set_apply_row(values, row, (1, 0, 0, 0, 0, 1, 1))
    violations = get_template("gov-2021").check(values)
    assert sorted(v.identity for v in violations) == [
        "apply.row_total.granted",
        "apply.row_total.new_received",
        "apply.row_total.total",
    ]
    new_received = next(v for v in violations if v.identity == "apply.row_total.new_received")
    assert "apply.new_received.total" in new_received.fields
    assert "apply.new_received.other_org" in new_received.fields
    assert (new_received.lhs, new_received.rhs) == (1, 2)
    assert "1 ≠ 2" in new_received.detail


def test_balance_identity_catches_a_misread_digit():
    # An OCR error turns 33 handled into 38: new + carried over no longer equals handled + carried forward.
    # Both the balance and the results-sum identities of the 总计 column break.
    values = _zero_values("gov-2021")
    _set_apply_row(values, "new_received", (31, 0, 0, 0, 0, 0, 31))
    _set_apply_row(values, "carried_over", (2, 0, 0, 0, 0, 0, 2))
    _set_apply_row(values, "granted", (33, 0, 0, 0, 0, 0, 33))
    _set_apply_row(values, "total", (33, 0, 0, 0, 0, 0, 38))
    names = {v.identity for v in get_template("gov-2021").check(values)}
    assert {"apply.balance.total", "apply.results.total", "apply.row_total.total"} <= names


def test_missing_fields_are_not_checked():
    # A field that could not be read is None: identities using it are skipped, not failed.
    # Only identities whose every field is known can be violated.
    values = _zero_values("gov-2019")
    values["apply.total.total"] = None
    values["apply.new_received.total"] = 5
    names = {v.identity for v in get_template("gov-2019").check(values)}
    assert "apply.balance.total" not in names
    assert "apply.row_total.new_received" in names
