"""Commands of the review loop, added to the `nianbao` app by :func:`register`.

``user-add``, ``assign`` and ``token`` manage accounts in the configured database;
``export-corrections`` writes reviewer decisions as training data; ``calibrate`` prints the
trade-off curve of the review threshold from truth files and predictions (no database);
``bench-review`` measures the decisions a reviewer needs per wrong value (a copy of a store).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

_log = logging.getLogger(__name__)


def register(app: typer.Typer) -> None:
    """Add the review commands to `app`."""
    app.command("user-add")(user_add)
    app.command("assign")(assign)
    app.command("token")(token)
    app.command("token-revoke")(token_revoke)
    app.command("export-corrections")(export_corrections)
    app.command("calibrate")(calibrate)
    app.command("bench-review")(bench_review)


def bench_review(
    db: Annotated[str, typer.Option("--db", help="sqlite:/// URL of a store `nianbao extract` recorded into")],
    batch: Annotated[str, typer.Option("--batch", help="batch name")],
    truth: Annotated[Path, typer.Option("--truth", help="folder of <id>.truth.json", exists=True)],
    policy: Annotated[list[str] | None, typer.Option("--policy", help="cells | identities (repeatable)")] = None,
) -> None:
    """Items per wrong value: a simulated reviewer who knows the truth empties the batch's queue
    (on copies of the store; see extractor/review/bench.py)."""
    from extractor.review.bench import run, table

    try:
        results = run(db, batch, truth, policy or ["cells", "identities"])
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=1) from None
    typer.echo(table(results))


def _sessions():
    from extractor.settings import get_settings
    from extractor.storage import make_engine, make_sessionmaker

    return make_sessionmaker(make_engine(get_settings().db))


def user_add(
    email: Annotated[str, typer.Argument(help="the account's e-mail (its login)")],
    role: Annotated[str, typer.Option(help="admin | uploader | reviewer")] = "reviewer",
    name: Annotated[str, typer.Option(help="name shown to people")] = "",
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True,
                                          help="at least 8 characters")] = "",
) -> None:
    """Create an account (prompts for the password)."""
    from extractor.review.accounts import create_user
    from extractor.storage import UserRole

    if len(password) < 8:
        raise typer.BadParameter("the password needs at least 8 characters")
    if role not in {r.value for r in UserRole}:
        raise typer.BadParameter(f"role is one of {', '.join(r.value for r in UserRole)}")
    with _sessions()() as session:
        try:
            user = create_user(session, email, password, UserRole(role), name)
        except ValueError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(code=1) from None
        session.commit()
        typer.echo(f"user {user.id}: {user.email} ({user.role})")


def assign(
    batch_id: Annotated[str, typer.Argument(help="batch id")],
    email: Annotated[str, typer.Argument(help="the reviewer's e-mail")],
) -> None:
    """Let a reviewer review a batch."""
    from sqlalchemy import select

    from extractor.review.accounts import assign as add
    from extractor.storage import Batch, User

    with _sessions()() as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None or session.get(Batch, batch_id) is None:
            typer.echo("no such user or batch", err=True)
            raise typer.Exit(code=1)
        add(session, batch_id, user)
        session.commit()
    typer.echo(f"{email} reviews batch {batch_id}")


def token(
    email: Annotated[str, typer.Argument(help="the account the token acts as")],
    name: Annotated[str, typer.Option(help="what the token is for")] = "",
) -> None:
    """Issue an API token (printed once; send it as 'Authorization: Bearer <token>')."""
    from sqlalchemy import select

    from extractor.review.accounts import issue_token
    from extractor.storage import User

    with _sessions()() as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            typer.echo(f"no user {email}", err=True)
            raise typer.Exit(code=1)
        token_id, value = issue_token(session, user, name)
        session.commit()
    typer.echo(value)
    typer.echo(f"(token {token_id}; revoke it with `nianbao token-revoke {email} --id {token_id}`)", err=True)


def token_revoke(
    email: Annotated[str, typer.Argument(help="the account whose tokens to revoke")],
    token_id: Annotated[int | None, typer.Option("--id", help="one token; default every token of the account")] = None,
    sessions: Annotated[bool, typer.Option("--sessions", help="also end every sign-in of the account")] = False,
) -> None:
    """Revoke API tokens (and sign-ins) of an account at once."""
    from sqlalchemy import select

    from extractor.review.accounts import revoke_tokens
    from extractor.review.sessions import revoke_user_sessions
    from extractor.storage import User

    with _sessions()() as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            typer.echo(f"no user {email}", err=True)
            raise typer.Exit(code=1)
        n = revoke_tokens(session, user, token_id)
        ended = revoke_user_sessions(session, user) if sessions else 0
        session.commit()
    typer.echo(f"{n} token(s) revoked" + (f", {ended} sign-in(s) ended" if sessions else ""))


def export_corrections(
    out: Annotated[Path, typer.Option("--out", help="JSONL file to write")],
    batch: Annotated[str | None, typer.Option(help="only this batch's documents")] = None,
) -> None:
    """Write every reviewer decision as training data (JSONL; format in extractor.review.training)."""
    from extractor.review.training import write_corrections
    from extractor.settings import get_settings
    from extractor.storage import ContentStore

    with _sessions()() as session:
        n = write_corrections(session, out, ContentStore(get_settings().storage.root), batch)
    typer.echo(f"{n} decisions → {out}")


def calibrate(
    truth: Annotated[Path, typer.Option("--truth", help="folder of <id>.truth.json", exists=True, file_okay=False)],
    pred: Annotated[Path, typer.Option("--pred", help="folder of <id>.json from nianbao extract", exists=True,
                                       file_okay=False)],
    recall: Annotated[float, typer.Option(help="share of wrong fields that must be flagged")] = 0.99,
    budget: Annotated[float, typer.Option(help="largest acceptable share of fields flagged")] = 0.05,
    as_json: Annotated[bool, typer.Option("--json", help="print the curve as JSON")] = False,
    by: Annotated[str, typer.Option(help="confidence (review threshold) | margin (decision margin, nats)")] = "confidence",
) -> None:
    """Print threshold → flag rate and recall of wrong fields, and the threshold to use."""
    from extractor.review.calibration import calibrate as run

    if by not in ("confidence", "margin"):
        raise typer.BadParameter("--by is confidence or margin")
    result = run(truth, pred, recall_target=recall, flag_budget=budget, by=by)
    if result.documents == 0:
        typer.echo("no prediction has a truth file beside it", err=True)
        raise typer.Exit(code=1)
    typer.echo(json.dumps(result.model_dump(), indent=1) if as_json else result.describe())
