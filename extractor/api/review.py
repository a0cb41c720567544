"""/review: the reviewer page (one Jinja template) and its small JSON endpoints.

The page signs in, takes the next item of a batch under a lease on its item group (a section of
a document, or its metadata), shows the item's picture, and posts a decision; each answer carries
the same pydantic records the CLI and the tests use (:mod:`extractor.review.views`). History,
undo and reviewer statistics come from :mod:`extractor.review.audit`.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response, status
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from extractor.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    CurrentUser,
    DbSession,
    get_secret,
    get_settings,
    get_store,
    require_admin,
    require_batch,
    require_document,
    request_user,
)
from extractor.datamodel import PageRecord
from extractor.review import throttle
from extractor.review.accounts import (
    AuthError,
    assign,
    authenticate,
    create_user,
    issue_token,
    revoke_tokens,
    visible_batches,
)
from extractor.review.audit import HistoryEntry, ReviewerStats, history, reviewer_stats
from extractor.review.sessions import open_session, revoke_session
from extractor.review.corrections import Action, LeaseLost, StaleDecision, TypedValueError, decide, undo_last
from extractor.review.images import render_picture
from extractor.review.queue import (
    BatchQueueProgress,
    acquire_lease,
    may_review,
    next_item,
    queue_progress,
    release_leases,
)
from extractor.review.views import DocumentView, ReviewItemOut, document_view, item_out, item_picture
from extractor.settings import Settings
from extractor.storage import ApiToken, Batch, ContentStore, Document, FieldRow, PageRow, ReviewItem, User, UserRole
from extractor.storage.review_view import view_fields, view_of

_log = logging.getLogger(__name__)

router = APIRouter(prefix="/review", tags=["review"])

# Folders of the page's one template and its static script and style sheet.
_HERE = Path(__file__).resolve().parent
_templates = Jinja2Templates(directory=str(_HERE / "templates"))



def mount_static(app: FastAPI) -> None:
    """Serve the page's script and style sheet under /review/static."""
    app.mount("/review/static", StaticFiles(directory=str(_HERE / "static")), name="review-static")


class Credentials(BaseModel):
    email: str
    password: str


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: str


class SignedIn(UserOut):
    csrf_token: str = Field(description="send it back as 'X-CSRF-Token' with every change (also in a cookie)")


class NewUser(BaseModel):
    email: str
    password: str = Field(min_length=8)
    role: UserRole = UserRole.REVIEWER
    name: str = ""


class Assignment(BaseModel):
    email: str


class TokenRequest(BaseModel):
    name: str = ""


class TokenOut(BaseModel):
    id: int = Field(description="for revoking it")
    token: str = Field(description="shown once; send it as 'Authorization: Bearer <token>'")


class TokenInfo(BaseModel):
    id: int
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class Decision(BaseModel):
    value: float | None = Field(None, description="the corrected value; None confirms the value as read")
    text: str | None = Field(None, max_length=200, description="what the reviewer typed, read strictly: "
                             "digits (full-width too), a point, a minus sign; 1e3 or 0x10 are refused")
    action: Action | None = Field(None, description="as_printed: the item's identities do not add up in print; "
                                  "accept them as printed (clears every item they raised)")
    field_id: str | None = Field(None, max_length=200, description="identity items: the cell the value goes into")
    version: int | None = Field(None, description="the item version shown; a decided version answers 409")
    reason: str = Field("", max_length=2000, description="the reviewer's comment, kept in the history")


class DecisionOut(BaseModel):
    item: ReviewItemOut
    document: DocumentView
    progress: BatchQueueProgress
    decision_id: int


class UndoOut(BaseModel):
    decision_id: int | None = Field(description="the decision undone; None: nothing of yours left to undo")
    item: ReviewItemOut | None


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def page(request: Request) -> HTMLResponse:
    """The reviewer page: sign-in, queue and document view in one template (no data until signed in)."""
    return _templates.TemplateResponse(request, "review.html", {})


@router.post("/api/login", response_model=SignedIn,
             responses={401: {"description": "wrong e-mail or password"}, 429: {"description": "too many failures"}})
def login(credentials: Credentials, request: Request, response: Response, session: DbSession,
          secret: Annotated[str, Depends(get_secret)], settings: Annotated[Settings, Depends(get_settings)]) -> SignedIn:
    """Check the credentials (rate-limited per account and per address), set the sign-in and CSRF cookies."""
    address = request.client.host if request.client else "unknown"
    wait = throttle.retry_after(session, credentials.email, address, settings.review)
    if wait is not None:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many failed sign-ins; try again later",
                            headers={"Retry-After": str(wait)})
    try:
        user = authenticate(session, credentials.email, credentials.password)
    except AuthError as exc:
        throttle.record_failure(session, credentials.email, address)
        session.commit()
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from None
    throttle.clear_account(session, credentials.email, settings.review)
    hours = settings.review.session_hours
    cookie, csrf = open_session(session, user, secret, hours)
    session.commit()
    secure = settings.review.secure_cookies
    if secure is None:
        secure = request.url.scheme == "https"
    common = {"max_age": int(hours * 3600), "samesite": "strict", "path": "/", "secure": secure}
    response.set_cookie(SESSION_COOKIE, cookie, httponly=True, **common)
    # Readable by the page's script, which sends it back in X-CSRF-Token (double submit).
    response.set_cookie(CSRF_COOKIE, csrf, httponly=False, **common)
    return SignedIn(**_user_out(user).model_dump(), csrf_token=csrf)


@router.post("/api/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, response: Response, user: CurrentUser, session: DbSession) -> Response:
    """Release the user's lease, end this sign-in (the cookie no longer works anywhere) and clear the cookies."""
    release_leases(session, user)
    if request.state.session_id is not None:
        revoke_session(session, request.state.session_id)
    session.commit()
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    response.status_code = status.HTTP_204_NO_CONTENT
    return response


@router.get("/api/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    return _user_out(user)


@router.get("/api/batches", response_model=list[BatchQueueProgress])
def batches(user: CurrentUser, session: DbSession) -> list[BatchQueueProgress]:
    """Review progress of every batch the user may review, newest first."""
    allowed = visible_batches(session, user)
    query = select(Batch.id).order_by(Batch.created_at.desc())
    if allowed is not None:
        query = query.where(Batch.id.in_(allowed))
    out = [p for b in session.scalars(query).all() if (p := queue_progress(session, b, user.id)) is not None]
    session.commit()
    return out


@router.post("/api/batches/{batch_id}/next", response_model=ReviewItemOut,
             responses={204: {"description": "nothing left that is not leased by someone else"}})
def take_next(batch_id: str, user: CurrentUser, session: DbSession,
              settings: Annotated[Settings, Depends(get_settings)], after: int | None = None) -> ReviewItemOut | Response:
    """Lease and return the next item of the batch (`after`: skip past that item)."""
    previous = session.get(ReviewItem, after) if after is not None else None
    if previous is not None and previous.batch_id != batch_id:
        previous = None
    try:
        item = next_item(session, user, batch_id, settings.review.lease_seconds, after=previous)
    except PermissionError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such batch") from None
    session.commit()
    if item is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return item_out(session, item)


@router.get("/api/items/{item_id}", response_model=ReviewItemOut)
def open_item(item_id: int, user: CurrentUser, session: DbSession,
              settings: Annotated[Settings, Depends(get_settings)]) -> ReviewItemOut:
    """An item by id (going back, or the page reloaded), its group leased to the user (the lease renewed)."""
    item = _visible_item(session, user, item_id)
    if not acquire_lease(session, item.document_id, item.group_key, user, settings.review.lease_seconds):
        session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, "另一位复核人正在处理这部分 / another reviewer is working on "
                            "this part of the document")
    session.commit()
    return item_out(session, item)


@router.post("/api/items/{item_id}/decision", response_model=DecisionOut,
             responses={409: {"description": "lease lost, or this item version was decided already"},
                        422: {"description": "the value is refused (message in Chinese and English)"}})
def post_decision(item_id: int, decision: Decision, user: CurrentUser, session: DbSession,
                  settings: Annotated[Settings, Depends(get_settings)]) -> DecisionOut:
    """Confirm, correct or accept as printed; the document is re-validated and the lease renewed."""
    item = _visible_item(session, user, item_id)
    try:
        made = decide(session, user, item, decision.value, decision.reason, text=decision.text,
                      action=decision.action, field_id=decision.field_id, version=decision.version)
        session.flush()
    except LeaseLost as exc:
        session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, f"复核期限已过 / lease lost: {exc}",
                            headers={"X-Review-Conflict": "lease"}) from None
    except (StaleDecision, IntegrityError) as exc:
        session.rollback()
        _log.info("stale decision on item %s: %s", item_id, exc)
        raise HTTPException(status.HTTP_409_CONFLICT, "此项已复核，未重复记录 / this item was decided already; "
                            "nothing recorded twice", headers={"X-Review-Conflict": "stale"}) from None
    except ValueError as exc:
        session.rollback()
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from None
    acquire_lease(session, item.document_id, item.group_key, user, settings.review.lease_seconds)
    decision_id = made.id
    session.commit()
    document = session.get(Document, item.document_id)
    return DecisionOut(item=item_out(session, item), document=document_view(session, document, item.batch_id),
                       progress=queue_progress(session, item.batch_id, user.id), decision_id=decision_id)


@router.post("/api/batches/{batch_id}/undo", response_model=UndoOut,
             responses={409: {"description": "another reviewer holds the item, or changed a field since"}})
def undo(batch_id: str, user: CurrentUser, session: DbSession,
         settings: Annotated[Settings, Depends(get_settings)]) -> UndoOut:
    """Undo the caller's latest decision in the batch not undone yet (again: one further back)."""
    require_batch(session, user, batch_id)
    try:
        done = undo_last(session, user, batch_id, settings.review.lease_seconds)
    except (LeaseLost, StaleDecision) as exc:
        session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    session.commit()
    if done is None:
        return UndoOut(decision_id=None, item=None)
    return UndoOut(decision_id=done.id, item=item_out(session, session.get(ReviewItem, done.item_id)))


@router.post("/api/leases/release", status_code=status.HTTP_204_NO_CONTENT)
async def release(request: Request, session: DbSession, secret: Annotated[str, Depends(get_secret)],
                  settings: Annotated[Settings, Depends(get_settings)]) -> Response:
    """Give back the caller's leases (the page sends this with navigator.sendBeacon when its tab closes).

    A beacon cannot set headers, so the page sends its CSRF token as the text body; it must be
    the sign-in's own token, as the header would be. A bearer token needs none.
    """
    body = (await request.body())[:200].decode("utf-8", "replace").strip()
    user = _beacon_user(request, session, secret, settings, body)
    release_leases(session, user)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _beacon_user(request: Request, session: Session, secret: str, settings: Settings, token: str) -> User:
    # A beacon sends no headers: its CSRF token comes in its body.
    return request_user(request, session, secret, settings, check_csrf=True, csrf=token, csrf_from="body of the beacon")


@router.get("/api/items/{item_id}/crop.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def crop(item_id: int, user: CurrentUser, session: DbSession,
         store: Annotated[ContentStore, Depends(get_store)]) -> Response:
    """The page around the item's cell, the cell outlined (cached; see :mod:`extractor.review.images`)."""
    item = _visible_item(session, user, item_id)
    row = session.scalar(
        select(FieldRow).where(FieldRow.document_id == item.document_id, FieldRow.field_id == item.field_id,
                               FieldRow.batch_id == view_of(session, item.document_id, item.batch_id))
    )
    if row is None or row.page is None or row.bbox is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the field was not located on a page")
    return _picture_response(session, store, item, full=False)


@router.get("/api/items/{item_id}/image.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def item_image(item_id: int, user: CurrentUser, session: DbSession,
               store: Annotated[ContentStore, Depends(get_store)], full: bool = False) -> Response:
    """The item's picture: its cell, the expected row and column of a field not found, an
    identity's cells or a metadata line; `full`: the whole page with the same highlights."""
    return _picture_response(session, store, _visible_item(session, user, item_id), full=full)


def _picture_response(session: Session, store: ContentStore, item: ReviewItem, full: bool) -> Response:
    document = session.get(Document, item.document_id)
    rows = {r.field_id: r for r in view_fields(session, document.id, item.batch_id)}
    picture = item_picture(session, item, document, rows)
    if picture is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no page of this document is stored")
    page = session.scalar(
        select(PageRow).where(PageRow.document_id == item.document_id, PageRow.index == picture.page,
                              PageRow.record.is_not(None)).order_by(PageRow.created_at.desc())
    )
    if page is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no stored page record")
    png = render_picture(store.root, store.path(document.blob_key), document.sha256,
                         PageRecord.model_validate(page.record), picture, full_page=full)
    return Response(content=png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/api/documents/{document_id}/history", response_model=list[HistoryEntry])
def document_history(document_id: int, user: CurrentUser, session: DbSession, field_id: str | None = None,
                     batch: Annotated[str | None, Query(description="its changes in this batch")] = None,
                     ) -> list[HistoryEntry]:
    """Every change to the document's fields and metadata (or to one field), newest first.

    With `batch` (one of the caller's batches): the changes made in that batch only (a review
    belongs to its batch). Without it, an admin sees every batch's changes, others those of the
    batches they may see.
    """
    require_document(session, user, document_id)
    if batch is not None:
        require_batch(session, user, batch)
        return history(session, document_id=document_id, field_id=field_id, batch_id=batch)
    entries = history(session, document_id=document_id, field_id=field_id)
    allowed = visible_batches(session, user)
    return entries if allowed is None else [e for e in entries if e.batch_id in allowed]


@router.get("/api/batches/{batch_id}/history", response_model=list[HistoryEntry])
def batch_history(batch_id: str, user: CurrentUser, session: DbSession, limit: int = 500) -> list[HistoryEntry]:
    """The batch's latest changes, newest first (who, when, old, new, reason)."""
    require_batch(session, user, batch_id)
    return history(session, batch_id=batch_id, limit=max(1, min(limit, 5000)))


@router.get("/api/batches/{batch_id}/stats", response_model=list[ReviewerStats])
def batch_stats(batch_id: str, user: CurrentUser, session: DbSession) -> list[ReviewerStats]:
    """Per reviewer: decisions, undone decisions, fields changed, items per hour of active time."""
    require_batch(session, user, batch_id)
    return reviewer_stats(session, batch_id)


@router.get("/api/documents/{document_id}/view", response_model=DocumentView)
def view_document(document_id: int, user: CurrentUser, session: DbSession,
                  batch: Annotated[str | None, Query(description="as this batch reviewed it")] = None) -> DocumentView:
    """The document laid out as its template's tables, with the status of every check.

    With `batch` (one of the caller's batches holding the document): that batch's reviewed
    values; without it, the values as the pipeline read them.
    """
    document = require_document(session, user, document_id)
    if batch is not None:
        require_batch(session, user, batch)
    return document_view(session, document, batch)


@router.post("/api/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def add_user(body: NewUser, _admin: Annotated[User, Depends(require_admin)], session: DbSession) -> UserOut:
    """Create an account (admins only)."""
    try:
        user = create_user(session, body.email, body.password, body.role, body.name)
    except ValueError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    session.commit()
    return _user_out(user)


@router.post("/api/batches/{batch_id}/assignments", status_code=status.HTTP_204_NO_CONTENT)
def add_assignment(batch_id: str, body: Assignment, user: CurrentUser, session: DbSession) -> Response:
    """Let a reviewer review a batch (admins, and the uploader who owns the batch)."""
    batch = require_batch(session, user, batch_id)
    if user.role != UserRole.ADMIN.value and batch.owner_id != user.id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only admins and the batch's uploader assign it")
    reviewer = session.scalar(select(User).where(User.email == body.email.strip().lower()))
    if reviewer is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such user")
    assign(session, batch_id, reviewer)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/api/tokens", response_model=TokenOut, status_code=status.HTTP_201_CREATED)
def new_token(body: TokenRequest, user: CurrentUser, session: DbSession) -> TokenOut:
    """An API token for the signed-in user (shown once)."""
    token_id, token = issue_token(session, user, body.name)
    session.commit()
    return TokenOut(id=token_id, token=token)


@router.get("/api/tokens", response_model=list[TokenInfo])
def list_tokens(user: CurrentUser, session: DbSession) -> list[TokenInfo]:
    """The caller's API tokens (never the tokens themselves)."""
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
    return [TokenInfo(id=r.id, name=r.name, created_at=r.created_at, last_used_at=r.last_used_at,
                      revoked_at=r.revoked_at) for r in rows]


@router.delete("/api/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: int, user: CurrentUser, session: DbSession) -> Response:
    """Revoke one of the caller's tokens at once (404 for another user's token)."""
    if revoke_tokens(session, user, token_id) == 0:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such live token of yours")
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _visible_item(session: Session, user: User, item_id: int) -> ReviewItem:
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such item")
    if not may_review(session, user, item.batch_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such item")
    return item


def _user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, name=user.name, role=user.role)
