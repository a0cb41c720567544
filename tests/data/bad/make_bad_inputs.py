"""Generate the bad-input corpus (nothing large is committed): ``python tests/data/bad/make_bad_inputs.py OUT``.

Every case is built at run time into a folder: broken, hostile and absurd inputs, each with the
words its per-document error must contain, next to good reports that must still come out.
The big ones are written in a streaming way (the 200-megapixel PNG row by row, the bombs chunk
by chunk), so building the corpus holds a few MiB, not the hundreds it describes.

``build(out, good)`` returns the cases: file name → :class:`Case` (the ``source`` as the batch
report names it and the words of its error); `good` are report PDFs copied in as the good part.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import struct
import sys
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

# Padding string of the PDF standard security handler (PDF 1.7, 7.6.3.3, Algorithm 2).
_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")
# Size of the zip and tar bombs' member once inflated (zeros: deflates ~1000:1).
BOMB_BYTES = 600 * 1024 * 1024
# Pixels of the huge image: 20,000 × 10,000 = 200 megapixels.
HUGE_IMAGE = (20_000, 10_000)
# Pages of the blank PDF.
BLANK_PAGES = 500


@dataclass(frozen=True)
class Case:
    """One bad input: where its error is reported and words the error must contain."""

    source: str  # file name, or 'archive!member' for a member
    words: str  # (lower-case) words the reason must contain
    stage: str  # "ingest" (refused before it is a document) or "document" (a failed document)


def _pdf(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """A PDF from numbered object bodies (1-based), with a correct xref table."""
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


def encrypted_pdf(user_password: bytes = b"secret") -> bytes:
    """One blank page under RC4-40 standard security with a user password."""
    file_id = hashlib.md5(b"nianbao-bad").digest()
    permissions = -4
    owner = _rc4(hashlib.md5((b"owner" + _PAD)[:32]).digest()[:5], (user_password + _PAD)[:32])
    key = hashlib.md5((user_password + _PAD)[:32] + owner + permissions.to_bytes(4, "little", signed=True)
                      + file_id).digest()[:5]
    encrypt = b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>" % (
        owner.hex().encode(), _rc4(key, _PAD).hex().encode(), permissions)
    pages = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
             b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]
    ident = file_id.hex().encode()
    return _pdf([*pages, encrypt], b"/Encrypt 4 0 R /ID [<%s> <%s>]" % (ident, ident))


def zero_page_pdf() -> bytes:
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])


def blank_pages_pdf(n: int) -> bytes:
    """`n` blank A4 pages sharing one page dictionary shape (a few bytes each)."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(n))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n)]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * n
    return _pdf(objects)


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text layer holds `lines` (Helvetica; ASCII): a PDF that is no report."""
    ops = b"BT /F1 14 Tf 72 770 Td " + b" ".join(b"(%s) Tj 0 -20 Td" % line.encode("ascii") for line in lines) + b" ET"
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(ops), ops),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def write_huge_png(path: Path, size: tuple[int, int] = HUGE_IMAGE) -> None:
    """A white greyscale PNG of `size` pixels, streamed row by row (a few MiB of memory)."""
    width, height = size

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + b"\xff" * width  # filter byte "none", then white pixels
    packer = zlib.compressobj(9)
    with path.open("wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)))
        for _ in range(height):
            data = packer.compress(row)
            if data:
                fh.write(chunk(b"IDAT", data))
        fh.write(chunk(b"IDAT", packer.flush()) + chunk(b"IEND", b""))


class _Zeros(io.RawIOBase):
    """`n` zero bytes as a readable stream (the bombs' payload, never held whole)."""

    def __init__(self, n: int) -> None:
        self.left = n

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.left, 1 << 20)
        buffer[:n] = b"\x00" * n
        self.left -= n
        return n


def write_zip_bomb(path: Path, n_bytes: int = BOMB_BYTES) -> None:
    """A zip whose one member inflates to `n_bytes` of zeros (written in 1 MiB chunks)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("report.pdf", "w", force_zip64=True) as member:
            stream = _Zeros(n_bytes)
            while chunk := stream.read(1 << 20):
                member.write(chunk)


def write_tar_bomb(path: Path, n_bytes: int = BOMB_BYTES) -> None:
    """A gzip-compressed tar whose one member is `n_bytes` of zeros (gzip inflates ~1000:1)."""
    with tarfile.open(path, "w:gz") as tf:
        info = tarfile.TarInfo("bomb/report.pdf")
        info.size = n_bytes
        tf.addfile(info, _Zeros(n_bytes))


def _zip(path: Path, members: list[tuple[str | zipfile.ZipInfo, bytes]]) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            zf.writestr(name, data)


def build(out: Path, good: list[Path]) -> dict[str, Case]:
    """Write the corpus into `out` (created); the good reports are copied in as ``good-*.pdf``."""
    out.mkdir(parents=True, exist_ok=True)
    cases: dict[str, Case] = {}
    for i, pdf in enumerate(good):
        shutil.copyfile(pdf, out / f"good-{i}.pdf")
    report = good[0].read_bytes()

    (out / "truncated.pdf").write_bytes(report[: len(report) // 3])
    cases["truncated.pdf"] = Case("truncated.pdf", "corrupt", "document")
    (out / "encrypted.pdf").write_bytes(encrypted_pdf())
    cases["encrypted.pdf"] = Case("encrypted.pdf", "encrypted", "document")
    (out / "empty.pdf").write_bytes(b"")
    cases["empty.pdf"] = Case("empty.pdf", "empty file", "ingest")
    (out / "zero-pages.pdf").write_bytes(zero_page_pdf())
    cases["zero-pages.pdf"] = Case("zero-pages.pdf", "no pages", "document")
    (out / "not-a-report.pdf").write_bytes(text_pdf(["Quarterly newsletter", "Nothing to see here", "1 2 3"]))
    cases["not-a-report.pdf"] = Case("not-a-report.pdf", "template", "document")
    (out / "blank-500.pdf").write_bytes(blank_pages_pdf(BLANK_PAGES))
    cases["blank-500.pdf"] = Case("blank-500.pdf", f"{BLANK_PAGES} pages, more than the limit", "document")
    write_huge_png(out / "huge-200mp.png")
    cases["huge-200mp.png"] = Case("huge-200mp.png", "image too large", "document")

    write_zip_bomb(out / "bomb.zip")
    cases["bomb.zip"] = Case("bomb.zip!report.pdf", "zip bomb", "ingest")
    write_tar_bomb(out / "bomb.tar.gz")
    cases["bomb.tar.gz"] = Case("bomb.tar.gz!bomb/report.pdf", "zip bomb", "ingest")

    # Path traversal and absolute members next to a good one (the good one must come out).
    _zip(out / "traversal.zip", [("../../escaped.pdf", report), ("/tmp/absolute-escaped.pdf", report),
                                  ("ok/inside.pdf", good[-1].read_bytes())])
    cases["traversal.zip:dots"] = Case("traversal.zip!../../escaped.pdf", "path traversal", "ingest")
    cases["traversal.zip:abs"] = Case("traversal.zip!/tmp/absolute-escaped.pdf", "absolute", "ingest")
    # Symbolic links: a zip entry marked as a link, a tar link to a system file.
    link = zipfile.ZipInfo("link.pdf")
    link.external_attr = (0o120777 << 16)
    _zip(out / "symlink.zip", [(link, b"/etc/passwd")])
    cases["symlink.zip"] = Case("symlink.zip!link.pdf", "symbolic link", "ingest")
    with tarfile.open(out / "symlink.tar", "w") as tf:
        info = tarfile.TarInfo("passwd.pdf")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(info)
    cases["symlink.tar"] = Case("symlink.tar!passwd.pdf", "symbolic link", "ingest")

    # The same archive twice under two names: its report is one document.
    _zip(out / "twice-a.zip", [("report.pdf", good[-1].read_bytes())])
    shutil.copyfile(out / "twice-a.zip", out / "twice-b.zip")

    # Member names that are not UTF-8: GBK without the zip UTF-8 flag, bytes no codec reads, in a tar.
    # zipfile writes every non-ASCII name as UTF-8 (with the flag), so the GBK bytes of "年报.pdf"
    # are put in place of a placeholder of the same length afterwards.
    gbk = "年报.pdf".encode("gbk")
    placeholder = b"X" * (len(gbk) - 4) + b".pdf"
    _zip(out / "names-gbk.zip", [(placeholder.decode(), b"not a pdf at all\n")])
    (out / "names-gbk.zip").write_bytes((out / "names-gbk.zip").read_bytes().replace(placeholder, gbk))
    cases["names-gbk.zip"] = Case("names-gbk.zip!年报.pdf", "not a pdf", "ingest")
    with tarfile.open(out / "names-bytes.tar", "w", encoding="utf-8", errors="surrogateescape") as tf:
        data = b"%PDF-1.4 broken"
        info = tarfile.TarInfo(b"\xff\xfe\xfa-name.pdf".decode("utf-8", "surrogateescape"))
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    cases["names-bytes.tar"] = Case("names-bytes.tar!\ufffd", "corrupt", "document")
    # A file whose own name is not UTF-8 (bytes 0xff 0xfe on a Linux file system).
    with open(bytes(out) + b"/\xff\xfe-file.pdf", "wb") as fh:
        fh.write(b"%PDF-1.4 also broken")
    cases["file-bytes"] = Case("-file.pdf", "corrupt", "document")
    return cases


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: make_bad_inputs.py OUT GOOD.pdf [GOOD.pdf ...]")
    for name, case in build(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]]).items():
        print(f"{name}: {case.source} → {case.words}")
