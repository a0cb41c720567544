"""The HTTP API of the bulk service (JSON endpoints; the reviewer page lives in extractor.review)."""

from extractor.api.app import create_app

__all__ = ["create_app"]
