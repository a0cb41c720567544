"""/batches: submit an archive, follow its progress, export its dataset."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Response, UploadFile, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from extractor.api.deps import Dispatcher, get_db_session, get_dispatcher, get_settings, get_store
from extractor.api.schemas import BatchAccepted, BatchItem, BatchSummary, InputErrorOut
from extractor.export import ExportFormat, Layout, Selection, export_batch
from extractor.settings import Settings
from extractor.storage import (
    Batch,
    BatchDocument,
    BatchProgress,
    ContentStore,
    InputErrorRow,
    batch_progress,
    create_batch,
)

_log = logging.getLogger(__name__)

router = APIRouter(prefix="/batches", tags=["batches"])


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=BatchAccepted)
def submit_batch(
    session: Annotated[Session, Depends(get_db_session)],
    store: Annotated[ContentStore, Depends(get_store)],
    settings: Annotated[Settings, Depends(get_settings)],
    dispatcher: Annotated[Dispatcher, Depends(get_dispatcher)],
    file: Annotated[UploadFile | None, File(description="an archive, PDF, image, HTML page, Word (.docx) or OFD file")] = None,
    path: Annotated[str | None, Form(description="a file or folder on the server, under the import root")] = None,
    name: Annotated[str | None, Form(description="a name for people; default the file name")] = None,
) -> BatchAccepted:
    """Store the input under its content hash, record the batch, queue it; 202 with its id.

    Exactly one of `file` (multipart upload) and `path` (server-side, read in place) is given.
    """
    if (file is None) == (path is None):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "give exactly one of 'file' and 'path'")
    if file is not None:
        key, sha, size = store.put_upload(file.file)
        batch = create_batch(session, name or file.filename or sha[:12], source_key=key)
        _log.info("upload %s (%d bytes) → batch %s", sha[:12], size, batch.id)
    else:
        server_path = _allowed_path(path or "", settings)
        batch = create_batch(session, name or server_path.name, source_path=str(server_path))
    session.commit()
    # Enqueued only after the commit, so the worker finds the batch.
    dispatcher.enqueue_batch(batch.id)
    return BatchAccepted(batch_id=batch.id, status_url=f"/batches/{batch.id}")


def _allowed_path(path: str, settings: Settings) -> Path:
    root = settings.storage.import_root
    if root is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "server-side paths are disabled (set NIANBAO_STORAGE__IMPORT_ROOT)")
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(Path(root).resolve()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"path is outside the import root {root}")
    if not resolved.exists():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such file or folder on the server")
    return resolved


@router.get("", response_model=list[BatchSummary])
def list_batches(
    session: Annotated[Session, Depends(get_db_session)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[BatchSummary]:
    """The latest batches, newest first."""
    batches = session.scalars(select(Batch).order_by(Batch.created_at.desc()).limit(limit))
    return [BatchSummary(batch_id=b.id, name=b.name, state=b.state, created_at=b.created_at) for b in batches]


@router.get("/{batch_id}", response_model=BatchProgress)
def get_progress(batch_id: str, session: Annotated[Session, Depends(get_db_session)]) -> BatchProgress:
    """Documents by state, pages done and pages per minute."""
    progress = batch_progress(session, batch_id)
    if progress is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such batch")
    return progress


@router.get("/{batch_id}/documents", response_model=list[BatchItem])
def list_documents(batch_id: str, session: Annotated[Session, Depends(get_db_session)]) -> list[BatchItem]:
    """Every report file of the batch with its document's state and error."""
    _require(session, batch_id)
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
def list_input_errors(batch_id: str, session: Annotated[Session, Depends(get_db_session)]) -> list[InputErrorOut]:
    """Inputs of the batch that did not become documents, and why."""
    _require(session, batch_id)
    rows = session.scalars(select(InputErrorRow).where(InputErrorRow.batch_id == batch_id).order_by(InputErrorRow.id))
    return [InputErrorOut(source=r.source, reason=r.reason) for r in rows]


@router.get("/{batch_id}/export", response_class=Response,
            responses={200: {"content": {"application/zip": {}}, "description": "dataset, codebook, manifest"}})
def export(
    batch_id: str,
    session: Annotated[Session, Depends(get_db_session)],
    format: Annotated[ExportFormat, Query()] = ExportFormat.CSV,  # noqa: A002 - the public parameter name
    layout: Annotated[Layout, Query()] = Layout.WIDE,
    statuses: Annotated[bool, Query(description="add a status column per field (wide)")] = False,
    selection: Annotated[Selection, Query(description="all reports or only fully reviewed ones")] = Selection.ALL,
) -> Response:
    """A zip of the dataset, its codebook and a manifest; the same data gives the same bytes."""
    _require(session, batch_id)
    bundle = export_batch(session, batch_id, format, layout, statuses, selection)
    filename = f"nianbao-{batch_id[:8]}-{layout.value}-{format.value}.zip"
    return Response(
        content=bundle.zip_bytes(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                 "X-Export-SHA256": bundle.manifest["sha256"]},
    )


def _require(session: Session, batch_id: str) -> None:
    if session.get(Batch, batch_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such batch")
