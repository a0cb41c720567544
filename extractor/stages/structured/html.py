"""Read a saved web page: its encoding, its report's tables (with spans) and its prose.

Government sites publish the report as an article inside the site's frame (banner, menus,
breadcrumb, footer), often in GBK/GB2312 and sometimes with the whole page laid out in
tables. The reader decodes the bytes, finds the report (the section 三 table, the title before
it) and returns the blocks of the article that holds them, so the site's frame is left out.
"""

from __future__ import annotations

import logging
import re

from extractor.stages.rasterise.errors import DocumentError
from extractor.stages.structured.blocks import Block, Paragraph, TableBlock, clean_text, place_rows

_log = logging.getLogger(__name__)

# A charset named in the first bytes: <meta charset="gbk"> or content="text/html; charset=gb2312".
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)
# How far into the file a <meta> charset is looked for (HTML5 says 1024 bytes; saved pages put
# comments and long <title>s first).
_META_SCAN_BYTES = 4096
# Declared charsets read as their superset: GB2312 and GBK pages often hold GBK-only characters.
_SUPERSET = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030", "cp936": "gb18030"}
# Elements whose text is never part of the page's content.
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title", "select", "option", "button",
                        "iframe", "object", "svg", "form"})
# Elements that end the paragraph before them and start a new one.
_BLOCK_TAGS = frozenset({"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "section", "article",
                         "header", "footer", "main", "aside", "nav", "blockquote", "pre", "dl", "dt", "dd",
                         "center", "hr", "br", "caption", "figure", "figcaption", "address"})
# A table of section 三: the words of its first data row.
APPLY_TABLE_WORDS = ("本年新收",)
# A report title: "<year>年(度)…政府信息公开…报告" once spaces are removed.
_TITLE = re.compile(r"20\d{2}年度?.{0,16}政府信息公开.{0,12}报告")
# Longest text of an element taken as a title (longer ones are prose restating it).
_TITLE_MAX_CHARS = 70
# Longest line above a title that starts at its year, taken as the agency's name of the title.
_AGENCY_LINE_MAX_CHARS = 30
# Breadcrumb markers: a line with one of these is the site's navigation, not the title.
_CRUMB = re.compile(r"[>›»]|当前位置|您的位置|首页")
# Largest row or column span honoured (a typo such as colspan="1000000" must not blow up the grid).
_MAX_SPAN = 200
# An XML declaration before an XHTML page's root.
_XML_DECLARATION = re.compile(r"^\ufeff?\s*<\?xml[^>]*\?>")
# An inline style that hides the element.
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def decode_html(data: bytes) -> tuple[str, str]:
    """The page as text, and the encoding it was read with.

    Order: a byte-order mark; the charset its ``<meta>`` declares, when the bytes decode with
    it; UTF-8, when they decode strictly; charset-normalizer's best guess among the encodings
    Chinese pages use; GB18030 with replacement characters as the last resort.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    declared = _META_CHARSET.search(data[:_META_SCAN_BYTES])
    if declared:
        name = declared.group(1).decode("ascii", errors="ignore").lower()
        name = _SUPERSET.get(name, name)
        try:
            return data.decode(name), name
        except (LookupError, UnicodeDecodeError):
            _log.info("declared charset %s does not decode the page; detecting", name)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["utf_8", "gb18030", "big5", "utf_16"]).best()
    if best is not None:
        return str(best), best.encoding
    return data.decode("gb18030", errors="replace"), "gb18030"


def read_html(data: bytes, source: str = "HTML page") -> list[Block]:
    """The report's blocks (prose and tables) from a saved web page.

    Steps:
        1. Decode the bytes (:func:`decode_html`) and parse them with lxml's HTML parser.
        2. Find the section 三 tables (innermost tables holding 本年新收); none or several is
           an error, since the page then holds no report or more than one.
        3. Walk up from that table to the first element that also holds a title before it
           (a short line "<year>年…政府信息公开…报告" that is not a breadcrumb): the article.
        4. Read the article from its title on: paragraphs from block elements and line
           breaks, tables from their rows with ``rowspan``/``colspan``; a table holding other
           tables is page layout, and its cells are read as prose and tables in turn.

    Raises:
        DocumentError: not parseable, no report, or several reports on the page.
    """
    import lxml.html
    from lxml import etree

    text, encoding = decode_html(data)
    # lxml refuses a decoded string that still declares an encoding (XHTML's <?xml … encoding="gbk"?>).
    text = _XML_DECLARATION.sub("", text, count=1)
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise DocumentError(source, f"the HTML page cannot be parsed ({exc})") from exc
    _log.debug("%s decoded as %s", source, encoding)
    for element in list(root.iter(*_SKIP_TAGS)):
        _drop(element)
    for element in [e for e in root.iter() if isinstance(e.tag, str) and _HIDDEN.search(e.get("style") or "")]:
        _drop(element)
    apply_tables = [
        t for t in root.iter("table")
        if not t.xpath(".//table") and any(w in _cell_text(t) for w in APPLY_TABLE_WORDS)
    ]
    if not apply_tables:
        images = len(root.xpath("//img"))
        hint = f"; it has {images} images, the tables may be pictures of them (print it to PDF)" if images else ""
        raise DocumentError(
            source,
            "the HTML page holds no annual report: no table of section 三 (本年新收…) was found" + hint,
        )
    if len(apply_tables) > 1:
        raise DocumentError(
            source,
            f"the HTML page holds {len(apply_tables)} reports (one section 三 table each): "
            "save each report as a page of its own",
        )
    article, title = _article(apply_tables[0])
    blocks: list[Block] = []
    _Walker(blocks, start=title).walk(article)
    return blocks


def _drop(element) -> None:
    """Remove an element but keep its tail text (it belongs to the parent)."""
    if element.getparent() is not None:
        element.drop_tree()


def _article(table):
    """(the element holding the report, its title element or None) for the section 三 table."""
    node = table
    while node.getparent() is not None:
        node = node.getparent()
        titles = [e for e in _elements_before(node, table) if _is_title(e)]
        if titles:
            return node, _title_start(titles[0])
    return node, None


def _title_start(title):
    """Where the title begins: the line before it too, when the title starts at the year and
    that line is short (the agency's name printed on a line of its own above the rest)."""
    text = re.sub(r"\s+", "", title.text_content())
    previous = title.getprevious()
    while previous is not None and not isinstance(previous.tag, str):
        previous = previous.getprevious()
    if previous is None or not re.match(r"20\d{2}年", text):
        return title
    above = re.sub(r"\s+", "", previous.text_content())
    if 0 < len(above) <= _AGENCY_LINE_MAX_CHARS and not _CRUMB.search(above) and previous.tag != "table":
        return previous
    return title


def _elements_before(container, stop):
    for element in container.iter():
        if element is stop:
            return
        if isinstance(element.tag, str):
            yield element


def _is_title(element) -> bool:
    if element.tag == "table":
        return False
    text = re.sub(r"\s+", "", element.text_content())
    return len(text) <= _TITLE_MAX_CHARS and bool(_TITLE.search(text)) and not _CRUMB.search(text)


def _cell_text(element) -> str:
    """An element's text, line breaks as spaces."""
    parts: list[str] = []
    for node in element.iter():
        if node is not element and node.tag == "br":
            parts.append(" ")
        if isinstance(node.tag, str) and node.text:
            parts.append(node.text)
        if node is not element and node.tail:
            parts.append(node.tail)
    return clean_text("".join(parts))


def _span(value: str | None) -> int:
    try:
        return max(1, min(_MAX_SPAN, int(str(value).strip())))
    except (TypeError, ValueError):
        return 1


def table_block(table) -> TableBlock:
    """The grid of an HTML table with no table inside it."""
    rows = []
    for tr in table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr"):
        rows.append([(_cell_text(td), _span(td.get("rowspan")), _span(td.get("colspan"))) for td in tr.xpath("./td | ./th")])
    return place_rows(rows)


class _Walker:
    """Collects blocks in document order, from the `start` element on (None: from the start)."""

    def __init__(self, blocks: list[Block], start) -> None:
        self.blocks = blocks
        self.started = start is None
        self.start = start
        self.text: list[str] = []

    def flush(self) -> None:
        text = clean_text("".join(self.text))
        self.text = []
        if text and self.started:
            self.blocks.append(Paragraph(text))

    def walk(self, element) -> None:
        if element is self.start:
            self.flush()
            self.text = []
            self.started = True
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag == "table" and not element.xpath(".//table"):
            self.flush()
            if self.started:
                block = table_block(element)
                if block.cells:
                    self.blocks.append(block)
            return
        block_level = tag in _BLOCK_TAGS or tag in ("table", "tr", "td", "th")
        if block_level:
            self.flush()
        if tag and element.text:
            self.text.append(element.text)
        for child in element:
            self.walk(child)
            if child.tail:
                self.text.append(child.tail)
        if block_level:
            self.flush()
