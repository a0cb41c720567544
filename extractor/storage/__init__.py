"""The service store: SQLAlchemy tables, sessions, migrations, content-addressed files.

PostgreSQL in the service, SQLite on one machine; the same models and migrations for both.
"""

from extractor.storage.blobs import ContentStore
from extractor.storage.db import make_engine, make_sessionmaker, session_scope, upgrade_database
from extractor.storage.models import (
    ApiToken,
    Base,
    BatchAssignment,
    Batch,
    BatchDocument,
    BatchState,
    CheckRow,
    Correction,
    Document,
    DocumentState,
    FieldRow,
    IdentityAcceptance,
    InputErrorRow,
    ItemKind,
    LoginFailure,
    PageRow,
    ReviewDecision,
    ReviewItem,
    ReviewLease,
    ReviewState,
    User,
    UserRole,
    WebSession,
)
from extractor.storage.progress import BatchProgress, batch_progress
from extractor.storage.register import create_batch, pending_documents, register_inputs, unfinished_documents

__all__ = [
    "ApiToken",
    "Base",
    "BatchAssignment",
    "Batch",
    "BatchDocument",
    "BatchProgress",
    "BatchState",
    "CheckRow",
    "ContentStore",
    "Correction",
    "Document",
    "DocumentState",
    "FieldRow",
    "IdentityAcceptance",
    "InputErrorRow",
    "ItemKind",
    "LoginFailure",
    "PageRow",
    "ReviewDecision",
    "ReviewItem",
    "ReviewLease",
    "ReviewState",
    "User",
    "UserRole",
    "WebSession",
    "batch_progress",
    "make_engine",
    "make_sessionmaker",
    "create_batch",
    "pending_documents",
    "unfinished_documents",
    "register_inputs",
    "session_scope",
    "upgrade_database",
]
