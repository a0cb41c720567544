"""HTML pages: encodings, the report's article inside a site's frame, tables with spans, refusals."""

from __future__ import annotations

import pytest

from extractor.stages.rasterise import DocumentError
from extractor.stages.structured.blocks import Paragraph, TableBlock
from extractor.stages.structured.html import decode_html, read_html

# The smallest report an HTML reader accepts: a title and a section 三 table.
_TITLE = "某某县财政局2024年政府信息公开工作年度报告"
_APPLY = "<table><tr><td>本年新收政府信息公开申请数量</td><td>3</td></tr></table>"


def _page(body: str, head: str = "<meta charset='utf-8'>") -> str:
    return f"<!DOCTYPE html><html><head>{head}<title>x</title></head><body>{body}</body></html>"


def _cells(table: TableBlock) -> list[tuple[str, int, int, int, int]]:
    return [(c.text, c.row, c.col, c.row_span, c.col_span) for c in table.cells]


def test_rowspan_and_colspan_place_cells_as_a_browser_does():
    # A header cell spans two rows and a group header two columns; the second row's cells
    # fill the columns the row-spanning cell leaves free.
    table = (
        "<table><tr><td rowspan='2'>项目</td><td colspan='2'>申请人</td></tr>"
        "<tr><td>自然人</td><td>法人</td></tr>"
        "<tr><td>本年新收</td><td>1</td><td>2</td></tr></table>"
    )
    blocks = read_html(_page(f"<h1>{_TITLE}</h1>{table}").encode("utf-8"))

    grid = next(b for b in blocks if isinstance(b, TableBlock))
    assert (grid.n_rows, grid.n_cols) == (3, 3)
    assert _cells(grid) == [
        ("项目", 0, 0, 2, 1), ("申请人", 0, 1, 1, 2), ("自然人", 1, 1, 1, 1), ("法人", 1, 2, 1, 1),
        ("本年新收", 2, 0, 1, 1), ("1", 2, 1, 1, 1), ("2", 2, 2, 1, 1),
    ]


def test_gbk_page_is_decoded_from_its_meta_charset_and_without_one():
    # The same page saved in GBK, once declaring gb2312 (as many sites do) and once declaring nothing.
    body = f"<h1>{_TITLE}</h1><p>本机关认真贯彻落实《中华人民共和国政府信息公开条例》。</p>{_APPLY}"
    declared = _page(body, "<meta http-equiv='Content-Type' content='text/html; charset=gb2312'>").encode("gbk")
    undeclared = _page(body, "").encode("gbk")

    for data in (declared, undeclared):
        text, encoding = decode_html(data)
        assert _TITLE in text and encoding.replace("_", "").lower() in ("gb18030", "gbk", "gb2312", "cp936")
        assert read_html(data)[0] == Paragraph(_TITLE)


def test_a_gbk_page_with_a_gb18030_only_character_still_decodes_under_its_gb2312_label():
    # GB2312-labelled pages hold characters outside GB2312 (a rare 䶮 in a place name): read as GB18030.
    data = _page(f"<h1>{_TITLE}</h1><p>䶮镇</p>{_APPLY}", "<meta charset='gb2312'>").encode("gb18030")

    assert "䶮镇" in decode_html(data)[0]


def test_site_frame_is_left_out_and_the_article_starts_at_its_title():
    # Menu, breadcrumb (which repeats the title), scripts and a sidebar listing other years' reports.
    body = (
        "<div class='head'><ul><li>首页</li><li>政务公开</li></ul></div>"
        f"<div class='crumb'>当前位置：首页 &gt; 年报 &gt; {_TITLE}</div>"
        "<script>document.write('统计代码')</script>"
        f"<div class='article'><h1>{_TITLE}</h1><p style='display:none'>隐藏</p><p>正文第一段。</p>{_APPLY}</div>"
        "<div class='side'><a>某某县财政局2023年政府信息公开工作年度报告</a></div>"
    )
    blocks = read_html(_page(body).encode("utf-8"))

    texts = [b.text for b in blocks if isinstance(b, Paragraph)]
    assert texts == [_TITLE, "正文第一段。"]


def test_a_page_laid_out_in_tables_is_read_through_its_layout_tables():
    # Older sites put the whole article in a layout table; the report's table sits in one of its cells.
    body = f"<table><tr><td>导航</td><td><h1>{_TITLE}</h1><p>正文。</p>{_APPLY}</td></tr></table>"
    blocks = read_html(_page(body).encode("utf-8"))

    assert [type(b).__name__ for b in blocks] == ["Paragraph", "Paragraph", "TableBlock"]
    assert blocks[2].cells[1].text == "3"


def test_line_breaks_in_a_cell_become_spaces_and_in_prose_separate_paragraphs():
    # The signature "某某县财政局<br>2025年1月20日" is two lines; a label "结果<br>维持" is one cell.
    body = (f"<h1>{_TITLE}</h1><table><tr><td>结果<br>维持</td><td>本年新收</td></tr></table>"
            "<div>某某县财政局<br>2025年1月20日</div>")
    blocks = read_html(_page(body).encode("utf-8"))

    assert blocks[1].cells[0].text == "结果 维持"
    assert [b.text for b in blocks[2:]] == ["某某县财政局", "2025年1月20日"]


def test_a_page_without_a_report_is_refused_with_a_reason():
    # A site's list page: links, no section 三 table.
    with pytest.raises(DocumentError, match="holds no annual report"):
        read_html(_page("<ul><li><a>2024年年报</a></li></ul><img src='a.png'>").encode("utf-8"), "list.html")


def test_a_page_with_two_reports_is_refused_with_a_reason():
    # Two agencies' reports published on one page.
    body = f"<h1>{_TITLE}</h1>{_APPLY}<h1>某某县教育局2024年政府信息公开工作年度报告</h1>{_APPLY}"
    with pytest.raises(DocumentError, match="holds 2 reports"):
        read_html(_page(body).encode("utf-8"))


def test_an_xhtml_page_declaring_its_encoding_in_an_xml_declaration_is_read():
    # Older CMSs write XHTML: <?xml version="1.0" encoding="gbk"?> before the root, in GBK bytes.
    page = f'<?xml version="1.0" encoding="gbk"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head>' \
           f'<meta http-equiv="Content-Type" content="text/html; charset=gbk"/></head><body><h1>{_TITLE}</h1>{_APPLY}</body></html>'

    blocks = read_html(page.encode("gbk"))

    assert blocks[0] == Paragraph(_TITLE) and isinstance(blocks[1], TableBlock)


def test_an_agency_name_on_its_own_line_above_the_title_is_part_of_the_title():
    # <h2>某某县财政局</h2><h1>2024年政府信息公开工作年度报告</h1>: the agency is the title's first line.
    body = f"<div>网站导航</div><div><h2>某某县财政局</h2><h1>2024年政府信息公开工作年度报告</h1>{_APPLY}</div>"

    blocks = read_html(_page(body).encode("utf-8"))

    assert [b.text for b in blocks[:2]] == ["某某县财政局", "2024年政府信息公开工作年度报告"]
