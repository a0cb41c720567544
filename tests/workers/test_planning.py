"""Page planning for the service's queues: HTML, DOCX and OFD pages never go to the OCR queue."""

from __future__ import annotations

from workers.planning import plan_pages


def test_an_html_report_is_planned_without_ocr(tmp_path):
    # A saved web page: its text is in the file, so its one page goes to the ordinary page queue.
    path = tmp_path / "r.html"
    path.write_text("<html><body><h1>某某县2024年政府信息公开工作年度报告</h1>"
                    "<table><tr><td>本年新收</td><td>1</td></tr></table></body></html>", encoding="utf-8")

    assert plan_pages(path) == [False]
