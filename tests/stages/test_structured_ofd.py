"""OFD files: text boxes with positions (ofdkit), ruling lines from paths, a fixture the project writes."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from extractor.stages.rasterise import DocumentError, open_document
from extractor.stages.structured import StructuredSource, draw_page
from extractor.stages.structured.ofd import read_ofd

_NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'
# One word of text, for pages that must hold some.
_WORD = '<ofd:TextObject ID="90" Boundary="0 0 9 9" Size="4"><ofd:TextCode X="0" Y="4">字</ofd:TextCode></ofd:TextObject>'


def _ofd(path: Path, objects: str, box: str = "0 0 210 297") -> Path:
    """A one-page OFD package (GB/T 33190) holding `objects` on its page."""
    parts = {
        "OFD.xml": f'<ofd:OFD {_NS} Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo><ofd:DocID>t</ofd:DocID>'
        "</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        "Doc_0/Document.xml": f"<ofd:Document {_NS}><ofd:CommonData><ofd:PageArea><ofd:PhysicalBox>{box}"
        '</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData><ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/>'
        "</ofd:Pages></ofd:Document>",
        "Doc_0/Pages/Page_0/Content.xml": f'<ofd:Page {_NS}><ofd:Content><ofd:Layer ID="2">{objects}'
        "</ofd:Layer></ofd:Content></ofd:Page>",
    }
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return path


def test_text_boxes_become_tokens_in_page_pixels(tmp_path):
    # "12" written one character per TextCode (as some producers do) at 20 mm, 30 mm; a title elsewhere.
    objects = (
        '<ofd:TextObject ID="3" Boundary="20 26 20 6" Size="4"><ofd:TextCode X="0" Y="4">1</ofd:TextCode>'
        '<ofd:TextCode X="2" Y="4">2</ofd:TextCode></ofd:TextObject>'
        '<ofd:TextObject ID="4" Boundary="50 10 100 8" Size="5"><ofd:TextCode X="0" Y="5">年度报告</ofd:TextCode></ofd:TextObject>'
    )
    page = read_ofd(_ofd(tmp_path / "a.ofd", objects), dpi=254)[0]  # 10 px per mm

    assert (page.record.width, page.record.height) == (2100, 2970)
    tokens = {t.text: t.bbox for t in page.record.tokens}
    assert set(tokens) == {"12", "年度报告"}
    assert round(tokens["12"].x1) == 200 and round(tokens["12"].y2) == 305  # baseline 30 mm + descent
    assert page.record.tables is None  # tables are found on the drawn page, as on a PDF's


def test_stroked_paths_become_ruling_lines_and_are_drawn(tmp_path):
    # A 100 × 20 mm rectangle at (10, 50) with a line width of 0.5 mm, and an unstroked filled shape.
    objects = (
        '<ofd:PathObject ID="5" Boundary="10 50 100 20" LineWidth="0.5">'
        "<ofd:AbbreviatedData>M 0 0 L 100 0 L 100 20 L 0 20 C</ofd:AbbreviatedData></ofd:PathObject>"
        '<ofd:PathObject ID="6" Boundary="0 0 5 5" Stroke="false"><ofd:AbbreviatedData>M 0 0 L 5 5</ofd:AbbreviatedData>'
        "</ofd:PathObject>"
    )
    page = read_ofd(_ofd(tmp_path / "b.ofd", objects + _WORD), dpi=254)[0]

    assert [tuple(round(v) for v in r[:4]) for r in page.rules] == [
        (100, 500, 1100, 500), (1100, 500, 1100, 700), (1100, 700, 100, 700), (100, 700, 100, 500)]
    image = draw_page(page)
    assert image[500, 600].max() < 100 and image[600, 600].min() > 200  # a rule is ink, inside is paper


def test_an_ofd_opens_by_content_as_a_structured_source(tmp_path):
    # The file is named .zip; its OFD.xml member makes it an OFD document.
    path = _ofd(tmp_path / "c.zip", '<ofd:TextObject ID="3" Boundary="0 0 9 9" Size="4"><ofd:TextCode X="0" Y="4">字'
                                    "</ofd:TextCode></ofd:TextObject>")
    with open_document(path) as source:
        assert isinstance(source, StructuredSource) and source.format == "ofd" and len(source) == 1


def test_an_ofd_without_text_is_refused_as_a_probable_scan(tmp_path):
    # Only an image object on the page: a scan saved as OFD, whose images this reader does not draw.
    path = _ofd(tmp_path / "scan.ofd", '<ofd:ImageObject ID="3" Boundary="0 0 210 297" ResourceID="9"/>')

    with pytest.raises(DocumentError, match="no text"):
        open_document(path)
