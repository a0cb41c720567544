"""Opening documents: PDFs that cannot be read are refused clearly; images become pages."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from extractor.stages.rasterise import (
    MAX_PAGE_PIXELS,
    DocumentError,
    open_document,
    open_image,
    open_pdf,
    render_page,
)

# Padding string of the PDF standard security handler (PDF 1.7, 7.6.3.3, Algorithm 2).
_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def _pdf(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """A PDF file from numbered object bodies (1-based), with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer_extra, xref)
    return bytes(out)


def _one_blank_page(kids: bytes = b"[3 0 R]", count: int = 1) -> list[bytes]:
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids %s /Count %d >>" % (kids, count),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]


def _encrypted_pdf(user_password: bytes, owner_password: bytes) -> bytes:
    """One blank page under RC4-40 (V1/R2) standard security; no strings or streams to encrypt."""
    file_id = hashlib.md5(b"nianbao-test").digest()
    permissions = -4
    owner = _rc4(hashlib.md5((owner_password + _PAD)[:32]).digest()[:5], (user_password + _PAD)[:32])
    key = hashlib.md5(
        (user_password + _PAD)[:32] + owner + permissions.to_bytes(4, "little", signed=True) + file_id
    ).digest()[:5]
    user = _rc4(key, _PAD)
    encrypt = b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>" % (
        owner.hex().encode(),
        user.hex().encode(),
        permissions,
    )
    return _pdf(_one_blank_page() + [encrypt], b"/Encrypt 4 0 R /ID [<%s> <%s>]" % (file_id.hex().encode(), file_id.hex().encode()))


def test_encrypted_pdf_is_refused_as_password_protected(tmp_path: Path) -> None:
    # A PDF encrypted with a user password, opened without one (and with the wrong one).
    # Refused with a message saying it is encrypted; the right password opens it.
    path = tmp_path / "locked.pdf"
    path.write_bytes(_encrypted_pdf(b"secret", b"owner"))
    with pytest.raises(DocumentError, match="encrypted"):
        open_pdf(path)
    with pytest.raises(DocumentError, match="password given is wrong"):
        open_pdf(path, password="guess")
    with open_pdf(path, password="secret") as pdf:
        assert len(pdf) == 1


def test_corrupt_pdf_is_refused_as_corrupt(tmp_path: Path) -> None:
    # A file that starts like a PDF but is cut off after a few bytes, and a text file.
    # Both are refused naming the file and saying it is not a PDF or corrupted.
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(_pdf(_one_blank_page())[:40])
    with pytest.raises(DocumentError, match=r"cut\.pdf: not a PDF or corrupted"):
        open_pdf(cut)
    text = tmp_path / "notes.pdf"
    text.write_text("这不是PDF")
    with pytest.raises(DocumentError, match="not a PDF or corrupted"):
        open_pdf(text)


def test_pdf_without_pages_is_refused(tmp_path: Path) -> None:
    # A well-formed PDF whose page tree is empty (as PDFium itself writes it).
    # Refused: there is nothing to rasterise.
    path = tmp_path / "empty.pdf"
    pdfium.PdfDocument.new().save(path)
    with pytest.raises(DocumentError, match="no pages"):
        open_pdf(path)


def test_pdf_page_renders_at_requested_dpi(tmp_path: Path) -> None:
    # A 200 × 200 pt blank page rendered at 144 dpi.
    # The image is 400 × 400 RGB and the record carries the size and dpi.
    path = tmp_path / "blank.pdf"
    path.write_bytes(_pdf(_one_blank_page()))
    with open_document(path) as pdf:
        page = render_page(pdf, 0, dpi=144)
    assert page.image.shape == (400, 400, 3)
    assert page.image.dtype == np.uint8
    assert (page.record.width, page.record.height, page.record.dpi) == (400, 400, 144)


def test_multipage_tiff_gives_one_page_per_frame(tmp_path: Path) -> None:
    # A two-frame greyscale TIFF at 300 dpi, read at 200 dpi.
    # Two RGB pages, each resampled to two thirds of its pixel size.
    path = tmp_path / "scan.tif"
    frames = [Image.new("L", (600, 900), 255), Image.new("L", (600, 900), 0)]
    frames[0].save(path, save_all=True, append_images=frames[1:], dpi=(300, 300))
    with open_document(path) as source:
        assert len(source) == 2
        pages = [render_page(source, i, dpi=200) for i in range(2)]
    assert [p.image.shape for p in pages] == [(600, 400, 3), (600, 400, 3)]
    assert pages[0].image.min() == 255 and pages[1].image.max() == 0
    assert pages[1].record.index == 1


def test_image_without_dpi_keeps_its_pixels(tmp_path: Path) -> None:
    # A PNG that states no resolution.
    # Its pixels are kept and the requested dpi is recorded as the assumed one.
    path = tmp_path / "page.png"
    Image.new("RGB", (321, 123), (200, 10, 10)).save(path)
    with open_image(path) as source:
        page = render_page(source, 0, dpi=200)
    assert page.image.shape == (123, 321, 3)
    assert tuple(page.image[0, 0]) == (200, 10, 10)
    assert page.record.dpi == 200


def test_huge_image_is_refused_before_decoding(tmp_path: Path) -> None:
    # A 1-bit PNG of 12,000 × 10,000 px (small on disk, 120 Mpx decoded).
    # Refused as too large rather than decoded.
    path = tmp_path / "bomb.png"
    Image.new("1", (12_000, 10_000), 1).save(path)
    assert 12_000 * 10_000 > MAX_PAGE_PIXELS
    with pytest.raises(DocumentError, match="exceeds the limit"):
        open_image(path)


def test_pdf_page_too_large_to_render_is_refused(tmp_path: Path) -> None:
    # A PDF page of 5 × 5 m rendered at 200 dpi (≈ 1.5 Gpx).
    # Refused before PDFium allocates the bitmap.
    pdf = pdfium.PdfDocument.new()
    pdf.new_page(14_000, 14_000)
    path = tmp_path / "poster.pdf"
    pdf.save(path)
    with open_pdf(path) as source, pytest.raises(DocumentError, match="exceeds the limit"):
        render_page(source, 0, dpi=200)


def test_unreadable_image_is_refused(tmp_path: Path) -> None:
    # A .png file holding random bytes.
    # Refused as not a readable image.
    path = tmp_path / "junk.png"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DocumentError, match="not a readable image"):
        open_document(path)
