"""HTML → laid-out pages → PDF, with the page and box of every tagged value cell.

WeasyPrint lays the HTML out in CSS px (96 per inch) with the page origin at the top-left; the
boxes found here are converted to page pixels at `dpi` (200). A scanned level rasterises the
born-digital PDF with pypdfium2 at `dpi`, stamps the seal, degrades each page with one of two
scan simulators (:class:`Scanner`: ours, :func:`extractor.synth.degrade.scan_page`, or Augraphy's,
:func:`extractor.synth.augraphy_scan.scan_page_augraphy`) and maps every box onto the scan with the
page's map (ours: an affine matrix; Augraphy: a grid of keypoints it moved with the pixels).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import partial

import numpy as np
from PIL import Image

_log = logging.getLogger(__name__)

# CSS px per inch (WeasyPrint's unit).
CSS_DPI = 96.0
# Ids of elements whose boxes the generator needs besides value cells.
_ANCHOR_IDS = ("signature", "apply-table", "appeal-table")


@dataclass
class Layout:
    """Where things landed on the rendered pages (boxes in page pixels at `dpi`)."""

    document: object  # weasyprint.Document
    n_pages: int
    cells: dict[str, tuple[int, list[float]]]  # data-field → (page, [x1, y1, x2, y2])
    anchors: dict[str, list[tuple[int, list[float]]]]  # element id → [(page, box)] per page it is on
    labels: list[dict]  # label cells and headings: role, key, text, page, bbox (one per page shown on)
    dpi: int


def _walk(box, visit) -> None:
    visit(box)
    for child in getattr(box, "children", None) or []:
        _walk(child, visit)


def _text_extent(box, k: float) -> list[float] | None:
    """Union of the text boxes inside `box` (the printed signature lines), page pixels."""
    found: list[list[float]] = []

    def visit(b) -> None:
        if type(b).__name__ == "TextBox":
            found.append([b.position_x, b.position_y, b.position_x + b.width, b.position_y + b.height])

    _walk(box, visit)
    if not found:
        return None
    a = np.array(found)
    return [float(a[:, 0].min() * k), float(a[:, 1].min() * k), float(a[:, 2].max() * k), float(a[:, 3].max() * k)]


def _box_text(box) -> str:
    """The text drawn inside `box` on its page."""
    parts: list[str] = []

    def visit(b) -> None:
        if type(b).__name__ == "TextBox":
            parts.append(b.text)

    _walk(box, visit)
    return "".join(parts).strip()


def lay_out(html: str, dpi: int = 200) -> Layout:
    """Lay `html` out into pages and collect the boxes of tagged cells and anchors.

    A value cell belongs to one table row and rows never split across pages here, so each cell
    appears on exactly one page; the first occurrence with a positive height is kept.
    """
    from weasyprint import HTML

    document = HTML(string=html).render()
    k = dpi / CSS_DPI
    cells: dict[str, tuple[int, list[float]]] = {}
    anchors: dict[str, list[tuple[int, list[float]]]] = {}
    labels: list[dict] = []
    seen_labels: set[tuple[int, int]] = set()

    for page_no, page in enumerate(document.pages):

        def visit(box, page_no=page_no) -> None:
            element = getattr(box, "element", None)
            if element is None or not hasattr(element, "get"):
                return
            kind = type(box).__name__
            role = element.get("data-role")
            if role and kind in ("TableCellBox", "BlockBox") and box.border_height() > 0:
                seen = (id(element), page_no)
                text = _box_text(box)  # what this page shows (a merged cell split over pages)
                if seen not in seen_labels and text:
                    seen_labels.add(seen)
                    x, y = box.border_box_x(), box.border_box_y()
                    bb = [x * k, y * k, (x + box.border_width()) * k, (y + box.border_height()) * k]
                    if kind == "BlockBox":  # a heading: the extent of its text, not the full width
                        bb = _text_extent(box, k) or bb
                    labels.append({
                        "role": role,
                        "key": element.get("data-key") or "",
                        "text": text,
                        "page": page_no,
                        "bbox": bb,
                    })
            if kind == "TableCellBox":
                key = element.get("data-field")
                if key and key not in cells and box.border_height() > 0:
                    x, y = box.border_box_x(), box.border_box_y()
                    cells[key] = (page_no, [x * k, y * k, (x + box.border_width()) * k, (y + box.border_height()) * k])
            elif kind in ("BlockBox", "TableBox"):
                el_id = element.get("id")
                if el_id in _ANCHOR_IDS and box.border_height() > 0:
                    x, y = box.border_box_x(), box.border_box_y()
                    bb = [x * k, y * k, (x + box.border_width()) * k, (y + box.border_height()) * k]
                    if el_id == "signature":
                        bb = _text_extent(box, k) or bb
                    lst = anchors.setdefault(el_id, [])
                    if not any(p == page_no for p, _ in lst):
                        lst.append((page_no, bb))

        _walk(page._page_box, visit)
    return Layout(
        document=document, n_pages=len(document.pages), cells=cells, anchors=anchors, labels=labels, dpi=dpi
    )


def rasterise(pdf_bytes: bytes, dpi: int = 200) -> list[Image.Image]:
    """Every page of a PDF as an RGB image at `dpi`."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(pdf_bytes)
    try:
        return [pdf[i].render(scale=dpi / 72.0).to_pil().convert("RGB") for i in range(len(pdf))]
    finally:
        pdf.close()


class Scanner(str, Enum):
    """Which scan simulator degrades the rendered pages."""

    OURS = "ours"  # extractor.synth.degrade: the simulator the reading code was developed on
    AUGRAPHY = "augraphy"  # extractor.synth.augraphy_scan: Augraphy's phases, written by others


@dataclass
class ScannedPages:
    images: list[Image.Image]
    box_maps: list[Callable[[list[float]], list[float]]]  # per page: clean-render box -> box on the scan
    seals: list[dict]  # where seals were stamped (page, center, diameter), clean-render pixels


def scan(
    layout: Layout,
    pdf_bytes: bytes,
    level: str,
    agency: str,
    rng: np.random.Generator,
    seal_on_table: bool = False,
    scanner: Scanner | str = Scanner.OURS,
) -> ScannedPages:
    """Rasterise, stamp the seal(s) and degrade every page with `scanner`.

    The seals are part of the printed document, so both scanners get them; an Augraphy page
    takes its seed from `rng`, so the whole document still follows from one generator.
    """
    from extractor.synth.degrade import ScanLevel
    from extractor.synth.seal import draw_seal

    images = rasterise(pdf_bytes, layout.dpi)
    seals: list[dict] = []
    diameter = float(rng.uniform(290, 340))  # a 4.0–4.2 cm official seal at 200 dpi
    sig = layout.anchors.get("signature")
    if sig:
        page, (x1, y1, x2, y2) = sig[-1]
        # real seals sit over the name and the date ("骑年盖月"), a little off centre
        cx = (x1 + x2) / 2 + float(rng.uniform(-0.15, 0.15)) * max(x2 - x1, 100)
        cy = (y1 + y2) / 2 + float(rng.uniform(-25, 25))
        draw_seal(images[page], (cx, cy), diameter, agency, rng)
        seals.append({"page": page, "center": [round(cx, 1), round(cy, 1)], "diameter": round(diameter, 1)})
    if seal_on_table and layout.anchors.get("apply-table"):
        page, (x1, y1, x2, y2) = layout.anchors["apply-table"][0]
        corner = int(rng.integers(4))
        cx = x2 - diameter * 0.3 if corner % 2 else x1 + diameter * 0.3
        cy = y2 - diameter * 0.3 if corner >= 2 else y1 + diameter * 0.3
        draw_seal(images[page], (cx, cy), diameter, agency, rng)
        seals.append({"page": page, "center": [round(cx, 1), round(cy, 1)], "diameter": round(diameter, 1)})

    out, box_maps = [], []
    for img in images:
        image, box_map = scan_one_page(img, ScanLevel(level), rng, scanner)
        out.append(image)
        box_maps.append(box_map)
    return ScannedPages(images=out, box_maps=box_maps, seals=seals)


def scan_one_page(
    image: Image.Image, level: str, rng: np.random.Generator, scanner: Scanner | str = Scanner.OURS
) -> tuple[Image.Image, Callable[[list[float]], list[float]]]:
    """Degrade one clean page with `scanner`; returns the scan and its clean-box -> scan-box map."""
    from extractor.synth.degrade import ScanLevel, scan_page, transform_box

    if Scanner(scanner) is Scanner.AUGRAPHY:
        from extractor.synth.augraphy_scan import scan_page_augraphy

        res = scan_page_augraphy(image, ScanLevel(level), seed=int(rng.integers(0, 2**31 - 1)))
        return res.image, res.warp.map_box
    res = scan_page(image, ScanLevel(level), rng)
    return res.image, partial(transform_box, matrix=np.asarray(res.matrix, dtype=np.float64))
