"""Items per wrong value: a reviewer who knows the truth works through a batch's queue.

``nianbao bench-review --db URL --batch NAME --truth DIR`` copies the store's SQLite file, signs
in a simulated reviewer and takes items until the queue is empty. For each item it does what a
careful reviewer would, looking at the report's truth (``<id>.truth.json``, where the printed
values are kept even when the agency's totals do not add up):

- a value that differs from the printed one is corrected (typed);
- a value that is right is confirmed — unless it is doubtful only because an identity breaks
  that breaks in print too (every cell of it as printed), and identity decisions exist: then
  the identity is accepted as printed, once (``--policy identities``, the default);
- an identity item: accepted as printed when all its cells are right, else its first wrong
  cell corrected;
- a metadata item: corrected to the truth, or confirmed.

It reports the wrong values (machine value ≠ printed), the items in the queue at the start,
the decisions it took to empty it, the items ever queued, and decisions per wrong value. The
module runs on its own too (``python -P -m``-free: ``python -P extractor/review/bench.py``), so
the same simulation can be run against an older checkout on a copy of the same store; it uses
only what the older review code had when identity decisions are not there.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

_log = logging.getLogger(__name__)

# Decisions after which a simulation stops (a queue that never empties is a bug to report).
_MAX_DECISIONS = 20_000


@dataclass
class BenchResult:
    """One simulated review of one batch."""

    batch: str
    policy: str  # cells (confirm/correct only) | identities (with identity decisions)
    documents: int
    wrong_values: int  # fields and metadata whose machine value is not the printed one
    wrong_meta: int  # of which agency, year or publication date
    queued_at_start: int  # pending items before the first decision
    decisions: int  # items decided until the queue was empty
    items_ever: int  # items created in all (the start plus those decisions queued)
    wrong_left: int  # wrong values no item asked about (silent errors)
    identities_accepted: int

    @property
    def per_wrong(self) -> float | None:
        return self.decisions / self.wrong_values if self.wrong_values else None


def simulate(db_url: str, batch_name: str, truth_dir: Path, policy: str = "identities") -> BenchResult:
    """Empty the queue of `batch_name` in the store at `db_url` (which it changes: pass a copy)."""
    from sqlalchemy import func, select

    from extractor.review.accounts import create_user
    from extractor.review.corrections import decide
    from extractor.review.queue import next_item
    from extractor.settings import DbSettings
    from extractor.storage import (Batch, BatchDocument, CheckRow, Document, FieldRow, ReviewItem, UserRole,
                                   make_engine, make_sessionmaker)

    try:
        from extractor.review.corrections import Action
    except ImportError:  # an older checkout: confirm and correct only
        Action = None  # noqa: N806
    if Action is None and policy == "identities":
        policy = "cells"
    try:
        from extractor.storage.review_view import view_checks, view_fields, view_meta
    except ImportError:  # an older checkout: one set of fields per document, shared by its batches
        view_checks = view_fields = view_meta = None
    engine = make_engine(DbSettings(url=db_url))
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        batch = session.scalars(select(Batch).where(Batch.name == batch_name)).one()
        user = create_user(session, "bench-reviewer@example.org", "bench password 1", UserRole.ADMIN)
        truths = {}
        for link in session.scalars(select(BatchDocument).where(BatchDocument.batch_id == batch.id)):
            path = truth_dir / f"{link.item_id}.truth.json"
            if path.exists():
                truths[link.document_id] = json.loads(path.read_text(encoding="utf-8"))
        printed = {d: {f: v.get("value") for f, v in t["fields"].items()} for d, t in truths.items()}

        def fields_of(doc_id: int) -> list:
            # The batch's values: its reviewed copy once it has one.
            if view_fields is not None:
                return view_fields(session, doc_id, batch.id)
            return list(session.scalars(select(FieldRow).where(FieldRow.document_id == doc_id)))

        def meta_of(document) -> dict:
            if view_meta is not None:
                return dict(zip(("agency", "year", "published"), view_meta(session, document, batch.id)))
            return {k: getattr(document, k) for k in ("agency", "year", "published")}

        def checks_of(doc_id: int) -> list:
            if view_checks is not None:
                return view_checks(session, doc_id, batch.id)
            return list(session.scalars(select(CheckRow).where(CheckRow.document_id == doc_id)))

        def wrong_now() -> set[tuple[int, str]]:
            rows = [r for doc_id in truths for r in fields_of(doc_id)]
            wrong = {(r.document_id, r.field_id) for r in rows
                     if r.field_id in printed[r.document_id] and not _same(r.value, printed[r.document_id][r.field_id])}
            for doc_id, t in truths.items():
                meta = meta_of(session.get(Document, doc_id, populate_existing=True))
                for key in ("agency", "year", "published"):
                    if key in t.get("meta", {}) and str(t["meta"][key] or "") != str(meta[key] or ""):
                        wrong.add((doc_id, f"meta.{key}"))
            return wrong

        wrong_start = wrong_now()
        next_item(session, user, batch.id, 3600)  # syncs the queue
        session.commit()
        queued = session.scalar(select(func.count()).select_from(ReviewItem).where(
            ReviewItem.batch_id == batch.id, ReviewItem.state == "pending"))
        decisions = accepted = 0
        while decisions < _MAX_DECISIONS:
            item = next_item(session, user, batch.id, 3600)
            if item is None:
                break
            decisions += 1
            truth = printed.get(item.document_id, {})
            kind = getattr(item, "kind", "field")
            document = session.get(Document, item.document_id)
            values = {r.field_id: r.value for r in fields_of(item.document_id)}
            if kind == "meta":
                key = item.field_id.split(".", 1)[1]
                want = truths[item.document_id]["meta"].get(key) if item.document_id in truths else None
                have = meta_of(document)[key]
                decide(session, user, item, None, "bench", text=None if want in (None, have) else str(want))
            elif kind == "identity":
                name = item.field_id.split(":", 1)[1]
                cells = next((c.fields for c in checks_of(item.document_id) if c.identity == name), None) or []
                bad = [f for f in cells if f in truth and not _same(values.get(f), truth[f])]
                if bad:
                    decide(session, user, item, float(truth[bad[0]]), "bench", field_id=bad[0])
                else:
                    decide(session, user, item, None, "bench", action=Action.AS_PRINTED)
                    accepted += 1
            else:
                want = truth.get(item.field_id)
                if want is not None and not _same(values.get(item.field_id), want):
                    decide(session, user, item, float(want), "bench")
                elif policy == "identities" and _broken_in_print(checks_of(item.document_id), item, values, truth):
                    decide(session, user, item, None, "bench", action=Action.AS_PRINTED)
                    accepted += 1
                else:
                    decide(session, user, item, None, "bench")
            session.commit()
        ever = session.scalar(select(func.count()).select_from(ReviewItem).where(ReviewItem.batch_id == batch.id))
        left = wrong_now()
        result = BenchResult(batch=batch_name, policy=policy, documents=len(truths), wrong_values=len(wrong_start),
                             wrong_meta=sum(1 for _, f in wrong_start if f.startswith("meta.")),
                             queued_at_start=queued, decisions=decisions, items_ever=ever,
                             wrong_left=len(left), identities_accepted=accepted)
    engine.dispose()
    return result


def _broken_in_print(checks: list, item, values: dict, truth: dict) -> bool:
    """The item's field is in a broken identity whose every cell is as printed (the report does not add up)."""
    mine = [c for c in checks if not c.ok and not c.identity.startswith("narrative.") and item.field_id in c.fields]
    return bool(mine) and all(f in truth and _same(values.get(f), truth[f]) for c in mine for f in c.fields)


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) < 1e-6


def run(db_url: str, batch: str, truth: Path, policies: list[str]) -> list[BenchResult]:
    """Simulate each policy on its own copy of the SQLite store at `db_url`."""
    source = Path(db_url.removeprefix("sqlite:///"))
    if not db_url.startswith("sqlite:///") or not source.exists():
        raise ValueError(f"{db_url}: give the sqlite:/// URL of an existing store (it is copied, never changed)")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for policy in policies:
            copy = Path(tmp) / f"{policy}.db"
            shutil.copyfile(source, copy)
            _migrate(f"sqlite:///{copy}")
            results.append(simulate(f"sqlite:///{copy}", batch, truth, policy))
    return results


def _migrate(url: str) -> None:
    from extractor.storage import upgrade_database

    upgrade_database(url)


def table(results: list[BenchResult]) -> str:
    """The results as a Markdown table."""
    lines = ["| batch | policy | documents | wrong values (of which metadata) | queued at start | decisions | "
             "items ever queued | decisions per wrong value | wrong left | identities accepted |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        per = f"{r.per_wrong:.1f}" if r.per_wrong is not None else "–"
        lines.append(f"| {r.batch} | {r.policy} | {r.documents} | {r.wrong_values} ({r.wrong_meta}) | {r.queued_at_start} | "
                     f"{r.decisions} | {r.items_ever} | {per} | {r.wrong_left} | {r.identities_accepted} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="sqlite:/// URL of the store `nianbao extract` recorded into")
    parser.add_argument("--batch", required=True, help="batch name")
    parser.add_argument("--truth", required=True, type=Path, help="folder of <id>.truth.json")
    parser.add_argument("--policy", action="append", choices=["cells", "identities"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = run(args.db, args.batch, args.truth, args.policy or ["cells", "identities"])
    print(json.dumps([asdict(r) for r in results], indent=1) if args.json else table(results))


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(main())
