"""/health: the API is up and reaches its database."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import text
from sqlalchemy.orm import Session

from extractor.api.deps import get_db_session

router = APIRouter(prefix="/health", tags=["health"])


@router.get("")
def health(session: Annotated[Session, Depends(get_db_session)]) -> dict[str, str]:
    session.execute(text("SELECT 1"))
    return {"status": "ok"}
