"""Reviewer decisions (``nianbao export-corrections``) as labelled training documents.

A decision says: on page ``page`` of a stored report, the cell at ``bbox`` holds field ``field``
(the reviewer saw that cell outlined, with its row and column labels, and confirmed or corrected
its value). That fixes the roles of three cells of the grid the pipeline sees, and only those:

- the cell itself is ``value``;
- the row label to its left is ``row:<row id>`` (sections 二 and 三);
- the header above it is ``col:<col id>``, and in section 四 the group header above that is
  ``col:<group id>`` (``review``, ``suit_direct``, ``suit_after_review``),

which is what :func:`extractor.stages.classify.decode.read_fields` turns back into the field.
Every other cell is :data:`models.data.UNLABELLED` and left out of the loss: an unreviewed cell
may be wrong, and guessing its role would teach the model the pipeline's own mistakes.

The bbox is where the *machine* placed the field. A correction of a misplaced field has the
right value in the wrong cell, so a decision is used only when the printed labels beside its
cell name its field (the row label and header match the field's labels better than any other
row or column of the section); the others are counted as ``labels_not_found``.

Steps (:func:`load_corrected_documents`):
    1. Read the JSONL files; keep the ``latest`` decision of each document and field.
    2. Open each document's file (``document.file``), check its SHA-256, run every page through
       :meth:`Pipeline.understand_page` (cached like the synthetic training data) and join its tables.
    3. Label the cells of every decision (:func:`label_tables`), scaling ``bbox`` from the
       decision's dpi to the page record's.
    4. Count every decision by outcome, so none is dropped silently.
    5. On scanned pages, check how the shipped OCR reads the reviewed cells (:class:`RecognitionCheck`):
       a recognition test set; the OCR models themselves are not trained here.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path

from pydantic import BaseModel, ValidationError

from extractor.datamodel import BBox, Cell, PageRecord, Table, TokenSource
from extractor.pipeline import Pipeline
from extractor.stages.assemble.grid_view import GridView
from extractor.stages.assemble.matching import similarity
from extractor.stages.assemble.text import label_key
from extractor.stages.assemble.values import parse_value
from extractor.stages.classify.labels import COL, ROW, VALUE
from extractor.stages.rasterise import DocumentError
from extractor.templates import FieldDef, Template, ValueType, get_template
from models.data import MIN_IOU, UNLABELLED, LabelledDocument, join_tables, understand

_log = logging.getLogger(__name__)

# A printed row label must match its field's row at least this well (the rule matcher's threshold).
ROW_MATCH = 0.55
# A printed header must match its field's column at least this well. Lower than the rule
# matcher's 0.8: the reviewed cell already fixes the position, the header only has to confirm it
# against OCR misreads and printed variants (本年收费金额 / 收费金额（万元）).
COL_MATCH = 0.6
# Misread cells listed in the manifest's recognition check (the rest are only counted).
_MISREAD_SHOWN = 20
# Printed zero marks that are values, not labels ("/" and dashes vanish in label_key already).
_ZERO_MARKS = frozenset({"无"})


class CorrectionsError(Exception):
    """A corrections file that cannot be used at all (unreadable, or no decision usable)."""


class Outcome(str, Enum):
    """What became of one ``latest`` decision."""

    USED = "used"  # its cells were labelled
    NO_LOCATION = "no_location"  # page or bbox is null: the field was never located
    UNKNOWN_FIELD = "unknown_field"  # no template, or the field is not in it
    DOCUMENT_MISSING = "document_missing"  # document.file is null or not on disk
    DOCUMENT_CHANGED = "document_changed"  # the file's SHA-256 is not the reviewed document's
    DOCUMENT_UNREADABLE = "document_unreadable"  # the file is there but cannot be rendered
    CELL_NOT_FOUND = "cell_not_found"  # no grid cell on that page overlaps bbox by MIN_IOU
    LABELS_NOT_FOUND = "labels_not_found"  # the row label or header beside the cell does not name the field


class StoredDocument(BaseModel):
    """The ``document`` object of a decision line."""

    id: int | str | None = None
    sha256: str | None = None
    file: str | None = None  # path in the content store when exported with one; None otherwise
    source: str | None = None  # the name the document was submitted under


class Decision(BaseModel):
    """One line of an ``export-corrections`` file (the keys training uses; format in extractor.review.training)."""

    document: StoredDocument
    template: str | None = None
    field: str
    page: int | None = None  # 0-based; None when the field was never located
    bbox: list[float] | None = None  # [x1, y1, x2, y2] in page pixels at `dpi`, top-left origin
    dpi: float | None = None  # resolution of `bbox`; None: the pipeline's own
    old: float | None = None
    new: float | None = None
    kind: str = "confirm"
    cell_text: str | None = None
    status: str | None = None  # the field's status before the decision (derived: computed, not read)
    latest: bool = True


@dataclass
class RecognitionCheck:
    """How the current OCR reads the reviewed value cells of scanned pages (no model is trained on it).

    The page records are read by the OCR models the pipeline ships, so a reviewed cell whose text
    does not parse to the reviewer's value is one they still misread.
    """

    cells: int = 0  # used decisions on OCR-read pages (fields computed rather than read are left out)
    right: int = 0  # of those, cells whose OCR text parses to the reviewer's value
    misread: list[dict] = field(default_factory=list)  # the first few: field, text read, value

    def add(self, decision: Decision, text: str, definition: FieldDef) -> None:
        value = parse_value(text, definition.value_type).value
        self.cells += 1
        if value is not None and abs(float(value) - float(decision.new)) < 1e-9:
            self.right += 1
        elif len(self.misread) < _MISREAD_SHOWN:
            self.misread.append({"field": decision.field, "read": text, "value": decision.new})


@dataclass
class CorrectionsUsage:
    """What the corrections files contributed to a training run (recorded in the manifest)."""

    files: list[dict] = field(default_factory=list)  # per file: path, sha256, lines, latest decisions
    decisions: int = 0  # latest decisions read, over all files
    used: int = 0  # decisions whose cells were labelled
    documents: int = 0  # documents with at least one used decision
    labelled_cells: int = 0  # cells given a label (value, row, column, group)
    conflicting_cells: int = 0  # cells two decisions labelled differently (left out of the loss)
    repeat: int = 1  # times each corrected document is put in the training set
    outcomes: dict[str, int] = field(default_factory=dict)  # Outcome value → decisions
    missing_documents: list[str] = field(default_factory=list)  # files that were not found (first 20)
    recognition: RecognitionCheck = field(default_factory=RecognitionCheck)  # OCR on the reviewed cells

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LabelledCells:
    """The labels one decision gives, as (table index, cell index) → label."""

    labels: dict[tuple[int, int], str]  # empty when the decision could not be used
    outcome: Outcome


def read_decisions(path: Path) -> list[Decision]:
    """The ``latest`` decisions of one corrections file, in file order.

    Raises:
        CorrectionsError: the file is missing or a line is not a decision.
    """
    if not Path(path).is_file():
        raise CorrectionsError(f"corrections file {path} not found; write it with `nianbao export-corrections --out FILE`")
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            decision = Decision.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise CorrectionsError(f"{path}:{n} is not a decision line of `nianbao export-corrections`: {exc}") from exc
        if decision.latest:
            out.append(decision)
    return out


def label_tables(tables: list[Table], decisions: Sequence[Decision], template: Template,
                 page_dpi: Mapping[int, float]) -> tuple[list[list[str]], list[Outcome], int]:
    """Cell labels of one document's tables from its reviewer decisions.

    Args:
        tables: the document's tables joined across pages (:func:`models.data.join_tables`).
        decisions: the document's latest decisions.
        template: the document's template.
        page_dpi: 0-based page → dpi of its page record (the frame of the cells' boxes).

    Returns:
        Per table, per cell its label (:data:`~models.data.UNLABELLED` unless a decision fixes
        it); the outcome of each decision; the number of cells two decisions disagreed on
        (those are left unlabelled).
    """
    given: dict[tuple[int, int], set[str]] = defaultdict(set)
    outcomes = []
    for decision in decisions:
        result = _label_decision(tables, decision, template, page_dpi)
        outcomes.append(result.outcome)
        for key, label in result.labels.items():
            given[key].add(label)
    labels = [[UNLABELLED] * len(t.cells) for t in tables]
    conflicts = 0
    for (t, c), options in given.items():
        if len(options) == 1:
            labels[t][c] = next(iter(options))
        else:
            conflicts += 1
    return labels, outcomes, conflicts


def load_corrected_documents(paths: Sequence[Path], pipeline: Pipeline,
                             cache_dir: Path) -> tuple[list[LabelledDocument], CorrectionsUsage]:
    """Labelled training documents from corrections files, and what was used (see the module doc).

    Args:
        paths: ``export-corrections`` JSONL files.
        pipeline: the page-understanding path (the one the synthetic training data goes through).
        cache_dir: where page records are cached, one folder per document hash.

    Raises:
        CorrectionsError: a file cannot be read, or not one decision could be used.
    """
    usage = CorrectionsUsage()
    by_document: dict[str, list[Decision]] = defaultdict(list)
    for path in paths:
        decisions = read_decisions(path)
        raw = Path(path).read_bytes()
        usage.files.append({"path": str(path), "sha256": hashlib.sha256(raw).hexdigest(),
                            "lines": sum(1 for line in raw.decode("utf-8").splitlines() if line.strip()),
                            "latest": len(decisions)})
        for d in decisions:
            by_document[d.document.sha256 or d.document.file or str(d.document.id)].append(d)
    outcomes: Counter[str] = Counter()
    docs: list[LabelledDocument] = []
    for key, decisions in by_document.items():
        usage.decisions += len(decisions)
        doc, doc_outcomes, conflicts = _document(decisions, pipeline, cache_dir, usage)
        outcomes.update(o.value for o in doc_outcomes)
        usage.conflicting_cells += conflicts
        if doc is not None:
            docs.append(doc)
            usage.labelled_cells += sum(label != UNLABELLED for labels in doc.labels for label in labels)
    usage.outcomes = dict(sorted(outcomes.items()))
    usage.used = outcomes[Outcome.USED.value]
    usage.documents = len(docs)
    if usage.decisions and not usage.used:
        raise CorrectionsError(
            f"none of the {usage.decisions} latest decisions in {', '.join(map(str, paths))} could be used "
            f"({usage.outcomes}); documents not found: {usage.missing_documents[:5]}. Export with the content store "
            "mounted where `nianbao export-corrections` ran (document.file), and run training from that folder."
        )
    for outcome, count in usage.outcomes.items():
        if outcome != Outcome.USED.value:
            _log.warning("%d reviewer decisions not used: %s", count, outcome)
    return docs, usage


def _document(decisions: list[Decision], pipeline: Pipeline, cache_dir: Path,
              usage: CorrectionsUsage) -> tuple[LabelledDocument | None, list[Outcome], int]:
    """One document's labelled tables, or None with the reason for each of its decisions."""
    stored = decisions[0].document
    located = [d for d in decisions if d.page is not None and d.bbox is not None]
    outcomes = [Outcome.NO_LOCATION] * (len(decisions) - len(located))
    if not located:
        return None, outcomes, 0
    path = Path(stored.file) if stored.file else None
    if path is None or not path.is_file():
        if len(usage.missing_documents) < 20:
            usage.missing_documents.append(stored.file or f"document {stored.id} ({stored.source}): no file recorded")
        return None, outcomes + [Outcome.DOCUMENT_MISSING] * len(located), 0
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    if stored.sha256 and sha != stored.sha256:
        return None, outcomes + [Outcome.DOCUMENT_CHANGED] * len(located), 0
    template_id = next((d.template for d in located if d.template), None)
    if template_id is None:
        return None, outcomes + [Outcome.UNKNOWN_FIELD] * len(located), 0
    try:
        pages = understand(path, pipeline, cache_dir / sha[:16])
    except DocumentError as exc:
        _log.warning("corrections: %s cannot be read: %s", path, exc)
        return None, outcomes + [Outcome.DOCUMENT_UNREADABLE] * len(located), 0
    tables = join_tables(pages)
    template = get_template(template_id)
    page_dpi = {p.index: p.dpi for p in pages}
    labels, found, conflicts = label_tables(tables, located, template, page_dpi)
    outcomes += found
    _check_recognition(located, found, tables, pages, template, usage.recognition)
    if Outcome.USED not in found:
        return None, outcomes, conflicts
    doc_id = f"corrections-{stored.id if stored.id is not None else sha[:12]}"
    return LabelledDocument(doc_id=doc_id, truth=None, pages=pages, tables=tables, labels=labels), outcomes, conflicts


def _check_recognition(decisions: list[Decision], outcomes: list[Outcome], tables: list[Table],
                       pages: list[PageRecord], template: Template, check: RecognitionCheck) -> None:
    """Add the used decisions on OCR-read pages to the recognition check."""
    ocr_pages = {p.index for p in pages if any(t.source == TokenSource.OCR for t in p.tokens or [])}
    page_dpi = {p.index: p.dpi for p in pages}
    for decision, outcome in zip(decisions, outcomes):
        definition = template.fields[decision.field]
        # Left out: computed fields (a blank 总计 holds no printed number) and amounts, which may
        # be printed in 元 and converted by the header (the cell alone does not say).
        if (outcome is Outcome.USED and decision.page in ocr_pages and decision.new is not None
                and decision.status != "derived" and definition.value_type is not ValueType.DECIMAL):
            found = _cell_at(tables, decision.page, _box(decision, page_dpi))
            if found is not None:
                check.add(decision, found[1].text, definition)


def _box(decision: Decision, page_dpi: Mapping[int, float]) -> BBox:
    """The decision's bbox in the frame of its page record (scaled from the decision's dpi)."""
    scale = page_dpi[decision.page] / decision.dpi if decision.dpi else 1.0
    return BBox.from_list([v * scale for v in decision.bbox])


def _label_decision(tables: list[Table], decision: Decision, template: Template,
                    page_dpi: Mapping[int, float]) -> LabelledCells:
    definition = template.fields.get(decision.field)
    if definition is None:
        return LabelledCells({}, Outcome.UNKNOWN_FIELD)
    if decision.page not in page_dpi:
        return LabelledCells({}, Outcome.CELL_NOT_FOUND)
    found = _cell_at(tables, decision.page, _box(decision, page_dpi))
    if found is None:
        return LabelledCells({}, Outcome.CELL_NOT_FOUND)
    t, cell = found
    table = tables[t]
    view = GridView(table)
    index = {id(c): i for i, c in enumerate(table.cells)}
    labels = {(t, index[id(cell)]): VALUE}
    header = _header_above(view, cell, cell.row, definition.col_label, _col_labels(template, definition.section))
    if header is None:
        return LabelledCells({}, Outcome.LABELS_NOT_FOUND)
    labels[(t, index[id(header)])] = COL + definition.col
    if definition.section == "appeal":
        # Section 四 has no row labels: the field's part (复议 / 直接起诉 / 复议后起诉) is the
        # group header above the column header.
        groups = {f.row: f.row_label.split(" ")[-1] for f in template.section_fields("appeal")}
        group = _header_above(view, cell, header.row, groups[definition.row], groups)
        if group is None:
            return LabelledCells({}, Outcome.LABELS_NOT_FOUND)
        labels[(t, index[id(group)])] = COL + definition.row
    else:
        row = _row_label_left(view, cell, definition, template)
        if row is None:
            return LabelledCells({}, Outcome.LABELS_NOT_FOUND)
        labels[(t, index[id(row)])] = ROW + definition.row
    return LabelledCells(labels, Outcome.USED)


def _cell_at(tables: list[Table], page: int, box: BBox) -> tuple[int, Cell] | None:
    """(table index, cell) of the grid cell on `page` overlapping `box` best, by at least MIN_IOU."""
    best, best_iou = None, MIN_IOU
    for t, table in enumerate(tables):
        for cell in table.cells:
            if cell.page == page:
                iou = cell.bbox.iou(box)
                if iou >= best_iou:
                    best, best_iou = (t, cell), iou
    return best


def _is_label(cell: Cell) -> bool:
    """Whether a cell is printed words (a label), not a value: a number, a blank or a zero mark.

    Item numbering is not a number here (1.属于国家秘密 is a label), which is why this is not the
    rule matcher's value test: the matcher knows where the value columns start, this does not.
    """
    key = label_key(cell.text)
    return any(not ch.isdigit() for ch in key) and key not in _ZERO_MARKS


def _header_above(view: GridView, cell: Cell, below_row: int, official: str,
                  candidates: Mapping[str, str] | list[str]) -> Cell | None:
    """The nearest label cell above `below_row` in `cell`'s left column, if it names `official`.

    Value cells and blanks in between are skipped (other rows of values); the first label met
    must match `official` at least :data:`COL_MATCH` and no worse than any other candidate label.
    """
    labels = list(candidates.values()) if isinstance(candidates, Mapping) else list(candidates)
    seen = {id(cell)}
    for r in range(below_row - 1, -1, -1):
        other = view.at(r, cell.col)
        if other is None or id(other) in seen:
            continue
        seen.add(id(other))
        if _is_label(other):
            return other if _names(other.text, official, labels, COL_MATCH) else None
    return None


def _row_label_left(view: GridView, cell: Cell, definition: FieldDef, template: Template) -> Cell | None:
    """The nearest label cell left of `cell` on its top row, if the row's labels name the field's row.

    Items of a group are printed as a group cell and an item cell (（三）不予公开 | 1.属于国家秘密):
    the nearest one is compared with the item, all of them together with the full label. A row
    printed with only its group's name (a single-row （六）其他处理) names none of the items.
    """
    found: list[Cell] = []
    for c in range(cell.col - 1, -1, -1):
        other = view.at(cell.row, c)
        if other is not None and other is not cell and all(other is not f for f in found) and _is_label(other):
            found.append(other)
    if not found:
        return None
    specific, full = found[0].text, " ".join(c.text for c in reversed(found))
    official = {f.row: f.row_label for f in template.section_fields(definition.section)}
    groups = {label_key(o.split(" ")[0]) for o in official.values() if " " in o}

    def score(label: str) -> float:
        if " " in label and label_key(specific) in groups:
            return 0.0
        return max(similarity(specific, label.split(" ")[-1]), similarity(full, label))

    scores = {row: score(label) for row, label in official.items()}
    own = scores[definition.row]
    return found[0] if own >= ROW_MATCH and own >= max(scores.values()) else None


def _col_labels(template: Template, section: str) -> list[str]:
    return list({f.col_label for f in template.section_fields(section)})


def _names(text: str, official: str, labels: list[str], threshold: float) -> bool:
    """Whether `text` matches `official` by `threshold` and no other label better."""
    own = similarity(text, official)
    return own >= threshold and own >= max(similarity(text, label) for label in labels)
