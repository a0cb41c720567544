import pytest

from extractor.datamodel import BBox, Cell, Table
from extractor.stages.classify import ClassifyOptions, ClassifyStage, read_fields
from extractor.stages.classify.stage import DEFAULT_ARTIFACTS
from extractor.templates import get_template
from models.data import LabelledDocument
from models.train import TrainConfig, train

_COLS = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")
_COL_IDS = ("natural_person", "commercial", "research", "social", "legal", "other_org", "total")


def _cell(row, col, text, row_span=1, col_span=1):
    box = BBox(x1=col * 50, y1=row * 20, x2=(col + col_span) * 50, y2=(row + row_span) * 20)
    return Cell(row=row, col=col, row_span=row_span, col_span=col_span, text=text, bbox=box, page=0)


def _apply_table(template_id):
    """Section 三 as printed officially: three header rows, then one row per template row."""
    template = get_template(template_id)
    cells = [
        _cell(0, 0, "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", row_span=3),
        _cell(0, 1, "申请人情况", col_span=7), _cell(1, 1, "自然人", row_span=2),
        _cell(1, 2, "法人或其他组织", col_span=5), _cell(1, 7, "总计", row_span=2),
    ]
    cells += [_cell(2, 2 + i, label) for i, label in enumerate(_COLS[1:6])]
    values = {}
    for r, key in enumerate(template.rows("apply"), start=3):
        cells.append(_cell(r, 0, template.fields[f"apply.{key}.total"].row_label.split(" ")[-1]))
        for c, col in enumerate(_COL_IDS):
            values[f"apply.{key}.{col}"] = str((r * 7 + c) % 10)
            cells.append(_cell(r, 1 + c, values[f"apply.{key}.{col}"]))
    n_rows = 3 + len(template.rows("apply"))
    return Table(n_rows=n_rows, n_cols=8, cells=cells, pages=[0], bbox=BBox(x1=0, y1=0, x2=400, y2=20 * n_rows)), values


@pytest.mark.ml
def test_shipped_classifier_reads_an_official_section_three_table():
    # The committed weights label a section 三 table printed with the official labels.
    # Nearly every field is placed in its cell (row label × column header decoded from roles).
    stage = ClassifyStage(ClassifyOptions(artifacts_path=DEFAULT_ARTIFACTS, threads=1))
    table, values = _apply_table("gov-2021")
    readings = read_fields([table], stage.predict([table]), get_template("gov-2021"))
    right = sum(values.get(r.field_id) == r.raw for r in readings)
    assert right >= 0.9 * len(values)


@pytest.mark.ml
def test_one_training_step_writes_a_model_that_loads_and_predicts(tmp_path):
    # One tiny training step on one labelled table, written to a temporary folder.
    # The folder loads as a ClassifyStage that gives every cell a role with a probability.
    table, values = _apply_table("gov-2019")
    labels = ["O" if not c.text.isdigit() else "value" for c in table.cells]
    doc = LabelledDocument(doc_id="t", truth=None, pages=[], tables=[table], labels=[labels])
    result = train([doc], tmp_path, TrainConfig(steps=1, minutes=1, hidden=32, layers=1, heads=2, threads=1))
    assert result.steps == 1
    (pred,) = ClassifyStage(ClassifyOptions(artifacts_path=tmp_path, threads=1)).predict([table])
    assert len(pred.cells) == len(table.cells)
    assert all(0.0 < p.prob <= 1.0 and p.label in ("O", "value") for p in pred.cells)
