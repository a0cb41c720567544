"""Turn the paths a user gives (files, folders, archives) into a list of documents.

Nothing is lost: every input, archive member or file that does not become a document becomes
an :class:`InputError` with a reason, and the rest of the batch goes on.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path, PurePosixPath

from extractor.ingest.archives import (
    CORRUPT_ERRORS,
    ArchiveError,
    Budget,
    MemberFile,
    MemberRefused,
    iter_tar,
    iter_zip,
)
from extractor.ingest.models import (
    DocumentKind,
    IngestLimits,
    IngestResult,
    InputDocument,
    InputError,
)
from extractor.ingest.sniff import Category, Sniffed, refine_zip, sniff
from extractor.ingest.store import BlobStore, CapExceeded, hash_file, read_head

_log = logging.getLogger(__name__)

# File extensions of archives, longest first, dropped from an archive's name to make id prefixes.
_ARCHIVE_SUFFIXES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tbz2", ".txz", ".tar", ".zip")
# Suffix of the stored copy of a document, by format (readers such as Pillow like a true one).
_STORED_SUFFIX = {"pdf": ".pdf", "png": ".png", "jpeg": ".jpg", "tiff": ".tif", "bmp": ".bmp", "webp": ".webp",
                  "html": ".html", "docx": ".docx", "ofd": ".ofd"}
# Document categories: files that become documents rather than archives or refusals.
_DOCUMENTS = (Category.PDF, Category.IMAGE, Category.STRUCTURED)
# Extensions that claim a document format, to word the error for a file that is not one.
_CLAIMED = {".pdf": "a PDF", ".png": "an image", ".jpg": "an image", ".jpeg": "an image",
            ".tif": "an image", ".tiff": "an image", ".bmp": "an image", ".webp": "an image",
            ".html": "an HTML page", ".htm": "an HTML page", ".docx": "a Word document", ".ofd": "an OFD file"}
# Archive nesting that is opened: archives inside a top-level archive, not deeper.
_MAX_DEPTH = 1


def iter_inputs(paths: list[Path], work_dir: Path, limits: IngestLimits = IngestLimits(),
                confine_to: Path | None = None) -> IngestResult:
    """Collect the report files among `paths`, unpacking archives safely.

    1. A folder is walked recursively, sorted by path (symlinked folders are not followed).
    2. Each file is recognised by its content: PDF, page image, HTML page, Word (DOCX) or OFD
       document (zips told apart by their members), zip or tar archive.
    3. Archive members are streamed under the limits into ``work_dir/inputs/<sha256><ext>``;
       archives inside an archive are opened one level deep.
    4. Every document gets a unique id and its hash; a second copy of the same bytes is listed
       with ``duplicate_of`` set to the first copy's id.

    Args:
        paths: files and folders, in the order they should be listed.
        work_dir: where extracted members are written (created when missing).
        limits: size, ratio and count limits for archives.
        confine_to: when set, a path (or a file found in a folder) whose real path, symbolic
            links resolved, lies outside this folder is refused with an error, not read.

    Returns:
        The documents in input order and an error for everything that was not a document.
    """
    collector = _Collector(Path(work_dir), limits)
    collector.confine_to = Path(confine_to).resolve() if confine_to is not None else None
    for path in paths:
        collector.add_path(Path(path))
    result = collector.result
    _log.info("ingest: %d documents (%d unique), %d errors",
              len(result.documents), len(result.unique_documents()), len(result.errors))
    return result


class _Collector:
    """Accumulates documents and errors, handing out unique ids."""

    def __init__(self, work_dir: Path, limits: IngestLimits) -> None:
        self.store = BlobStore(work_dir)
        self._work_dir = work_dir.resolve()
        self.limits = limits
        self.result = IngestResult()
        self._taken_ids: set[str] = set()
        self._id_by_sha: dict[str, str] = {}

    # Real folder that inputs must lie in (server-side imports); None: anywhere.
    confine_to: Path | None = None

    def add_path(self, path: Path) -> None:
        if not self._confined(path):
            return
        if path.is_dir():
            for file in self._walk(path):
                if self._confined(file):
                    self._add_file(file, str(file))
        elif path.exists():
            self._add_file(path, str(path))
        else:
            self._error(str(path), "not found" + (" (broken symbolic link)" if path.is_symlink() else ""))

    def _confined(self, path: Path) -> bool:
        if self.confine_to is None or path.resolve().is_relative_to(self.confine_to):
            return True
        self._error(str(path), "outside the import root (symbolic link?): not read")
        return False

    def _walk(self, folder: Path) -> list[Path]:
        files: list[Path] = []
        for root, dirs, names in os.walk(folder, followlinks=False, onerror=self._walk_error):
            for d in list(dirs):
                full = os.path.join(root, d)
                if os.path.islink(full):
                    # Following folder links could loop or leave the input tree.
                    dirs.remove(d)
                    self._error(full, "symbolic link to a folder (not followed)")
                elif Path(full).resolve() == self._work_dir:
                    # Output written inside the input folder is not input on the next run.
                    dirs.remove(d)
            files.extend(Path(root, n) for n in names)
        # Sort by path components so the order is the same on every file system.
        return sorted(files, key=lambda f: f.relative_to(folder).parts)

    def _walk_error(self, error: OSError) -> None:
        self._error(str(error.filename), f"cannot read folder: {error.strerror}")

    def _add_file(self, path: Path, source: str) -> None:
        try:
            if not path.is_file():
                self._error(source, "not a regular file")
                return
            if path.stat().st_size == 0:
                self._error(source, "empty file")
                return
            sniffed = refine_zip(path, sniff(read_head(path)))
            if sniffed.category in _DOCUMENTS:
                sha256, size = hash_file(path)
                self._register(_stem(path.name), source, path, sha256, size, sniffed)
            elif sniffed.category in (Category.ZIP, Category.TAR):
                self._add_archive(path, source, _stem(path.name), sniffed, 0, Budget(self.limits))
            else:
                self._error(source, _unsupported_reason(path.name, sniffed))
        except OSError as e:
            self._error(source, f"cannot read: {e.strerror or e}")

    def _add_archive(self, path: Path, source: str, id_prefix: str, sniffed: Sniffed,
                     depth: int, budget: Budget) -> None:
        if sniffed.category is Category.ZIP:
            members = iter_zip(path, budget)
        else:
            members = iter_tar(path, budget, sniffed.format)
        try:
            for entry in members:
                member_source = f"{source}!{entry.name}"
                if isinstance(entry, MemberRefused):
                    self._error(member_source, entry.reason)
                else:
                    self._add_member(entry, member_source, id_prefix, depth, budget)
        except ArchiveError as e:
            self._error(source, e.reason)

    def _add_member(self, entry: MemberFile, source: str, id_prefix: str, depth: int, budget: Budget) -> None:
        try:
            blob = self.store.write(entry.stream, entry.caps)
        except CapExceeded as e:
            budget.spend(e.written)
            self._error(source, f"{e.reason}; stopped after {e.written} bytes")
            return
        except CORRUPT_ERRORS as e:
            self._error(source, f"corrupt member: {e}")
            return
        budget.spend(blob.size)
        if blob.size == 0:
            self.store.discard(blob)
            self._error(source, "empty file")
            return
        sniffed = refine_zip(blob.path, sniff(blob.head))
        doc_id = f"{id_prefix}__{_member_id(entry.name)}"
        if sniffed.category in _DOCUMENTS:
            path = self.store.keep(blob, _STORED_SUFFIX[sniffed.format])
            self._register(doc_id, source, path, blob.sha256, blob.size, sniffed)
        elif sniffed.category in (Category.ZIP, Category.TAR):
            try:
                if depth >= _MAX_DEPTH:
                    self._error(source, "archive nested more than one level deep (not opened)")
                else:
                    self._add_archive(blob.path, source, doc_id, sniffed, depth + 1, budget)
            finally:
                self.store.discard(blob)
        else:
            self.store.discard(blob)
            self._error(source, _unsupported_reason(entry.name, sniffed))

    def _register(self, id_base: str, source: str, path: Path, sha256: str, size: int, sniffed: Sniffed) -> None:
        # The path keeps its bytes (to be opened); the id and source are text for people and the store.
        doc_id = self._unique_id(readable_name(id_base))
        source = readable_name(source)
        duplicate_of = self._id_by_sha.setdefault(sha256, doc_id)
        if sniffed.category is Category.STRUCTURED:
            kind = DocumentKind(sniffed.format)
        else:
            kind = DocumentKind.PDF if sniffed.category is Category.PDF else DocumentKind.IMAGE
        self.result.documents.append(
            InputDocument(
                id=doc_id,
                source=source,
                path=path,
                sha256=sha256,
                size=size,
                kind=kind,
                format=sniffed.format,
                duplicate_of=None if duplicate_of == doc_id else duplicate_of,
            )
        )

    def _unique_id(self, base: str) -> str:
        base = _clean_id(base)
        candidate, n = base, 1
        while candidate in self._taken_ids:
            n += 1
            candidate = f"{base}-{n}"
        self._taken_ids.add(candidate)
        return candidate

    def _error(self, source: str, reason: str) -> None:
        source = readable_name(source)
        _log.warning("ingest: %s: %s", source, reason)
        self.result.errors.append(InputError(source=source, reason=reason))


def readable_name(name: str) -> str:
    """A file name as text that can be stored and printed.

    A name that was not UTF-8 on disk reaches Python with its bytes as lone surrogates, which no
    database, JSON file or terminal accepts (one such file stopped a whole batch); it is decoded
    as GB18030 (what Chinese Windows tools write), else its undecodable bytes become U+FFFD.
    """
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        raw = name.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


def _stem(name: str) -> str:
    """A file name without its extension; archives lose their compound one (``a.tar.gz`` → ``a``)."""
    lower = name.lower()
    for suffix in _ARCHIVE_SUFFIXES:
        if lower.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return PurePosixPath(name).stem or name


def _member_id(name: str) -> str:
    """Member path → id part: '2024/a.pdf' → '2024__a'."""
    parts = [p for p in re.split(r"[/\\]", name) if p and p != "."]
    if not parts:
        return "_"
    return "__".join([*parts[:-1], _stem(parts[-1])])


def _clean_id(doc_id: str) -> str:
    """Drop characters that cannot appear in a file name, since ids name output files."""
    cleaned = re.sub(r'[\x00-\x1f<>:"|?*\\/]', "_", doc_id).strip(" .")
    return cleaned or "_"


def _unsupported_reason(name: str, sniffed: Sniffed) -> str:
    claimed = _CLAIMED.get(PurePosixPath(name.replace("\\", "/")).suffix.lower())
    if claimed is not None:
        return f"not {claimed} despite its extension: content is {sniffed.format}"
    return f"unsupported file type: {sniffed.format}"
