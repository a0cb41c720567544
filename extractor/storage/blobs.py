"""Files by content hash: uploaded archives and report files, shared by the API and workers.

Layout under the store root:

- ``inputs/<sha256><ext>``: report files. It is the layout of :mod:`extractor.ingest.store`, so
  ingest run with ``work_dir=root`` writes archive members straight to their final place.
- ``uploads/<sha256>``: archives and files as uploaded, before they are unpacked.

A key is the path relative to the root; the client's file name never becomes a path.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from extractor.ingest.store import CHUNK_BYTES

_log = logging.getLogger(__name__)

# Suffix of a stored report file by format, as extractor.ingest names them.
_SUFFIX = {"pdf": ".pdf", "png": ".png", "jpeg": ".jpg", "tiff": ".tif", "bmp": ".bmp", "webp": ".webp",
           "html": ".html", "docx": ".docx", "ofd": ".ofd"}


class ContentStore:
    """A folder of files named by their SHA-256."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """The file of a key.

        Raises:
            ValueError: the key is absolute or climbs out of the store.
        """
        parts = PurePosixPath(key).parts
        if not parts or PurePosixPath(key).is_absolute() or ".." in parts:
            raise ValueError(f"bad storage key {key!r}")
        return self.root.joinpath(*parts)

    def adopt(self, path: Path, sha256: str, fmt: str) -> str:
        """Make sure a report file is stored under its hash; return its key.

        A file that ingest already wrote into ``inputs/`` is kept where it is; any other file
        (a plain file outside the store) is copied in. Same bytes, same key: nothing is copied twice.
        """
        key = f"inputs/{sha256}{_SUFFIX.get(fmt, '')}"
        final = self.path(key)
        if final.exists():
            return key
        final.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "rb") as src:
            self._write_atomic(src, final)
        return key

    def put_upload(self, stream: BinaryIO) -> tuple[str, str, int]:
        """Store an uploaded stream under its hash.

        Returns:
            (key, sha256, size in bytes).
        """
        folder = self.root / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix=".part-")
        tmp = Path(name)
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK_BYTES):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            sha = digest.hexdigest()
            final = folder / sha
            if final.exists():
                tmp.unlink()
            else:
                tmp.chmod(0o644)
                os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return f"uploads/{sha}", sha, size

    @staticmethod
    def _write_atomic(src: BinaryIO, final: Path) -> None:
        fd, name = tempfile.mkstemp(dir=final.parent, prefix=".part-")
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(src, out, CHUNK_BYTES)
            tmp.chmod(0o644)
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
