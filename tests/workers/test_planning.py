"""Page planning for the service's queues: HTML, DOCX and OFD pages never go to the OCR queue."""

from __future__ import annotations

from workers.planning import plan_pages


def test_an_html_report_is_planned_without_ocr(tmp_path):
    # A saved web page: its text is in the file, so its one page goes to the ordinary page queue.
    path = tmp_path / "r.html"
    path.write_text("<html><body><h1>某某县2024年政府信息公开工作年度报告</h1>"
                    "<table><tr><td>本年新收</td><td>1</td></tr></table></body></html>", encoding="utf-8")

    assert plan_pages(path) == [False]


def test_a_page_over_the_pixel_limit_is_refused_with_its_size_before_rendering(tmp_path):
    # A 1000 × 1000 pt PDF page renders at 2778 × 2778 px at 200 dpi (7.7 Mpx); a 4000 × 3000 PNG is 12 Mpx.
    # Under a 10 Mpx limit the PDF is planned, the PNG refused; under 5 Mpx both, each naming page and size.
    import pypdfium2 as pdfium
    import pytest
    from PIL import Image

    from extractor.stages.rasterise import DocumentError

    pdf_path, png_path = tmp_path / "big.pdf", tmp_path / "big.png"
    pdf = pdfium.PdfDocument.new()
    pdf.new_page(1000, 1000)
    pdf.save(pdf_path)
    pdf.close()
    Image.new("L", (4000, 3000), 255).save(png_path)

    assert plan_pages(pdf_path, max_page_pixels=10_000_000, dpi=200) == [True]
    with pytest.raises(DocumentError, match=r"page 1 would be 4000×3000 px \(12 megapixels\), more than the limit of 10"):
        plan_pages(png_path, max_page_pixels=10_000_000, dpi=200)
    with pytest.raises(DocumentError, match=r"page 1 would be 2778×2778 px \(8 megapixels\), more than the limit of 5"):
        plan_pages(pdf_path, max_page_pixels=5_000_000, dpi=200)
