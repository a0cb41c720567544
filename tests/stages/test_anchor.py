"""Section 三's grid from its printed labels, where its rules were lost (template-anchored placement)."""

from extractor.datamodel import BBox, TextToken
from extractor.stages.anchor import AnchorStage
from extractor.stages.assemble.readings import ANCHORED


def _token(text: str, x: float, y: float, width: float = 300.0, height: float = 36.0) -> TextToken:
    return TextToken(text=text, bbox=BBox(x1=x, y1=y, x2=x + width, y2=y + height), score=0.9)


# A faint scan's section 三 as the page's OCR read it: some headers misread ("向上生" for 商业企业),
# two read ("自然" and "其他"), a group header over five columns, row labels misread a little.
_HEADERS = [
    _token("申清人情况", 1080, 1300, 150), _token("法人或其他组织", 1050, 1350, 200), _token("自然", 788, 1404, 58),
    _token("向上生", 732, 1430, 200), _token("其他", 1338, 1428, 66), _token("总it", 1448, 1398, 64),
]
_ROWS = [
    _token("、本年新收政府信息公开中请数量", 270, 1502), _token("二、上年结转政府信息公开中请清数量", 242, 1560),
    _token("」予以公开", 296, 1616, 180), _token("(二,部分公开(区分处理的.只i计i", 286, 1670),
    _token("情形,不计其他情形!", 300, 1708, 270), _token("1.属了国家秘密", 440, 1762, 280),
    _token("2.其他法律行政法规禁", 438, 1816, 280), _token("公开", 444, 1856, 64),
]


def test_rows_and_columns_are_placed_from_the_labels_read():
    # Six rows are found by their labels, in the template's order, the wrapped labels of （二）
    # and of 2. kept with their rows; the seven value columns come from the two headers read, evenly spaced:
    # 自然人 at x 817, 其他 five columns on at 1371. Every cell says how it was placed.
    table = AnchorStage().predict(_HEADERS + _ROWS, 1, [])
    assert table is not None and (table.n_rows, table.n_cols) == (7, 8)
    header = sorted((c for c in table.cells if c.row == 0 and c.col > 0), key=lambda c: c.col)
    assert [c.text for c in header] == ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
    centres = [c.bbox.center[0] for c in header]
    assert abs(centres[0] - 817) < 2 and abs(centres[5] - 1371) < 2
    labels = [c.text for c in sorted(table.cells, key=lambda c: c.row) if c.col == 0 and c.row > 0]
    assert labels[3].startswith("(二,部分公开") and labels[3].endswith("情形,不计其他情形!")
    row4 = [c for c in table.cells if c.row == 4]
    assert all(c.bbox.y1 < 1690 and c.bbox.y2 > 1740 for c in row4)  # both lines of （二）
    assert labels[5] == "2.其他法律行政法规禁公开"
    assert all(ANCHORED in c.evidence and c.page == 1 for c in table.cells)
    assert not any(c.text for c in table.cells if c.row > 0 and c.col > 0)  # values are read from crops


def test_text_inside_a_table_already_read_anchors_nothing():
    # The same labels inside a ruled table found on the page: theirs, not a second grid's.
    assert AnchorStage().predict(_HEADERS + _ROWS, 1, [BBox(x1=200, y1=1250, x2=1600, y2=2000)]) is None


def test_prose_that_names_the_rows_is_no_table():
    # A paragraph reporting the year's applications names rows and columns in long lines: no
    # header cells, no grid.
    prose = [
        _token("本年新收政府信息公开申请数量156件,其中自然人申请140件,法人或其他组织申请16件", 200, 400 + 50 * i, 1300)
        for i in range(4)
    ]
    assert AnchorStage().predict(prose + _ROWS[:3], 0, []) is None


def test_two_headers_read_off_their_columns_place_none():
    # Only one column header read: no line can be fitted, no grid is made.
    assert AnchorStage().predict([_HEADERS[2]] + _ROWS, 1, []) is None
