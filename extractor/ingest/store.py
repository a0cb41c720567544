"""Content-addressed storage of extracted files, written by streaming with a size cap.

A member is written to a temporary file in the store directory while it is hashed, then renamed
to ``<sha256><suffix>``. The member's own name never reaches the file system, so a crafted name
cannot write outside ``work_dir``; a member that goes over its cap is cut off and deleted.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from extractor.ingest.sniff import HEAD_BYTES

_log = logging.getLogger(__name__)

# Bytes read and written per step while streaming.
CHUNK_BYTES = 1024 * 1024


class CapExceeded(Exception):
    """A stream produced more bytes than its cap; ``reason`` says which limit it broke."""

    def __init__(self, reason: str, written: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.written = written


@dataclass(frozen=True)
class Cap:
    bytes: int  # most bytes the stream may produce
    reason: str  # the error reason when it produces more


@dataclass(frozen=True)
class StoredBlob:
    path: Path  # temporary file holding the bytes; call `BlobStore.keep` or `discard`
    sha256: str  # hex digest of the bytes
    size: int  # bytes written
    head: bytes  # first HEAD_BYTES bytes, for sniffing


class BlobStore:
    """Files under ``<work_dir>/inputs`` named by their SHA-256."""

    def __init__(self, work_dir: Path) -> None:
        self.root = Path(work_dir) / "inputs"

    def write(self, stream: BinaryIO, caps: list[Cap]) -> StoredBlob:
        """Copy `stream` into a temporary file, hashing it, stopping at the tightest cap.

        Args:
            stream: a readable binary stream (an archive member).
            caps: limits on the number of bytes; the smallest one applies.

        Returns:
            The temporary file with its hash, size and first bytes.

        Raises:
            CapExceeded: when the stream goes over the cap; nothing is left on disk.
            Exception: whatever reading the stream raises (corrupt data); nothing is left on disk.
        """
        cap = min(caps, key=lambda c: c.bytes)
        self.root.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.root, prefix=".part-")
        tmp = Path(name)
        digest = hashlib.sha256()
        written = 0
        head = b""
        try:
            with os.fdopen(fd, "wb") as out:
                while True:
                    # Ask for one byte more than allowed so an over-long stream is noticed
                    # without reading (or writing) more than a chunk past the cap.
                    chunk = stream.read(min(CHUNK_BYTES, cap.bytes - written + 1))
                    if not chunk:
                        break
                    written += len(chunk)
                    if written > cap.bytes:
                        raise CapExceeded(cap.reason, written)
                    if len(head) < HEAD_BYTES:
                        head += chunk[: HEAD_BYTES - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return StoredBlob(path=tmp, sha256=digest.hexdigest(), size=written, head=head)

    def keep(self, blob: StoredBlob, suffix: str) -> Path:
        """Move a written blob to its content address and return that path."""
        final = self.root / f"{blob.sha256}{suffix}"
        if final.exists():
            # Same bytes already stored (a duplicate or a re-run): keep the first copy.
            _log.debug("already stored: %s", final.name)
            blob.path.unlink(missing_ok=True)
        else:
            # mkstemp creates the file private (0600); the stored copy is read by other stages.
            blob.path.chmod(0o644)
            os.replace(blob.path, final)
        return final

    @staticmethod
    def discard(blob: StoredBlob) -> None:
        blob.path.unlink(missing_ok=True)


def hash_file(path: Path) -> tuple[str, int]:
    """SHA-256 hex digest and size of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def read_head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(HEAD_BYTES)
