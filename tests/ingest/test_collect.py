"""Ingest of files, folders and archives: ids, sources, hashing, dedupe and refusals."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

from PIL import Image

from extractor.ingest import DocumentKind, IngestLimits, iter_inputs
from extractor.ingest.sniff import OLE2_DESCRIPTION


def _pdf(text: str) -> bytes:
    """A small PDF-looking file whose bytes differ by `text`."""
    return b"%PDF-1.4\n% " + text.encode() + b"\n%%EOF\n"


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (4, 4), 255).save(buf, format="PNG")
    return buf.getvalue()


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _tar(path: Path, members: dict[str, bytes], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def _reasons(result) -> dict[str, str]:
    return {e.source: e.reason for e in result.errors}


def test_zip_members_get_archive_ids_and_sources(tmp_path: Path) -> None:
    # A zip holds a PDF in a year folder and a PNG scan at its root.
    # Ids join the archive stem and member path; sources show archive!member; kinds come from bytes.
    archive = _zip(tmp_path / "batch.zip", {"2024/a.pdf": _pdf("a"), "scan.png": _png()})

    result = iter_inputs([archive], tmp_path / "work")

    assert [d.id for d in result.documents] == ["batch__2024__a", "batch__scan"]
    assert [d.source for d in result.documents] == [f"{archive}!2024/a.pdf", f"{archive}!scan.png"]
    assert [d.kind for d in result.documents] == [DocumentKind.PDF, DocumentKind.IMAGE]
    assert result.errors == []


def test_members_are_stored_by_content_hash_not_by_name(tmp_path: Path) -> None:
    # A tar.gz member is extracted into the work dir.
    # Its file is named by its SHA-256, holds the member's bytes, and the hash and size match.
    data = _pdf("report")
    archive = _tar(tmp_path / "reports.tar.gz", {"dir/report.pdf": data})

    doc, = iter_inputs([archive], tmp_path / "work").documents

    digest = hashlib.sha256(data).hexdigest()
    assert doc.id == "reports__dir__report"
    assert doc.path == tmp_path / "work" / "inputs" / f"{digest}.pdf"
    assert doc.path.read_bytes() == data
    assert (doc.sha256, doc.size) == (digest, len(data))


def test_folder_is_walked_recursively_in_sorted_order_with_archives_inside(tmp_path: Path) -> None:
    # A folder holds files in sub-folders, created out of order, and a zip in a sub-folder.
    # Files come out sorted by path; the zip's members are listed where the zip sits.
    root = tmp_path / "in"
    (root / "b").mkdir(parents=True)
    (root / "a").mkdir()
    (root / "b" / "z.pdf").write_bytes(_pdf("z"))
    (root / "a" / "y.pdf").write_bytes(_pdf("y"))
    _zip(root / "a" / "pack.zip", {"m.pdf": _pdf("m")})
    (root / "top.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"jpeg")

    result = iter_inputs([root], tmp_path / "work")

    assert [d.id for d in result.documents] == ["pack__m", "y", "z", "top"]
    assert result.documents[1].path == root / "a" / "y.pdf"
    assert result.documents[3].format == "jpeg"


def test_second_copy_of_the_same_bytes_is_marked_duplicate(tmp_path: Path) -> None:
    # The same PDF is given loose and inside a zip under another name.
    # Both are listed; the later one points at the first and is left out of the unique documents.
    data = _pdf("same")
    (tmp_path / "first.pdf").write_bytes(data)
    archive = _zip(tmp_path / "copy.zip", {"again.pdf": data, "other.pdf": _pdf("other")})

    result = iter_inputs([tmp_path / "first.pdf", archive], tmp_path / "work")

    assert [(d.id, d.duplicate_of) for d in result.documents] == [
        ("first", None), ("copy__again", "first"), ("copy__other", None)]
    assert [d.id for d in result.unique_documents()] == ["first", "copy__other"]


def test_colliding_ids_get_numbered_suffixes(tmp_path: Path) -> None:
    # Three different files share the stem "report" in separate folders.
    # The first keeps the plain id, the next ones get -2 and -3.
    for i, folder in enumerate(("x", "y", "z")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "report.pdf").write_bytes(_pdf(str(i)))

    result = iter_inputs([tmp_path / "x", tmp_path / "y", tmp_path / "z"], tmp_path / "work")

    assert [d.id for d in result.documents] == ["report", "report-2", "report-3"]


def test_traversal_members_are_refused_and_the_rest_extracted(tmp_path: Path) -> None:
    # A zip holds a member climbing out with ../, an absolute one, and a normal one.
    # The two unsafe members are errors, nothing is written outside work_dir, the normal one is a document.
    archive = _zip(tmp_path / "evil.zip", {
        "../../escaped.pdf": _pdf("up"), "/abs/root.pdf": _pdf("abs"), "ok.pdf": _pdf("ok")})
    work = tmp_path / "deep" / "work"

    result = iter_inputs([archive], work)

    assert [d.id for d in result.documents] == ["evil__ok"]
    reasons = _reasons(result)
    assert "traversal" in reasons[f"{archive}!../../escaped.pdf"]
    assert "absolute" in reasons[f"{archive}!/abs/root.pdf"]
    assert not (tmp_path / "escaped.pdf").exists() and not (tmp_path / "deep" / "escaped.pdf").exists()


def test_links_in_a_tar_are_refused(tmp_path: Path) -> None:
    # A tar holds a symlink to /etc/passwd, a hard link to a member, and a regular PDF.
    # Both links are refused with reasons naming them; the PDF is extracted once.
    archive = tmp_path / "links.tar"
    with tarfile.open(archive, "w") as tf:
        data = _pdf("real")
        info = tarfile.TarInfo("real.pdf")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
        sym = tarfile.TarInfo("sym.pdf")
        sym.type, sym.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(sym)
        hard = tarfile.TarInfo("hard.pdf")
        hard.type, hard.linkname = tarfile.LNKTYPE, "real.pdf"
        tf.addfile(hard)

    result = iter_inputs([archive], tmp_path / "work")

    assert [d.id for d in result.documents] == ["links__real"]
    reasons = _reasons(result)
    assert reasons[f"{archive}!sym.pdf"].startswith("symbolic link")
    assert reasons[f"{archive}!hard.pdf"].startswith("hard link")


def test_zip_bomb_member_is_refused_without_writing_it(tmp_path: Path) -> None:
    # A zip holds 20 MiB of zeros (compressed to a few KiB) next to a normal PDF; limit 1 MiB a member.
    # The bomb is refused by size, no file of that size appears in work_dir, the PDF still comes through.
    archive = _zip(tmp_path / "bomb.zip", {"bomb.pdf": b"%PDF-" + bytes(20 * 1024 * 1024), "ok.pdf": _pdf("ok")})
    assert archive.stat().st_size < 100_000
    work = tmp_path / "work"

    result = iter_inputs([archive], work, IngestLimits(max_member_bytes=1024 * 1024))

    assert [d.id for d in result.documents] == ["bomb__ok"]
    assert "larger than 1048576 bytes" in _reasons(result)[f"{archive}!bomb.pdf"]
    assert sum(f.stat().st_size for f in work.rglob("*") if f.is_file()) < 1024


def test_highly_compressed_zip_member_is_refused_by_ratio(tmp_path: Path) -> None:
    # A 5 MiB member of zeros sits well under the size limits but compresses about 1000 times.
    # It is refused as a compression-ratio breach.
    archive = _zip(tmp_path / "ratio.zip", {"zeros.pdf": b"%PDF-" + bytes(5 * 1024 * 1024)})

    result = iter_inputs([archive], tmp_path / "work")

    assert result.documents == []
    assert "compression ratio above 200" in _reasons(result)[f"{archive}!zeros.pdf"]


def test_compressed_tar_bomb_is_refused_and_the_member_after_it_read(tmp_path: Path) -> None:
    # A tar.gz holds a 20 MiB member of zeros and a PDF after it; the limit is 1 MiB a member.
    # The bomb is refused, and passed by decompressing it (within the skip allowance): the PDF is read.
    archive = _tar(tmp_path / "bomb.tar.gz", {"bomb.pdf": bytes(20 * 1024 * 1024), "after.pdf": _pdf("a")})

    result = iter_inputs([archive], tmp_path / "work", IngestLimits(max_member_bytes=1024 * 1024))

    assert [d.source for d in result.documents] == [f"{archive}!after.pdf"]
    assert "larger than" in _reasons(result)[f"{archive}!bomb.pdf"]
    assert sum(f.stat().st_size for f in (tmp_path / "work").rglob("*") if f.is_file()) < 1024 * 1024


def test_compressed_tar_bomb_past_the_skip_allowance_stops_the_archive(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "bomb.tar.gz", {"bomb.pdf": bytes(20 * 1024 * 1024), "after.pdf": _pdf("a")})

    limits = IngestLimits(max_member_bytes=1024 * 1024, max_skip_bytes=10 * 1024 * 1024)
    result = iter_inputs([archive], tmp_path / "work", limits)

    assert result.documents == []
    reasons = _reasons(result)
    assert "larger than" in reasons[f"{archive}!bomb.pdf"]
    assert "later members not read" in reasons[str(archive)]


def test_archive_with_too_many_members_is_refused(tmp_path: Path) -> None:
    # A zip holds three PDFs and the member limit is two.
    # The archive is refused as a whole with a reason naming the count.
    archive = _zip(tmp_path / "many.zip", {f"{i}.pdf": _pdf(str(i)) for i in range(3)})

    result = iter_inputs([archive], tmp_path / "work", IngestLimits(max_members=2))

    assert result.documents == []
    assert "too many members" in _reasons(result)[str(archive)]


def _set_zip_flag(archive: Path, member: str, bit: int) -> None:
    """Set a general-purpose flag bit on one entry, in its local header and central directory."""
    data = bytearray(archive.read_bytes())
    name = member.encode()
    for signature, flag_offset, name_offset in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        pos = data.find(signature)
        while pos >= 0:
            if data[pos + name_offset: pos + name_offset + len(name)] == name:
                flags = int.from_bytes(data[pos + flag_offset: pos + flag_offset + 2], "little") | bit
                data[pos + flag_offset: pos + flag_offset + 2] = flags.to_bytes(2, "little")
            pos = data.find(signature, pos + 4)
    archive.write_bytes(bytes(data))


def test_encrypted_zip_member_is_refused(tmp_path: Path) -> None:
    # A zip whose entry "secret.pdf" carries the encryption flag (bit 0x1), next to a plain entry.
    # The flagged entry is refused with reason "encrypted"; the plain one is extracted.
    archive = _zip(tmp_path / "locked.zip", {"secret.pdf": _pdf("s"), "open.pdf": _pdf("o")})
    _set_zip_flag(archive, "secret.pdf", 0x1)

    result = iter_inputs([archive], tmp_path / "work")

    assert [d.id for d in result.documents] == ["locked__open"]
    assert _reasons(result)[f"{archive}!secret.pdf"] == "encrypted"


def test_corrupt_zip_is_reported_and_the_batch_goes_on(tmp_path: Path) -> None:
    # A file starting with the zip signature but cut short, then a good PDF.
    # The zip is an error naming corruption; the PDF is still a document.
    bad = tmp_path / "broken.zip"
    bad.write_bytes(_zip(tmp_path / "good.zip", {"a.pdf": _pdf("a")}).read_bytes()[:40])
    (tmp_path / "fine.pdf").write_bytes(_pdf("fine"))

    result = iter_inputs([bad, tmp_path / "fine.pdf"], tmp_path / "work")

    assert [d.id for d in result.documents] == ["fine"]
    assert _reasons(result)[str(bad)].startswith("corrupt zip archive")


def test_text_file_named_pdf_is_refused_as_not_a_pdf(tmp_path: Path) -> None:
    # A plain-text file saved with a .pdf extension.
    # It is refused with a reason saying it is not a PDF and what it looks like.
    fake = tmp_path / "report.pdf"
    fake.write_text("这不是PDF文件\n", encoding="utf-8")

    result = iter_inputs([fake], tmp_path / "work")

    assert result.documents == []
    assert _reasons(result)[str(fake)] == "not a PDF despite its extension: content is text file"


def test_type_comes_from_magic_bytes_not_extension(tmp_path: Path) -> None:
    # A PNG saved as .pdf and a PDF saved as .dat.
    # The first is an image, the second a PDF.
    (tmp_path / "scan.pdf").write_bytes(_png())
    (tmp_path / "doc.dat").write_bytes(_pdf("d"))

    result = iter_inputs([tmp_path / "scan.pdf", tmp_path / "doc.dat"], tmp_path / "work")

    assert [(d.kind, d.format) for d in result.documents] == [(DocumentKind.IMAGE, "png"), (DocumentKind.PDF, "pdf")]


def test_empty_unknown_and_missing_inputs_are_errors(tmp_path: Path) -> None:
    # An empty file, a RAR archive, a Word .doc and a path that does not exist.
    # Each gets an error with a reason naming the problem or the type.
    (tmp_path / "empty.pdf").write_bytes(b"")
    (tmp_path / "pack.rar").write_bytes(b"Rar!\x1a\x07\x01\x00" + bytes(20))
    (tmp_path / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(20))
    paths = [tmp_path / n for n in ("empty.pdf", "pack.rar", "old.doc", "gone.pdf")]

    result = iter_inputs(paths, tmp_path / "work")

    assert result.documents == []
    assert [e.reason for e in result.errors] == [
        "empty file", "unsupported file type: RAR archive",
        "unsupported file type: " + OLE2_DESCRIPTION, "not found"]


def test_archive_inside_archive_is_opened_one_level(tmp_path: Path) -> None:
    # outer.zip holds inner.tar.gz (holding a PDF and deep.zip) next to a PDF.
    # The inner PDF is a document with a chained id and source; deep.zip is refused as too deep.
    deep = _zip(tmp_path / "deep.zip", {"x.pdf": _pdf("x")}).read_bytes()
    inner = _tar(tmp_path / "inner.tar.gz", {"2023/r.pdf": _pdf("r"), "deep.zip": deep}).read_bytes()
    outer = _zip(tmp_path / "outer.zip", {"inner.tar.gz": inner, "top.pdf": _pdf("t")})

    result = iter_inputs([outer], tmp_path / "work")

    assert [(d.id, d.source) for d in result.documents] == [
        ("outer__inner__2023__r", f"{outer}!inner.tar.gz!2023/r.pdf"),
        ("outer__top", f"{outer}!top.pdf"),
    ]
    assert "nested more than one level" in _reasons(result)[f"{outer}!inner.tar.gz!deep.zip"]
    assert [p.name for p in (tmp_path / "work" / "inputs").iterdir() if p.name.startswith(".part")] == []


def test_gbk_member_name_from_windows_zip_is_decoded(tmp_path: Path) -> None:
    # A zip written by a Chinese Windows tool: the name 年报.pdf in GBK bytes, without the UTF-8 flag.
    # The id and source show the Chinese name.
    gbk = "年报.pdf".encode("gbk")
    placeholder = "N" * (len(gbk) - 4) + ".pdf"
    archive = _zip(tmp_path / "cn.zip", {placeholder: _pdf("cn")})
    archive.write_bytes(archive.read_bytes().replace(placeholder.encode(), gbk))

    doc, = iter_inputs([archive], tmp_path / "work").documents

    assert (doc.id, doc.source) == ("cn__年报", f"{archive}!年报.pdf")


def test_office_document_is_not_opened_as_an_archive(tmp_path: Path) -> None:
    # A .docx file (a zip with [Content_Types].xml) and an OpenDocument text (a zip with 'mimetype').
    # The Word file is one document, the .odt one error naming its type, not a pile of member errors.
    docx = _zip(tmp_path / "report.docx", {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"})
    odt = _zip(tmp_path / "report.odt", {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})

    result = iter_inputs([docx, odt], tmp_path / "work")

    assert [(d.source, d.kind) for d in result.documents] == [(str(docx), DocumentKind.DOCX)]
    assert [(e.source, e.reason) for e in result.errors] == [
        (str(odt), "unsupported file type: OpenDocument text (.odt)")]


def test_work_dir_inside_the_input_folder_is_not_read_back(tmp_path: Path) -> None:
    # The work dir lies inside the input folder and already holds members extracted by a first run.
    # A second run lists the same documents with the same ids and does not ingest its own output.
    root = tmp_path / "in"
    root.mkdir()
    _zip(root / "batch.zip", {"a.pdf": _pdf("a")})
    first = iter_inputs([root], root / "work")

    second = iter_inputs([root], root / "work")

    assert [d.id for d in second.documents] == [d.id for d in first.documents] == ["batch__a"]
    assert second.documents[0].path == first.documents[0].path
