"""Response bodies of the API that are not records of their own."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class BatchAccepted(BaseModel):
    """Answer to POST /batches: the batch exists and its input is queued for unpacking."""

    batch_id: str
    status_url: str = Field(description="GET it for the progress")


class BatchSummary(BaseModel):
    batch_id: str
    name: str
    state: str
    created_at: dt.datetime


class BatchItem(BaseModel):
    """A report file of a batch and the state of its document."""

    document_id: int = Field(description="id of the stored document (shared by identical files)")
    item_id: str = Field(description="the report's id within the batch")
    source: str
    duplicate_of: str | None
    state: str
    pages: int | None
    template: str | None
    error: str | None


class InputErrorOut(BaseModel):
    source: str
    reason: str
