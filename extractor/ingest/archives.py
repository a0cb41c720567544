"""Read the members of zip and tar archives without trusting them.

The readers yield one entry per member: either a refusal with its reason, or an open stream
with the byte caps it must be copied under. Member names are only checked and reported, never
used as file-system paths (see :mod:`extractor.ingest.store`). Sizes in headers are used to
refuse early, before anything is read; the caps stop a member whose stream is longer than its
header claims.
"""

from __future__ import annotations

import logging
import lzma
import re
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from extractor.ingest.models import IngestLimits
from extractor.ingest.store import Cap

_log = logging.getLogger(__name__)

# Exceptions that mean "the archive bytes are broken" in zipfile, tarfile and their codecs
# (bz2 raises OSError and EOFError).
CORRUPT_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    tarfile.TarError,
    EOFError,
    OSError,
    zlib.error,
    lzma.LZMAError,
    ValueError,
)
# Zip general-purpose flag bits (APPNOTE 4.4.4).
_ZIP_FLAG_ENCRYPTED = 0x1
_ZIP_FLAG_UTF8 = 0x800
# File-type bits of a Unix mode stored in a zip entry's external attributes.
_S_IFMT = 0o170000
_S_IFLNK = 0o120000
# Members that operating systems add to archives; they are skipped without an error.
_JUNK_DIRS = ("__MACOSX/",)
_JUNK_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
# Members that show a zip is an Office Open XML / OpenDocument file, not a batch of reports.
_OFFICE_MARKERS = frozenset({"[Content_Types].xml", "mimetype"})
# tarfile open mode by sniffed compression, so a failure names one codec, not all of them.
_TAR_MODES = {"none": "r:", "gzip": "r:gz", "bzip2": "r:bz2", "xz": "r:xz"}
# A Windows drive prefix such as "C:".
_DRIVE = re.compile(r"^[A-Za-z]:")


class ArchiveError(Exception):
    """The archive as a whole cannot be read (further); ``reason`` is for the batch report."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class MemberRefused:
    name: str  # member path as stored in the archive
    reason: str  # why it is not extracted


@dataclass(frozen=True)
class MemberFile:
    name: str  # member path as stored in the archive
    stream: BinaryIO  # open member data; valid until the reader is advanced
    caps: list[Cap]  # byte limits the copy must respect


class Budget:
    """Members and uncompressed bytes read from one top-level archive and the archives inside it."""

    def __init__(self, limits: IngestLimits) -> None:
        self.limits = limits
        self.bytes = 0
        self.members = 0
        self.skipped = 0  # bytes of refused compressed-tar members decompressed to pass them

    def spend(self, n_bytes: int) -> None:
        self.bytes += n_bytes

    def count_member(self) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise ArchiveError(f"too many members (more than {self.limits.max_members}); the rest is not read")


def iter_zip(path: Path, budget: Budget) -> Iterator[MemberFile | MemberRefused]:
    """Members of a zip archive, in the order of its central directory.

    Raises:
        ArchiveError: the archive is corrupt, is an Office document, or has too many members.
    """
    limits = budget.limits
    try:
        archive = zipfile.ZipFile(path)
    except CORRUPT_ERRORS as e:
        raise ArchiveError(f"corrupt zip archive: {e}") from e
    with archive:
        infos = archive.infolist()
        if any(info.filename in _OFFICE_MARKERS for info in infos):
            raise ArchiveError("unsupported file type: Office/OpenDocument file (.docx/.xlsx/.odt)")
        if budget.members + len(infos) > limits.max_members:
            raise ArchiveError(f"too many members ({len(infos)}; limit {limits.max_members}); nothing read")
        archive_size = path.stat().st_size
        start = budget.bytes
        for info in infos:
            budget.count_member()
            name = _zip_name(info)
            if info.is_dir():
                continue
            if _is_junk(name):
                _log.debug("skipping system file %s in %s", name, path)
                continue
            reason = _unsafe_name(name)
            if reason is None and (info.external_attr >> 16) & _S_IFMT == _S_IFLNK:
                reason = "symbolic link"
            if reason is None and info.flag_bits & _ZIP_FLAG_ENCRYPTED:
                reason = "encrypted"
            if reason is not None:
                yield MemberRefused(name, reason)
                continue
            caps = _common_caps(budget, archive_size, start)
            if info.compress_size > 0:
                caps.append(
                    Cap(max(limits.ratio_grace_bytes, int(limits.max_ratio * info.compress_size)),
                        f"compression ratio above {limits.max_ratio:g} (zip bomb?)")
                )
            over = _over_cap(info.file_size, caps)
            if over is not None:
                yield MemberRefused(name, f"{over.reason}; header says {info.file_size} bytes, not extracted")
                continue
            try:
                stream = archive.open(info)
            except NotImplementedError as e:
                yield MemberRefused(name, f"unsupported compression: {e}")
                continue
            except CORRUPT_ERRORS as e:
                yield MemberRefused(name, f"corrupt member: {e}")
                continue
            with stream:
                yield MemberFile(name, stream, caps)


def iter_tar(path: Path, budget: Budget, compression: str) -> Iterator[MemberFile | MemberRefused]:
    """Members of a tar archive (plain, gzip, bzip2 or xz), streamed in archive order.

    Args:
        path: the archive file.
        budget: shared limits and counters of the top-level archive.
        compression: "none", "gzip", "bzip2" or "xz", as sniffed.

    Raises:
        ArchiveError: the archive is corrupt, has too many members or is abandoned after a
            member over the size limits (see below).
    """
    try:
        archive = tarfile.open(path, mode=_TAR_MODES[compression])
    except CORRUPT_ERRORS as e:
        if compression == "none":
            raise ArchiveError(f"corrupt tar archive: {e}") from e
        raise ArchiveError(f"{compression}-compressed file that is not a tar archive, or is corrupt: {e}") from e
    archive_size = path.stat().st_size
    start = budget.bytes
    seen = 0
    with archive:
        while True:
            try:
                member = archive.next()
            except CORRUPT_ERRORS as e:
                raise ArchiveError(f"corrupt tar archive after {seen} members: {e}") from e
            if member is None:
                return
            seen += 1
            budget.count_member()
            name = _tar_name(member.name)
            if member.isdir():
                continue
            if _is_junk(name):
                _log.debug("skipping system file %s in %s", name, path)
                continue
            reason = _unsafe_name(name)
            if reason is None and member.issym():
                reason = f"symbolic link (to {member.linkname!r})"
            if reason is None and member.islnk():
                reason = f"hard link (to {member.linkname!r})"
            if reason is None and not member.isfile():
                reason = "special file (device, fifo or other non-regular member)"
            if reason is not None:
                yield MemberRefused(name, reason)
                continue
            caps = _common_caps(budget, archive_size, start)
            over = _over_cap(member.size, caps)
            if over is not None:
                yield MemberRefused(name, f"{over.reason}; header says {member.size} bytes, not extracted")
                if compression != "none":
                    # Passing a member of a compressed tar means decompressing it: done while the
                    # archive's skip allowance lasts, so that the members after a bomb are read.
                    if budget.skipped + member.size > budget.limits.max_skip_bytes:
                        raise ArchiveError(f"stopped after member {name!r} went over the limits; later members "
                                           f"not read (passing it would decompress {member.size} bytes)")
                    budget.skipped += member.size
                    _discard(archive, member)
                    continue
                budget.spend(member.size)
                continue
            stream = archive.extractfile(member)
            if stream is None:
                yield MemberRefused(name, "unreadable member")
                continue
            with stream:
                yield MemberFile(name, stream, caps)


def _discard(archive: tarfile.TarFile, member: tarfile.TarInfo) -> None:
    """Read a member's data and throw it away (at most its declared size: the tar's layout)."""
    stream = archive.extractfile(member)
    if stream is None:
        return
    with stream:
        while stream.read(1024 * 1024):
            pass


def _common_caps(budget: Budget, archive_size: int, start: int) -> list[Cap]:
    """Caps every member shares: its own size, what is left of the total, the archive ratio."""
    limits = budget.limits
    read_here = budget.bytes - start
    ratio_allowance = max(limits.ratio_grace_bytes, int(limits.max_ratio * archive_size))
    return [
        Cap(limits.max_member_bytes, f"member larger than {limits.max_member_bytes} bytes"),
        Cap(max(0, limits.max_total_bytes - budget.bytes),
            f"archive total uncompressed size over {limits.max_total_bytes} bytes"),
        Cap(max(0, ratio_allowance - read_here),
            f"archive compression ratio above {limits.max_ratio:g} (zip bomb?)"),
    ]


def _over_cap(declared: int, caps: list[Cap]) -> Cap | None:
    """The tightest cap a declared size breaks, or None when it fits them all."""
    broken = [c for c in caps if declared > c.bytes]
    return min(broken, key=lambda c: c.bytes) if broken else None


def _unsafe_name(name: str) -> str | None:
    """Why a member path is refused (absolute, drive-rooted, climbing out), or None when fine."""
    if "\x00" in name:
        return "unsafe path (NUL character)"
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "unsafe path (absolute)"
    if any(part == ".." for part in re.split(r"[/\\]", name)):
        return "unsafe path (path traversal with '..')"
    return None


def _is_junk(name: str) -> bool:
    base = name.rstrip("/").rsplit("/", 1)[-1]
    return name.startswith(_JUNK_DIRS) or base.startswith("._") or base in _JUNK_NAMES


def _zip_name(info: zipfile.ZipInfo) -> str:
    """The member name, re-decoded when a Chinese Windows tool stored it in GBK.

    zipfile decodes names without the UTF-8 flag as CP437; Windows archivers in China write
    them in the local code page (GBK), so try UTF-8 and then GB18030 on the original bytes.
    """
    name = info.filename
    if info.flag_bits & _ZIP_FLAG_UTF8 or name.isascii():
        return name
    try:
        raw = name.encode("cp437")
    except UnicodeEncodeError:
        return name
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return name


def _tar_name(name: str) -> str:
    """The member name, re-decoded from GB18030 when it was not valid UTF-8."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        # tarfile kept undecodable bytes as surrogates; recover them.
        raw = name.encode("utf-8", "surrogateescape")
        return raw.decode("gb18030", errors="replace")
