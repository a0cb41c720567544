"""/batches: submit an archive, follow its progress, export its dataset."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from extractor.api.deps import (
    QUEUE_ERRORS,
    CurrentUser,
    Dispatcher,
    get_db_session,
    get_dispatcher,
    get_settings,
    get_store,
    require_batch,
    require_uploader,
)
from extractor.api.uploads import FORM_OVERHEAD_BYTES, LimitedReader, UploadTooLarge, declared_members, quota_used
from extractor.api.schemas import BatchAccepted, BatchItem, BatchSummary, InputErrorOut
from extractor.export import ExportFormat, Layout, Selection, export_batch
from extractor.settings import Settings
from extractor.storage import (
    Batch,
    BatchDocument,
    BatchProgress,
    ContentStore,
    InputErrorRow,
    User,
    batch_progress,
    create_batch,
)

_log = logging.getLogger(__name__)

router = APIRouter(prefix="/batches", tags=["batches"])
# 413 Content Too Large (Starlette renamed its constant; the number is the same in every version).
_TOO_LARGE = 413
# Seconds a client is told to wait after a 503 because the queue was unreachable.
_QUEUE_RETRY_AFTER = 30


# The multipart body of POST /batches, for the OpenAPI document: the handler reads the form
# itself, after authentication, so an anonymous client cannot make the server store a byte.
_SUBMIT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object",
            "properties": {
                "file": {"type": "string", "format": "binary", "description": "an archive, PDF or image"},
                "path": {"type": "string", "description": "a file or folder on the server, under the import root"},
                "name": {"type": "string", "description": "a name for people; default the file name"},
            },
        }}},
    }
}


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=BatchAccepted, openapi_extra=_SUBMIT_BODY,
             responses={413: {"description": "over the size, member or quota limit"},
                        503: {"description": "stored, but the queue is unreachable: queued later by the reconciler"}})
async def submit_batch(
    request: Request,
    user: Annotated[User, Depends(require_uploader)],
    session: Annotated[Session, Depends(get_db_session)],
    store: Annotated[ContentStore, Depends(get_store)],
    settings: Annotated[Settings, Depends(get_settings)],
    dispatcher: Annotated[Dispatcher, Depends(get_dispatcher)],
) -> BatchAccepted:
    """Store the input under its content hash, record the batch (owned by the caller), queue it; 202 with its id.

    Exactly one of `file` (multipart upload) and `path` (server-side, read in place) is given.
    An upload is refused with 413 when it is larger than ``max_upload_bytes`` (cut off while it
    streams in), declares more than ``max_archive_members`` members, or would take the account
    over ``user_quota_bytes``.
    """
    limits = settings.storage
    left = limits.user_quota_bytes - await run_in_threadpool(quota_used, session, user)
    # End the read before the body streams in: a connection held for the whole upload was one less
    # for every other request (20 slow uploads took the whole pool).
    await run_in_threadpool(session.commit)
    length = request.headers.get("content-length")
    if left <= 0 or (length is not None and length.isdigit() and int(length) > left + FORM_OVERHEAD_BYTES):
        raise HTTPException(_TOO_LARGE,
                            f"upload quota of {limits.user_quota_bytes} bytes: {max(left, 0)} left")
    async with request.form(max_files=1, max_fields=3) as form:
        file, path, name = form.get("file"), form.get("path"), form.get("name")
        if isinstance(path, UploadFile) or isinstance(name, UploadFile) or (file is not None
                                                                           and not isinstance(file, UploadFile)):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "'file' is a file; 'path' and 'name' are text")
        if (file is None) == (path is None):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "give exactly one of 'file' and 'path'")
        if file is not None:
            batch = await run_in_threadpool(_store_upload, session, store, settings, user, file, name, left)
        else:
            server_path = _allowed_path(path, settings)
            batch = create_batch(session, name or server_path.name, source_path=str(server_path))
            batch.owner_id = user.id
        await run_in_threadpool(session.commit)
    # Enqueued only after the commit, so the worker finds the batch. When the broker cannot be
    # reached the batch stays recorded (`received`) and the reconciler queues it once the broker
    # is back: the client gets 503 naming the batch, never a 500 with a half-made batch.
    try:
        await run_in_threadpool(dispatcher.enqueue_batch, batch.id)
    except QUEUE_ERRORS as exc:
        _log.error("batch %s stored but not queued: %r", batch.id, exc)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            {"message": f"batch {batch.id} was stored, but the work queue is unreachable; it will be queued "
                        "automatically once the queue is back (do not upload it again)",
             "batch_id": batch.id, "status_url": f"/batches/{batch.id}"},
            headers={"Retry-After": str(_QUEUE_RETRY_AFTER)},
        ) from None
    return BatchAccepted(batch_id=batch.id, status_url=f"/batches/{batch.id}")


def _store_upload(session: Session, store: ContentStore, settings: Settings, user: User, file: UploadFile,
                  name: str | None, quota_left: int) -> Batch:
    limits = settings.storage
    cap = min(limits.max_upload_bytes, quota_left)
    reason = (f"archive larger than {limits.max_upload_bytes} bytes" if cap == limits.max_upload_bytes
              else f"upload quota of {limits.user_quota_bytes} bytes: {quota_left} left")
    try:
        key, sha, size = store.put_upload(LimitedReader(file.file, cap, reason))
    except UploadTooLarge as exc:
        raise HTTPException(_TOO_LARGE, str(exc)) from None
    members = declared_members(store.path(key), limits.max_archive_members)
    if members is not None and members > limits.max_archive_members:
        # Stored by hash, possibly shared with an accepted upload of the same bytes: left in place.
        raise HTTPException(_TOO_LARGE,
                            f"archive has more than {limits.max_archive_members} members")
    batch = create_batch(session, name or file.filename or sha[:12], source_key=key)
    batch.owner_id, batch.upload_bytes = user.id, size
    _log.info("upload %s (%d bytes) by user %d → batch %s", sha[:12], size, user.id, batch.id)
    return batch


def _allowed_path(path: str, settings: Settings) -> Path:
    """The server-side path, resolved (symbolic links followed), when it lies under the import root.

    A relative path is taken under the import root. Outside the root the answer is the same
    403 whether the path exists or not, so the server's folders cannot be probed.
    """
    root = settings.storage.import_root
    if root is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "server-side paths are disabled (set NIANBAO_STORAGE__IMPORT_ROOT)")
    real_root = Path(root).resolve()
    try:
        resolved = (real_root / path).resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL byte
        raise HTTPException(status.HTTP_403_FORBIDDEN, "path is outside the import root") from None
    if not resolved.is_relative_to(real_root):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "path is outside the import root")
    if not resolved.exists():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such file or folder under the import root")
    return resolved


@router.get("", response_model=list[BatchSummary])
def list_batches(
    user: CurrentUser,
    session: Annotated[Session, Depends(get_db_session)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[BatchSummary]:
    """The latest batches in the caller's scope, newest first."""
    from extractor.review.accounts import visible_batches

    query = select(Batch).order_by(Batch.created_at.desc()).limit(limit)
    allowed = visible_batches(session, user)
    if allowed is not None:
        query = query.where(Batch.id.in_(allowed))
    batches = session.scalars(query)
    return [BatchSummary(batch_id=b.id, name=b.name, state=b.state, created_at=b.created_at) for b in batches]


@router.get("/{batch_id}", response_model=BatchProgress)
async def get_progress(batch_id: str, user: CurrentUser,
                       session: Annotated[Session, Depends(get_db_session)]) -> BatchProgress:
    """Documents by state, pages done and pages per minute."""
    # One trip through the thread pool for the whole read: the most frequent request of all
    # (`nianbao bench-load`); a sync endpoint costs another for validating its answer.
    return await run_in_threadpool(_progress, session, user, batch_id)


def _progress(session: Session, user: User, batch_id: str) -> BatchProgress:
    require_batch(session, user, batch_id)
    progress = batch_progress(session, batch_id)
    if progress is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such batch")
    return progress


@router.get("/{batch_id}/documents", response_model=list[BatchItem])
def list_documents(batch_id: str, user: CurrentUser,
                   session: Annotated[Session, Depends(get_db_session)]) -> list[BatchItem]:
    """Every report file of the batch with its document's state and error."""
    require_batch(session, user, batch_id)
    items = session.scalars(
        select(BatchDocument).where(BatchDocument.batch_id == batch_id).order_by(BatchDocument.item_id)
    )
    return [
        BatchItem(document_id=i.document_id, item_id=i.item_id, source=i.source, duplicate_of=i.duplicate_of,
                  state=i.document.state, pages=i.document.pages, template=i.document.template,
                  error=i.document.error)
        for i in items
    ]


@router.get("/{batch_id}/errors", response_model=list[InputErrorOut])
def list_input_errors(batch_id: str, user: CurrentUser,
                      session: Annotated[Session, Depends(get_db_session)]) -> list[InputErrorOut]:
    """Inputs of the batch that did not become documents, and why."""
    require_batch(session, user, batch_id)
    rows = session.scalars(select(InputErrorRow).where(InputErrorRow.batch_id == batch_id).order_by(InputErrorRow.id))
    return [InputErrorOut(source=r.source, reason=r.reason) for r in rows]


@router.get("/{batch_id}/export", response_class=Response,
            responses={200: {"content": {"application/zip": {}}, "description": "dataset, codebook, manifest"}})
def export(
    batch_id: str,
    user: CurrentUser,
    session: Annotated[Session, Depends(get_db_session)],
    format: Annotated[ExportFormat, Query()] = ExportFormat.CSV,  # noqa: A002 - the public parameter name
    layout: Annotated[Layout, Query()] = Layout.WIDE,
    statuses: Annotated[bool, Query(description="add a status column per field (wide)")] = False,
    selection: Annotated[Selection, Query(description="all reports or only fully reviewed ones")] = Selection.ALL,
) -> Response:
    """A zip of the dataset, its codebook and a manifest; the same data gives the same bytes."""
    require_batch(session, user, batch_id)
    bundle = export_batch(session, batch_id, format, layout, statuses, selection)
    filename = f"nianbao-{batch_id[:8]}-{layout.value}-{format.value}.zip"
    return Response(
        content=bundle.zip_bytes(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                 "X-Export-SHA256": bundle.manifest["sha256"]},
    )
