"""The same generated report as published on the web (HTML), as a Word file (DOCX) and as OFD.

The report's HTML (:func:`extractor.synth.html.build_html`) is what WeasyPrint prints to PDF;
here it is also saved as a web page (inside a site's frame, in GBK when it fits), turned into a
Word document whose merged cells are Word merges (``gridSpan``, ``vMerge``), and written as an
OFD package (GB/T 33190: a zip of XML parts) with text objects and ruled cells at fixed
positions. Values and prose are the same in every format, so one truth serves them all.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from html import escape
from pathlib import Path

from extractor.stages.structured.blocks import Paragraph, TableBlock
from extractor.stages.structured.html import read_html, table_block
from extractor.stages.structured.layout import lay_out

# Formats of a generated report besides PDF (the `level` of its truth).
FORMAT_LEVELS = ("html", "docx", "ofd")
# OFD namespace.
_OFD_NS = "http://www.ofdspec.org/2016"
# Time stamped on every zip member (DOCX, OFD), so a generated file is the same bytes every time.
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)
# Width of a narrow character in ems, as the structured layout measures text.
_NARROW_EM = 0.55


def site_page(report_html: str, agency: str, date_text: str) -> str:
    """The report inside a government site's frame: banner, menu, breadcrumb, article info, footer."""
    title = re.search(r"<h1[^>]*>(.*?)</h1>", report_html, re.DOTALL)
    title_text = re.sub(r"<[^>]+>", "", title.group(1)) if title else ""
    body = report_html.split("<body>", 1)[1].rsplit("</body>", 1)[0]
    nav = "".join(f'<li><a href="/{i}/">{escape(t)}</a></li>' for i, t in
                  enumerate(("首页", "政务公开", "政府信息公开年报", "政策文件", "互动交流", "办事服务")))
    related = "".join(f'<li><a href="/nb/{y}.html">{escape(agency)}{y}年政府信息公开工作年度报告</a></li>'
                      for y in (2019, 2020, 2021))
    return (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
        f"<title>{escape(title_text)}_{escape(agency)}门户网站</title>"
        "<script>var _hmt = _hmt || []; document.write('统计');</script>"
        "<style>.nav li{display:inline} .hidden{display:none}</style></head><body>"
        f'<div class="header"><div class="logo">{escape(agency)}门户网站</div><ul class="nav">{nav}</ul></div>'
        f'<div class="crumb">当前位置：首页 &gt; 政务公开 &gt; 政府信息公开年报 &gt; {escape(title_text)}</div>'
        '<div class="main"><div class="article">'
        f'<div class="info">来源：{escape(agency)}　　字号：[大 中 小]　　浏览次数：128</div>'
        f"{body}"
        '<div class="tools">【打印本页】【关闭窗口】</div></div>'
        f'<div class="side"><h3>相关文章</h3><ul>{related}</ul></div></div>'
        f'<div class="footer">主办单位：{escape(agency)}　网站标识码：1234567890　ICP备12345678号</div>'
        "</body></html>"
    )


def write_html(page_html: str, path: Path, encoding: str = "utf-8") -> Path:
    """Save a page in `encoding` (its ``<meta charset>`` says so); GBK falls back to GB18030."""
    try:
        data = _with_charset(page_html, encoding).encode(encoding)
    except UnicodeEncodeError:
        encoding = "gb18030"
        data = _with_charset(page_html, encoding).encode(encoding)
    path.write_bytes(data)
    return path


def _with_charset(page_html: str, encoding: str) -> str:
    return re.sub(r"<meta charset=['\"][^'\"]*['\"]>", f'<meta charset="{encoding}">', page_html, count=1)


def _report_blocks(report_html: str):
    return read_html(report_html.encode("utf-8"), "generated report")


def write_docx(report_html: str, path: Path) -> Path:
    """The report as a Word document: headings and paragraphs, tables with Word's cell merges."""
    import docx
    from lxml import html as lxml_html

    document = docx.Document()
    root = lxml_html.document_fromstring(report_html)
    for element in root.body.iterchildren():
        if element.tag == "table":
            _docx_table(document, table_block(element))
        elif element.tag in ("h1", "h2", "h3", "p", "div"):
            for line in _lines(element):
                document.add_paragraph(line)
    document.save(str(path))
    _fix_zip_times(path)
    return path


def _fix_zip_times(path: Path) -> None:
    """Rewrite a zip with one fixed time on every member, so the same input gives the same bytes."""
    with zipfile.ZipFile(path) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)


def _lines(element) -> list[str]:
    """An element's text split at its <br> line breaks."""
    parts = [element.text or ""]
    for child in element:
        if child.tag == "br":
            parts.append("\n")
        else:
            parts.append(child.text_content())
        parts.append(child.tail or "")
    return [line.strip() for line in "".join(parts).split("\n") if line.strip()]


def _docx_table(document, block: TableBlock) -> None:
    table = document.add_table(rows=block.n_rows, cols=block.n_cols)
    table.style = "Table Grid"
    for cell in block.cells:
        target = table.cell(cell.row, cell.col)
        if cell.row_span > 1 or cell.col_span > 1:
            target = target.merge(table.cell(cell.row + cell.row_span - 1, cell.col + cell.col_span - 1))
        target.text = cell.text


def write_ofd(report_html: str, path: Path) -> Path:
    """The report as a one-page OFD file: every text line a TextObject, every cell a ruled PathObject.

    The page is laid out as the structured reader lays out an HTML page, in millimetres (a
    layout at 25.4 dpi is one unit a millimetre), so text and cells sit where a person expects.
    """
    blocks = [b for b in _report_blocks(report_html) if isinstance(b, (Paragraph, TableBlock))]
    page = lay_out(blocks, dpi=25.4).record
    width, height = round(page.width, 2), round(page.height, 2)
    objects: list[str] = []
    next_id = 10
    for table in page.tables or []:
        for cell in table.cells:
            b = cell.bbox
            w, h = b.x2 - b.x1, b.y2 - b.y1
            objects.append(
                f'<ofd:PathObject ID="{next_id}" Boundary="{b.x1:.3f} {b.y1:.3f} {w:.3f} {h:.3f}" LineWidth="0.25">'
                f"<ofd:AbbreviatedData>M 0 0 L {w:.3f} 0 L {w:.3f} {h:.3f} L 0 {h:.3f} C</ofd:AbbreviatedData></ofd:PathObject>"
            )
            next_id += 1
    for token in page.tokens or []:
        b = token.bbox
        size = b.y2 - b.y1
        advances = [size if unicodedata.east_asian_width(ch) in ("W", "F") else size * _NARROW_EM for ch in token.text]
        delta = " ".join(f"{a:.3f}" for a in advances[:-1])
        delta_attr = f' DeltaX="{delta}"' if delta else ""
        objects.append(
            f'<ofd:TextObject ID="{next_id}" Boundary="{b.x1:.3f} {b.y1:.3f} {b.x2 - b.x1 + size:.3f} {size * 1.2:.3f}" '
            f'Font="2" Size="{size:.3f}"><ofd:TextCode X="0" Y="{size * 0.88:.3f}"{delta_attr}>{escape(token.text)}'
            "</ofd:TextCode></ofd:TextObject>"
        )
        next_id += 1
    ns = f'xmlns:ofd="{_OFD_NS}"'
    box = f"0 0 {width} {height}"
    parts = {
        "OFD.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {ns} Version="1.0" DocType="OFD"><ofd:DocBody>'
        "<ofd:DocInfo><ofd:DocID>nianbao-synth</ofd:DocID><ofd:Creator>nianbao</ofd:Creator></ofd:DocInfo>"
        "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        "Doc_0/Document.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {ns}><ofd:CommonData>'
        f"<ofd:MaxUnitID>{next_id}</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>{box}</ofd:PhysicalBox></ofd:PageArea>"
        "<ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData>"
        '<ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages></ofd:Document>',
        "Doc_0/PublicRes.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res {ns} BaseLoc="Res"><ofd:Fonts>'
        '<ofd:Font ID="2" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>',
        "Doc_0/Pages/Page_0/Content.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {ns}>'
        f'<ofd:Area><ofd:PhysicalBox>{box}</ofd:PhysicalBox></ofd:Area><ofd:Content><ofd:Layer ID="3">'
        + "".join(objects) + "</ofd:Layer></ofd:Content></ofd:Page>",
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))
    return path
