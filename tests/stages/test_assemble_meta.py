from extractor.datamodel import BBox, PageRecord, TextToken, reading_lines
from extractor.stages.assemble import page_text
from extractor.stages.assemble.meta import detect_template, extract_meta


def test_title_on_one_line_gives_agency_and_year():
    # 昭苏's title: agency, year and 年度 on one line; signed 2026年1月21日 on the last page.
    # All three metadata fields come out.
    meta = extract_meta(["昭苏县自然资源局 2025 年度政府信息公开工作报告\n为深入贯彻", "昭苏县自然资源局 2026年1月21日"])
    assert (meta.agency, meta.year, meta.published) == ("昭苏县自然资源局", 2025, "2026-01-21")


def test_title_split_over_two_lines_and_chinese_numeral_date():
    # 湘乡's title puts the agency on its own line; some reports date the signature in Chinese numerals.
    # Line breaks are ignored and 二〇二六年一月五日 is read as 2026-01-05.
    meta = extract_meta(["湘乡市自然资源局\n2025 年政府信息公开工作年度报告\n一、总体情况", "湘乡市自然资源局\n二〇二六年一月五日"])
    assert (meta.agency, meta.year, meta.published) == ("湘乡市自然资源局", 2025, "2026-01-05")


def test_agency_missing_from_title_is_taken_from_the_signature():
    # Some titles omit the agency ("2024年政府信息公开工作年度报告").
    # The signature above the date names it.
    meta = extract_meta(["2024年政府信息公开工作年度报告", "特此报告。 淮安市洪泽区人民政府 2025年1月20日"])
    assert meta.agency == "淮安市洪泽区人民政府"
    assert meta.year == 2024


def test_format_specific_labels_decide_the_template_over_the_year():
    # A 2020 report that already uses the 2021 column labels is gov-2021 by its labels.
    # Without such labels the year decides.
    assert detect_template(["本年制发件数 本年废止件数 现行有效件数"], 2020)[0] == "gov-2021"
    assert detect_template(["上一年项目数量 本年增/减 处理决定数量"], 2022)[0] == "gov-2019"
    assert detect_template(["一、总体情况"], 2020)[0] == "gov-2019"
    assert detect_template(["一、总体情况"], None)[0] is None


def test_title_with_nian_niandu_and_dotted_date():
    # Titles such as "2020 年年度政府信息公开工作报告"; signatures dated 2021.02.06.
    # The prose restating the title further down ("现将我局2020年度…报告如下") is not the title.
    page1 = "祥云县应急管理局\n2020 年年度政府信息公开工作报告\n为深入贯彻《条例》要求，现\n将我局2020年度政府信息公开工作年度报告如下：\n一、总体情况"
    meta = extract_meta([page1, "祥云县应急管理局\n2021.02.06\n- 5 -"])
    assert (meta.agency, meta.year, meta.published) == ("祥云县应急管理局", 2020, "2021-02-06")


def test_misread_title_words_still_give_the_title_not_the_prose():
    # OCR reads 公开 as 公天 in the title; the prose below restates the title correctly.
    # The title still gives agency and year; the prose is never taken for an agency name.
    page1 = "广州市天河区财政局\n2021年政府信息公天工作年度报告\n为深入贯彻《条例》要求，现将我局2021年度政府信息公开工作年度报告如下："
    meta = extract_meta([page1, "广州市天河区财政局\n2022年3月20日"])
    assert (meta.agency, meta.year) == ("广州市天河区财政局", 2021)


def _token(text: str, x1: float, y1: float, x2: float, y2: float) -> TextToken:
    return TextToken(text=text, bbox=BBox(x1=x1, y1=y1, x2=x2, y2=y2))


def test_page_text_keeps_title_lines_in_order_when_boxes_shift():
    # Detector boxes move by a few pixels between resolutions. Here the second title line's box is
    # tall: ordering rows by round(centre / height) puts both lines in row 1 (40/40, 110/80) and then
    # the year line first, because it starts further left. Lines grouped by overlap keep the agency
    # line first and its two words together.
    page = PageRecord(index=0, width=1000, height=1400, dpi=200, tokens=[
        _token("2024年政府信息公开工作年度报告", 250, 70, 700, 150),
        _token("湘乡市", 300, 20, 420, 60),
        _token("自然资源局", 425, 22, 600, 62),
    ])
    assert page_text(page) == "湘乡市 自然资源局\n2024年政府信息公开工作年度报告"
    assert [[t.text for t in line] for line in reading_lines(page.tokens)] == [
        ["湘乡市", "自然资源局"], ["2024年政府信息公开工作年度报告"]
    ]
