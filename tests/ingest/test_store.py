"""The capped, content-addressed blob store."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from extractor.ingest.store import BlobStore, Cap, CapExceeded


def test_stream_longer_than_its_cap_is_cut_off_and_removed(tmp_path: Path) -> None:
    # A member whose stream runs to 8 MiB while its cap (e.g. from a lying header) is 1 MiB.
    # Writing stops just past the cap with the cap's reason and leaves no file behind.
    store = BlobStore(tmp_path)
    stream = io.BytesIO(bytes(8 * 1024 * 1024))

    with pytest.raises(CapExceeded) as info:
        store.write(stream, [Cap(4 * 1024 * 1024, "loose"), Cap(1024 * 1024, "tight")])

    assert info.value.reason == "tight"
    assert info.value.written <= 2 * 1024 * 1024
    assert stream.tell() <= 2 * 1024 * 1024
    assert list(store.root.iterdir()) == []


def test_stream_at_its_cap_is_kept_under_its_hash(tmp_path: Path) -> None:
    # A stream exactly as long as its cap.
    # It is stored in full, named by its SHA-256 with the given suffix.
    store = BlobStore(tmp_path)
    blob = store.write(io.BytesIO(b"%PDF-abc"), [Cap(8, "cap")])

    path = store.keep(blob, ".pdf")

    assert path == tmp_path / "inputs" / f"{blob.sha256}.pdf"
    assert path.read_bytes() == b"%PDF-abc" and blob.head == b"%PDF-abc"
