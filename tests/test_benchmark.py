"""The bench's plumbing: real reports degraded by either scanner, and one table row per (scanner, level)."""

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageDraw

from extractor.benchmark import BenchReport, SetScore, _degrade_real, _set_name, format_bench
from extractor.synth.degrade import images_to_pdf
from extractor.synth.render import Scanner


def _two_page_pdf(path):
    """A small two-page 'report': rows of dark blocks like text, at 200 dpi."""
    pages = []
    for n in range(2):
        page = Image.new("RGB", (600, 800), "white")
        draw = ImageDraw.Draw(page)
        for y in range(80 + 10 * n, 720, 40):
            draw.rectangle([60, y, 540, y + 16], fill=(30, 30, 30))
        pages.append(page)
    images_to_pdf(pages, path, dpi=200, jpeg_quality=95)
    return path


def _pages(path):
    pdf = pdfium.PdfDocument(path)
    return [np.asarray(pdf[i].render(scale=200 / 72).to_pil().convert("L")) for i in range(len(pdf))]


def test_real_report_degraded_by_each_scanner(tmp_path):
    # A two-page PDF passed through our scanner and Augraphy's at hard, and Augraphy's again
    # with the same generator seed: every copy keeps the page count and size; the two scanners
    # give different pages, the same seed the same pages.
    source = _two_page_pdf(tmp_path / "report.pdf")
    outs = {}
    for key, scanner in (("ours", Scanner.OURS), ("aug", Scanner.AUGRAPHY), ("aug2", Scanner.AUGRAPHY)):
        folder = tmp_path / key
        folder.mkdir()
        outs[key] = _pages(_degrade_real(source, folder, "hard", scanner, np.random.default_rng([5, 0, 1])))

    clean = _pages(source)
    for pages in outs.values():
        assert [p.shape for p in pages] == [p.shape for p in clean]
    assert not np.array_equal(outs["ours"][0], outs["aug"][0])
    assert all(np.array_equal(a, b) for a, b in zip(outs["aug"], outs["aug2"], strict=True))


def test_bench_table_has_a_row_per_scanner_and_level():
    # Three sets (born-digital, and typical by each scanner) make three rows of both tables,
    # each naming its scanner and level; Augraphy's set names carry the scanner.
    sets = [
        SetScore(name="synth-digital", scanner="-", level="digital"),
        SetScore(name=_set_name("synth-typical", Scanner.OURS), scanner="ours", level="typical"),
        SetScore(name=_set_name("synth-typical", Scanner.AUGRAPHY), scanner="augraphy", level="typical",
                 seconds_to_make_per_page=1.25),
    ]

    text = format_bench(BenchReport(threads=1, peak_rss_mb=1.0, sets=sets))

    rows = [line for line in text.splitlines() if line.startswith("| synth-")]
    assert len(rows) == 6
    assert rows[1].startswith("| synth-typical | ours | typical |")
    assert rows[2].startswith("| synth-typical-augraphy | augraphy | typical |") and rows[2].endswith("| 1.25 |")
