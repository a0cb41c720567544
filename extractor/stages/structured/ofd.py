"""Read an OFD file (GB/T 33190): its text boxes with their positions and its ruling lines.

OFD is a fixed-layout format, like PDF: a page holds positioned text objects and drawn paths,
and a table is text inside drawn rules. The page is therefore read as a born-digital PDF page
is: its text objects become tokens (ofdkit reads them, with templates, composite objects and
transforms applied), its straight path segments are drawn as the page image's rules, and the
pipeline's layout and grid stages find the tables on that image as they do on a PDF page.

ofdkit (no dependencies, safety limits on parts and entries) was chosen over easyofd, which
turns a page into a PDF through reportlab and PyMuPDF and gives no text boxes of its own, and
ofdreader, whose published wheel holds no code. ofdkit does not read paths, so the ruling lines
are read here from the same package (its reader, with its limits).
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

from extractor.datamodel import BBox, PageRecord, TextToken, TokenSource
from extractor.stages.rasterise.errors import DocumentError
from extractor.stages.structured.layout import LaidOutPage

_log = logging.getLogger(__name__)

# Millimetres per inch (OFD coordinates are in mm).
_MM_PER_INCH = 25.4
# A glyph's box around its baseline, in units of the font size: ascent above, descent below.
_ASCENT, _DESCENT = 0.88, 0.12
# Two text runs on one baseline are one token when the gap between them is under this many ems
# (some producers write one TextCode per character).
_JOIN_GAP_EM = 0.3
# Numbers taken by each path command of AbbreviatedData after its letter (GB/T 33190 9.3.3: S start,
# M move, L line, Q quadratic and B cubic Bézier, A arc, C close; Z, PostScript's close, accepted too).
_PATH_ARGS = {"S": 2, "M": 2, "L": 2, "Q": 4, "B": 6, "A": 7, "C": 0, "Z": 0}
# Deepest PageBlock nesting followed.
_MAX_NESTING = 16
# Line width of a path that states none, mm (GB/T 33190 default 0.353 mm).
_DEFAULT_LINE_MM = 0.353
# An AbbreviatedData token: a command letter or a number.
_PATH_TOKEN = re.compile(r"[A-Za-z]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class _Run:
    """A text run in page millimetres (top-left origin, y the baseline)."""

    text: str
    x: float
    y: float
    size: float
    width: float


def read_ofd(path: Path, dpi: float, source: str = "OFD file") -> list[LaidOutPage]:
    """Every page of an OFD file as tokens and rules in pixels at `dpi`; tables are left to find.

    Raises:
        DocumentError: not a readable OFD file, or no page in it.
    """
    import ofdkit
    from ofdkit.package import Package

    scale = dpi / _MM_PER_INCH
    try:
        with ofdkit.open(path) as document, Package(path) as package:
            pages = []
            for page in document.pages:
                x0, y0, width, height = page.box
                runs = [_Run(r.text, r.x - x0, r.y - y0, r.size, r.width) for r in page.runs if r.text.strip()]
                rules = _page_rules(package, page.location, x0, y0) if page.location else []
                record = PageRecord(
                    index=page.index,
                    width=max(1, math.ceil(width * scale)),
                    height=max(1, math.ceil(height * scale)),
                    dpi=dpi,
                    tokens=[_token(r, scale) for r in _join_runs(runs)],
                )
                pages.append(LaidOutPage(record=record, rules=[(a * scale, b * scale, c * scale, d * scale, max(1.0, w * scale))
                                                               for a, b, c, d, w in rules]))
    except ofdkit.OFDError as exc:
        raise DocumentError(source, f"not a readable OFD file ({exc})") from exc
    if not pages:
        raise DocumentError(source, "the OFD file has no pages")
    if not any(p.record.tokens for p in pages):
        # Page images are not drawn here, so a scan saved as OFD would come out blank.
        raise DocumentError(
            source, "the OFD file has no text (a scan saved as OFD?): its page images are not read; print it to PDF"
        )
    return pages


def _token(run: _Run, scale: float) -> TextToken:
    box = BBox(x1=run.x * scale, y1=(run.y - _ASCENT * run.size) * scale,
               x2=(run.x + run.width) * scale, y2=(run.y + _DESCENT * run.size) * scale)
    return TextToken(text=run.text, bbox=box, source=TokenSource.TEXT_LAYER)


def _join_runs(runs: list[_Run]) -> list[_Run]:
    """Runs on one baseline with (almost) no gap between them joined into one."""
    out: list[_Run] = []
    for run in sorted(runs, key=lambda r: (round(r.y / max(r.size, 0.1) * 4), r.x)):
        last = out[-1] if out else None
        if (
            last is not None
            and abs(last.y - run.y) < 0.2 * max(run.size, last.size)
            and abs(last.size - run.size) < 0.1 * max(run.size, 0.1)
            and -0.1 * run.size <= run.x - (last.x + last.width) < _JOIN_GAP_EM * run.size
        ):
            out[-1] = _Run(last.text + run.text, last.x, last.y, last.size, run.x + run.width - last.x)
        else:
            out.append(run)
    return out


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _numbers(value: str | None, count: int) -> tuple[float, ...] | None:
    try:
        parts = [float(v) for v in (value or "").split()]
    except ValueError:
        return None
    return tuple(parts) if len(parts) == count else None


def _page_rules(package, location: str, x0: float, y0: float) -> list[tuple[float, float, float, float, float]]:
    """Straight segments of the page's stroked paths, page mm: (x1, y1, x2, y2, line width)."""
    root = package.read_xml(location)
    out: list[tuple[float, float, float, float, float]] = []

    def walk(element, depth: int) -> None:
        for child in element:
            name = _local(child.tag)
            if name == "PathObject":
                out.extend(_path_segments(child, x0, y0))
            elif name in ("Layer", "PageBlock", "Content") and depth < _MAX_NESTING:
                walk(child, depth + 1)

    walk(root, 0)
    return out


def _path_segments(element, x0: float, y0: float) -> list[tuple[float, float, float, float, float]]:
    if (element.get("Stroke") or "true").strip().lower() == "false" and (element.get("Fill") or "").lower() != "true":
        return []
    if (element.get("Visible") or "true").strip().lower() == "false":
        return []
    box = _numbers(element.get("Boundary"), 4)
    if box is None:
        return []
    a, b, c, d, e, f = _numbers(element.get("CTM"), 6) or (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    line_width = float(_numbers(element.get("LineWidth"), 1)[0]) if _numbers(element.get("LineWidth"), 1) else _DEFAULT_LINE_MM
    data = next((child.text for child in element if _local(child.tag) == "AbbreviatedData"), None)
    if not data:
        return []

    def place(x: float, y: float) -> tuple[float, float]:
        return a * x + c * y + e + box[0] - x0, b * x + d * y + f + box[1] - y0

    segments = []
    tokens = _PATH_TOKEN.findall(data)
    i, current, start = 0, None, None
    while i < len(tokens):
        command = tokens[i].upper()
        n = _PATH_ARGS.get(command)
        if n is None:
            i += 1
            continue
        try:
            args = [float(t) for t in tokens[i + 1 : i + 1 + n]]
        except ValueError:
            break
        if len(args) < n:
            break
        i += 1 + n
        if command in ("S", "M"):
            current = start = place(args[0], args[1])
        elif command == "L" and current is not None:
            point = place(args[0], args[1])
            segments.append((*current, *point, line_width))
            current = point
        elif command in ("C", "Z") and current is not None and start is not None:
            segments.append((*current, *start, line_width))
            current = start
        elif command in ("Q", "B", "A"):
            current = place(args[-2], args[-1])  # curves are not table rules: move to their end
    return segments
