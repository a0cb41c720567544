"""Open PDFs and images and turn their pages into RGB page images.

A PDF page is rendered with PDFium at a chosen DPI; an image file (PNG, JPEG, TIFF, multi-page
TIFF) is decoded and, when it states its own resolution, resampled to the same DPI so every later
stage sees pages at one scale (the grid stage's kernel lengths are tuned for 200 dpi).
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageOps, UnidentifiedImageError

from extractor.datamodel import PageRecord
from extractor.stages.rasterise.errors import DocumentError

if TYPE_CHECKING:
    from extractor.stages.structured import StructuredSource

_log = logging.getLogger(__name__)

# Largest page image we agree to hold in memory, in pixels. A3 at 600 dpi is ~70 Mpx; anything
# bigger is a decompression bomb or a mistake, and an RGB copy of it would need > 300 MB.
MAX_PAGE_PIXELS = 100_000_000

# Most pages a document may have. Annual reports run to 5–40 pages (the longest seen, with
# annexes, under 100); a file with hundreds is a bad input (a scanned book, a blank export)
# whose pages would hold a worker for an hour: refused at once, with the count.
MAX_PAGES = 300

# Resolution assumed for an image file that does not state one (typical office scanner setting).
DEFAULT_IMAGE_DPI = 200.0

# Stated resolutions outside this range are treated as missing: many files carry 1 or 72 dpi
# placeholders written by software that never knew the scan resolution.
_PLAUSIBLE_DPI = (100.0, 1200.0)

# Image file suffixes handled by Pillow rather than PDFium.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"})

# PDFium load error codes, translated for the batch report.
_PDFIUM_REASONS = {
    pdfium_c.FPDF_ERR_FILE: "file not found or could not be opened",
    pdfium_c.FPDF_ERR_FORMAT: "not a PDF or corrupted",
    pdfium_c.FPDF_ERR_PASSWORD: "the PDF is encrypted (password-protected)",
    pdfium_c.FPDF_ERR_SECURITY: "unsupported PDF security handler",
    pdfium_c.FPDF_ERR_PAGE: "page not found or content error",
}

# An empty page tree (PDFium refuses such a document as a format error, or with no error code).
_EMPTY_PAGE_TREE = re.compile(rb"/Count\s*0\b")
# Any page object (``/Type /Page`` not followed by ``s``).
_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?!s)\b")


@dataclass(frozen=True)
class PageImage:
    """One page as pixels, with the page record the later stages fill in."""

    image: np.ndarray  # H × W × 3 uint8, RGB, top-left origin; the pixels every box refers to
    record: PageRecord  # index, width/height (= image size), dpi, rotation/skew once uprighted


class PdfSource:
    """An opened PDF. Not thread-safe (PDFium is not): use one per worker thread.

    Attributes:
        path: file the document was read from.
        document: the PDFium document handle.
    """

    def __init__(self, path: Path, document: pdfium.PdfDocument) -> None:
        self.path = path
        self.document = document

    def __len__(self) -> int:
        return len(self.document)

    def close(self) -> None:
        self.document.close()

    def __enter__(self) -> PdfSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ImageSource:
    """An opened image file; a multi-page TIFF has one page per frame.

    Attributes:
        path: file the image was read from.
        n_pages: number of frames.
    """

    def __init__(self, path: Path, image: Image.Image, n_pages: int) -> None:
        self.path = path
        self._image = image
        self.n_pages = n_pages

    def __len__(self) -> int:
        return self.n_pages

    def frame(self, index: int) -> Image.Image:
        """The decoded frame `index`, EXIF orientation applied.

        Raises:
            DocumentError: the frame is larger than `MAX_PAGE_PIXELS` or cannot be decoded.
        """
        if not 0 <= index < self.n_pages:
            raise IndexError(f"page {index} out of range 0..{self.n_pages - 1}")
        self._image.seek(index)
        _check_pixels(self.path, *self._image.size)
        try:
            frame = self._image.copy()
        except (OSError, Image.DecompressionBombError) as exc:
            raise DocumentError(str(self.path), f"page {index} cannot be decoded: {exc}") from exc
        return ImageOps.exif_transpose(frame)

    def close(self) -> None:
        self._image.close()

    def __enter__(self) -> ImageSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_pdf(path: str | Path, password: str | None = None) -> PdfSource:
    """Open a PDF for rendering and text extraction.

    Args:
        path: the PDF file.
        password: user password of an encrypted PDF; None for an unencrypted one.

    Returns:
        The opened document.

    Raises:
        DocumentError: the file is missing, not a PDF, corrupt, encrypted (and no or a wrong
            password was given), or has no pages.
    """
    path = Path(path)
    try:
        document = pdfium.PdfDocument(path, password=password)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        reason = _PDFIUM_REASONS.get(code, f"cannot be opened ({exc})")
        if code == pdfium_c.FPDF_ERR_PASSWORD and password:
            reason = "the PDF is encrypted and the password given is wrong"
        elif code in (pdfium_c.FPDF_ERR_FORMAT, pdfium_c.FPDF_ERR_SUCCESS) and _has_empty_page_tree(path):
            reason = "the PDF has no pages"
        raise DocumentError(str(path), reason) from exc
    if len(document) == 0:
        document.close()
        raise DocumentError(str(path), "the PDF has no pages")
    _check_page_count(path, len(document), document.close)
    return PdfSource(path, document)


def open_image(path: str | Path) -> ImageSource:
    """Open an image file (PNG, JPEG, TIFF, multi-page TIFF) as a page source.

    Only the header is read here; frames are decoded one at a time by `render_page`.

    Raises:
        DocumentError: not a readable image, or a frame above `MAX_PAGE_PIXELS`.
    """
    path = Path(path)
    try:
        # Pillow only warns between its own limit and twice that; our explicit cap decides.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except FileNotFoundError as exc:
        raise DocumentError(str(path), "file not found") from exc
    except Image.DecompressionBombError as exc:
        raise DocumentError(str(path), f"image too large (decompression bomb): {exc}") from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise DocumentError(str(path), f"not a readable image ({exc})") from exc
    n_pages = getattr(image, "n_frames", 1)
    _check_page_count(path, n_pages, image.close)
    image.seek(0)
    _check_pixels(path, *image.size)
    return ImageSource(path, image, n_pages)


def open_document(path: str | Path, password: str | None = None) -> PdfSource | ImageSource | StructuredSource:
    """Open a PDF, an image, an HTML page, a Word document or an OFD file, chosen by its
    content (not its suffix).

    Raises:
        DocumentError: as `open_pdf` / `open_image` /
            :func:`extractor.stages.structured.open_structured`.
    """
    from extractor.stages.structured import open_structured, structured_format

    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError as exc:
        raise DocumentError(str(path), f"cannot be read ({exc})") from exc
    # PDF readers accept the header anywhere in the first 1 KiB.
    if b"%PDF-" in head:
        return open_pdf(path, password=password)
    structured = structured_format(path, head)
    if structured is not None:
        return open_structured(path, structured)
    return open_image(path)


def render_page(source: PdfSource | ImageSource | StructuredSource, index: int, dpi: float = 200.0) -> PageImage:
    """Render one page to an RGB image and start its page record.

    Args:
        source: an opened PDF or image file.
        index: 0-based page number.
        dpi: output resolution. For an image that states no plausible resolution this is the
            resolution assumed, and the pixels are kept as they are.

    Returns:
        The page image and a `PageRecord` with index, width, height and dpi set.

    Raises:
        DocumentError: the page would exceed `MAX_PAGE_PIXELS` or cannot be decoded.
    """
    if isinstance(source, PdfSource):
        return _render_pdf_page(source, index, dpi)
    if isinstance(source, ImageSource):
        return _render_image_page(source, index, dpi)
    return _render_structured_page(source, index, dpi)


def _render_structured_page(source: StructuredSource, index: int, dpi: float) -> PageImage:
    """The drawn page of an HTML, DOCX or OFD document (its text, cells and rules)."""
    from extractor.stages.structured import draw_page

    page = source.page(index, dpi)
    _check_pixels(source.path, page.record.width, page.record.height)
    image = draw_page(page)
    record = PageRecord(index=index, width=image.shape[1], height=image.shape[0], dpi=dpi)
    return PageImage(image=image, record=record)


def _render_pdf_page(source: PdfSource, index: int, dpi: float) -> PageImage:
    page = source.document[index]
    try:
        scale = dpi / 72.0
        # Same size arithmetic as PdfPage.render, so boxes mapped with page_to_pixels agree.
        width, height = (math.ceil(v * scale) for v in page.get_size())
        _check_pixels(source.path, width, height)
        bitmap = page.render(scale=scale, rev_byteorder=True)
        image = np.ascontiguousarray(bitmap.to_numpy()[:, :, :3])
    finally:
        page.close()
    record = PageRecord(index=index, width=image.shape[1], height=image.shape[0], dpi=dpi)
    return PageImage(image=image, record=record)


def _render_image_page(source: ImageSource, index: int, dpi: float) -> PageImage:
    frame = source.frame(index)
    stated = frame.info.get("dpi")
    file_dpi = float(stated[0]) if stated else 0.0
    if _PLAUSIBLE_DPI[0] <= file_dpi <= _PLAUSIBLE_DPI[1]:
        if abs(file_dpi - dpi) / dpi > 0.02:
            factor = dpi / file_dpi
            size = (max(1, round(frame.width * factor)), max(1, round(frame.height * factor)))
            _check_pixels(source.path, *size)
            frame = frame.resize(size, Image.Resampling.LANCZOS if factor < 1 else Image.Resampling.BICUBIC)
    else:
        _log.info("%s page %d states no usable dpi (%s); assuming %.0f", source.path, index, stated, dpi)
    image = np.ascontiguousarray(np.asarray(frame.convert("RGB")))
    record = PageRecord(index=index, width=image.shape[1], height=image.shape[0], dpi=dpi)
    return PageImage(image=image, record=record)


def _has_empty_page_tree(path: Path) -> bool:
    """Whether an unloadable PDF declares an empty page tree and holds no page object."""
    try:
        with path.open("rb") as fh:
            data = fh.read(4_000_000)  # an empty document is tiny; don't read a big corrupt one whole
    except OSError:
        return False
    return bool(_EMPTY_PAGE_TREE.search(data)) and not _PAGE_OBJECT.search(data)


def _check_page_count(path: Path, n_pages: int, close) -> None:
    if n_pages > MAX_PAGES:
        close()
        raise DocumentError(
            str(path), f"{n_pages} pages, more than the limit of {MAX_PAGES} (an annual report has 5–40): not read"
        )


def _check_pixels(path: Path, width: int, height: int) -> None:
    if width * height > MAX_PAGE_PIXELS:
        raise DocumentError(
            str(path),
            f"page image of {width}×{height} px exceeds the limit of {MAX_PAGE_PIXELS:,} pixels "
            "(decompression bomb or absurd page size)",
        )
