import pytest

from extractor.stages.assemble.text import label_key
from extractor.stages.assemble.values import parse_value
from extractor.templates import ValueType


@pytest.mark.parametrize("text", ["", " ", "/", "—", "-", "无", "0", "０"])
def test_blank_and_dash_cells_mean_zero_and_keep_their_raw_text(text):
    # Reports print zeros as blanks, slashes, dashes or 无; the dataset stores 0.
    # The printed text survives in raw so a reviewer can see what was there.
    parsed = parse_value(text, ValueType.INTEGER)
    assert parsed.value == 0
    assert parsed.raw == text.strip()


def test_full_width_digits_and_thousands_separators_are_read():
    # OCR and some fonts give full-width digits; large counts have commas.
    # Both become plain integers.
    assert parse_value("３３３", ValueType.INTEGER).value == 333
    assert parse_value("1,204", ValueType.INTEGER).value == 1204


def test_note_after_the_number_is_ignored_but_reported():
    # "22（其中修订16件）" prints the count followed by a remark.
    # The count is 22; the remark is noted for the reviewer.
    parsed = parse_value("22（其中修订16件）", ValueType.INTEGER)
    assert parsed.value == 22
    assert parsed.note and "其中修订" in parsed.note


def test_amounts_are_decimals_and_yuan_become_wan_yuan():
    # Fees are printed in 万元 with decimals; some reports give procurement in 元.
    # Both end up in 万元.
    assert parse_value("46.5687", ValueType.DECIMAL).value == pytest.approx(46.5687)
    assert parse_value("1250000元", ValueType.DECIMAL).value == pytest.approx(125.0)
    assert parse_value("3500", ValueType.DECIMAL, amount_in_yuan=True).value == pytest.approx(0.35)


def test_only_change_columns_may_be_negative():
    # 本年增/减 can be negative; a negative count elsewhere is a misread, not a value.
    assert parse_value("-3", ValueType.SIGNED_INTEGER).value == -3
    assert parse_value("-3", ValueType.INTEGER).value is None


def test_a_mark_before_a_zero_is_zero_with_a_note():
    # A dash is printed for zero, and so is "0": "-0" (a dash, or a piece of rule, then a zero) is
    # zero either way, in any column; the note sends it to review.
    for value_type in (ValueType.INTEGER, ValueType.SIGNED_INTEGER):
        parsed = parse_value("-0", value_type)
        assert parsed.value == 0 and parsed.note


def test_text_that_is_not_a_number_gives_no_value():
    # A label read into a value cell must not become a number.
    parsed = parse_value("予以公开", ValueType.INTEGER)
    assert parsed.value is None and parsed.note


def test_label_key_ignores_numbering_brackets_and_spacing():
    # The same row is printed "（三）不予公开", "(三) 不予公开" or "三、不予公开".
    # Kangxi radicals from WPS PDFs (⼀) are normalised too.
    assert label_key("（三）不予公开") == label_key("(三) 不予公开") == label_key("三、不予公开") == "不予公开"
    assert label_key("1、属于国家秘密") == label_key("1. 属于国家秘密") == "属于国家秘密"
    assert label_key("⼀、本年新收") == "本年新收"
    # One bracket misread as another kind ("(六》其他处理" is the group row （六）其他处理).
    assert label_key("(六》其他处理") == "其他处理"
    assert label_key("《三)不予公开") == "不予公开"


def test_stray_scan_marks_around_a_number_are_dropped_with_a_note():
    # Specks and remnants of ruling lines are read as "." "一" "(" around a number on scans.
    # The number is kept, with a note that sends the field to review.
    parsed = parse_value("一166", ValueType.INTEGER)
    assert parsed.value == 166 and parsed.note
    assert parse_value("0.", ValueType.INTEGER).value == 0
    dash = parse_value("一一", ValueType.INTEGER)
    assert dash.value == 0 and dash.note


@pytest.mark.parametrize(
    ("read", "value"),
    [("0.", 0), (".0", 0), ("–0", 0), ("0」", 0), ("一0", 0), ("「0", 0), ("°0*", 0), ("!12", 12)],
)
def test_marks_read_around_a_number_keep_the_evidence_and_flag_it(read, value):
    # Cell text arrives as the recogniser read it: the number is parsed from between the marks,
    # the marks stay in raw, and the note sends the field to review.
    parsed = parse_value(read, ValueType.INTEGER)
    assert (parsed.value, parsed.raw) == (value, read)
    assert parsed.note


@pytest.mark.parametrize("read", ["θ", "O", "o"])
def test_a_letter_read_for_a_lone_zero_is_zero_with_a_note(read):
    # A blotted or broken "0" is read as θ or O: the value is 0, the field goes to review.
    parsed = parse_value(read, ValueType.INTEGER)
    assert parsed.value == 0 and parsed.raw == read and parsed.note


@pytest.mark.parametrize("read, value", [("I", 1), ("Il", 11), ("1l", 11)])
def test_letters_read_for_ones_are_ones_with_a_note(read, value):
    # A "1" is read "I" or "l", "11" as "Il": the value is the ones, the field goes to review.
    # A "|" alone is what a piece of a rule is read as, and is not a number.
    parsed = parse_value(read, ValueType.INTEGER)
    assert parsed.value == value and parsed.raw == read and parsed.note
    assert parse_value("|", ValueType.INTEGER).value is None


def test_text_with_marks_inside_the_number_is_not_guessed():
    # "3—T" or "E0" have something in or before the digits that is not a scan mark: no value.
    assert parse_value("3—T", ValueType.INTEGER).note
    assert parse_value("E0", ValueType.INTEGER).value is None


@pytest.mark.parametrize("read, value", [("02", 2), ("011", 11), ("0 1", 1)])
def test_a_count_with_a_leading_zero_is_kept_and_flagged_as_a_possible_merge(read, value):
    # "0" and "11" in neighbouring cells read as one "011" when the rule between them is lost.
    parsed = parse_value(read, ValueType.INTEGER)
    assert parsed.value == value
    assert parsed.note and "leading zero" in parsed.note


@pytest.mark.parametrize("read", ["0", "0.5", "10", "20（其中修订16件）"])
def test_ordinary_numbers_get_no_leading_zero_note(read):
    parsed = parse_value(read, ValueType.DECIMAL)
    assert parsed.note is None or "leading zero" not in parsed.note


def test_label_key_ignores_numbering_misread_on_a_scan():
    # The numeral in brackets read as another character, or the dot after an item number lost:
    # still numbering. A year is not.
    assert label_key("(→)其他处理") == label_key("(广)其他处理") == label_key("（六）其他处理") == "其他处理"
    assert label_key("2 重复申请") == label_key("2. 重复申请") == "重复申请"
    assert label_key("2021年度") == "2021年度"
