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
# A4 page, mm, and the top and bottom margin of a generated OFD page.
_A4 = (210.0, 297.0)
_PAGE_MARGIN_MM = 25.0
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
    """The report as an OFD file of A4 pages: every text line a TextObject, every cell a ruled PathObject.

    The report is laid out as the structured reader lays out an HTML page, in millimetres (a
    layout at 25.4 dpi is one unit a millimetre), then cut into A4 pages between text lines
    and table rows; a table that runs over a page break continues on the next page, a cell
    spanning the break is drawn on both, as word processors print them.
    """
    blocks = [b for b in _report_blocks(report_html) if isinstance(b, (Paragraph, TableBlock))]
    record = lay_out(blocks, dpi=25.4).record
    width = round(max(_A4[0], record.width), 2)
    cells = [c.bbox for t in record.tables or [] for c in t.cells]
    tokens = record.tokens or []
    pages: list[list[str]] = []
    next_id = 10
    for top, bottom in _page_cuts(cells, tokens):
        objects: list[str] = []
        shift = _PAGE_MARGIN_MM - top
        for b in cells:
            y1, y2 = max(b.y1, top), min(b.y2, bottom)
            if y2 - y1 <= 0.01:
                continue
            w, h = b.x2 - b.x1, y2 - y1
            objects.append(
                f'<ofd:PathObject ID="{next_id}" Boundary="{b.x1:.3f} {y1 + shift:.3f} {w:.3f} {h:.3f}" LineWidth="0.25">'
                f"<ofd:AbbreviatedData>M 0 0 L {w:.3f} 0 L {w:.3f} {h:.3f} L 0 {h:.3f} C</ofd:AbbreviatedData></ofd:PathObject>"
            )
            next_id += 1
        for token in tokens:
            b = token.bbox
            if not top <= b.center[1] < bottom:
                continue
            size = b.y2 - b.y1
            advances = [size if unicodedata.east_asian_width(ch) in ("W", "F") else size * _NARROW_EM for ch in token.text]
            delta = " ".join(f"{a:.3f}" for a in advances[:-1])
            delta_attr = f' DeltaX="{delta}"' if delta else ""
            objects.append(
                f'<ofd:TextObject ID="{next_id}" Boundary="{b.x1:.3f} {b.y1 + shift:.3f} {b.x2 - b.x1 + size:.3f} '
                f'{size * 1.2:.3f}" Font="2" Size="{size:.3f}"><ofd:TextCode X="0" Y="{size * 0.88:.3f}"{delta_attr}>'
                f"{escape(token.text)}</ofd:TextCode></ofd:TextObject>"
            )
            next_id += 1
        pages.append(objects)
    ns = f'xmlns:ofd="{_OFD_NS}"'
    box = f"0 0 {width} {_A4[1]}"
    page_list = "".join(f'<ofd:Page ID="{i + 1}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(pages)))
    parts = {
        "OFD.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {ns} Version="1.0" DocType="OFD"><ofd:DocBody>'
        "<ofd:DocInfo><ofd:DocID>nianbao-synth</ofd:DocID><ofd:Creator>nianbao</ofd:Creator></ofd:DocInfo>"
        "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        "Doc_0/Document.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {ns}><ofd:CommonData>'
        f"<ofd:MaxUnitID>{next_id}</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>{box}</ofd:PhysicalBox></ofd:PageArea>"
        f"<ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData><ofd:Pages>{page_list}</ofd:Pages></ofd:Document>",
        "Doc_0/PublicRes.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res {ns} BaseLoc="Res"><ofd:Fonts>'
        '<ofd:Font ID="2" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>',
    }
    for i, objects in enumerate(pages):
        parts[f"Doc_0/Pages/Page_{i}/Content.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {ns}><ofd:Area><ofd:PhysicalBox>{box}</ofd:PhysicalBox>'
            f'</ofd:Area><ofd:Content><ofd:Layer ID="3">{"".join(objects)}</ofd:Layer></ofd:Content></ofd:Page>'
        )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))
    return path


def _page_cuts(cells, tokens) -> list[tuple[float, float]]:
    """(top, bottom) of each page's slice of the laid-out report, mm: cut at row edges and between lines."""
    edges = sorted({round(v, 3) for b in cells for v in (b.y1, b.y2)} | {round(t.bbox.y1, 3) for t in tokens}
                   | {round(t.bbox.y2, 3) for t in tokens})
    cuts = [y for y in edges if not any(t.bbox.y1 < y < t.bbox.y2 for t in tokens)]
    top, end = min(edges), max(edges)
    height = _A4[1] - 2 * _PAGE_MARGIN_MM
    slices = []
    while top < end:
        fits = [y for y in cuts if top < y <= top + height]
        bottom = max(fits) if fits else top + height
        if bottom >= end - 0.01 or not fits:
            bottom = end if bottom >= end - 0.01 else bottom
        slices.append((top, bottom))
        top = bottom
    return slices
