"""Errors raised when an input document cannot be read at all."""

from __future__ import annotations


class DocumentError(Exception):
    """The input file cannot be turned into page images.

    Raised for inputs that no retry can fix (encrypted, corrupt, empty, oversized); the pipeline
    records the message on the Document and carries on with the rest of the batch. The message is
    written for a person reading the batch report.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
