"""Validate: identities, repair suggestions, prose cross-checks, ranges and review flags.

A field is flagged (sent to the review queue) when any of these holds (DESIGN.md, "Confidence
and review"):

- its confidence is below ``review_threshold`` (chosen with ``nianbao calibrate``);
- it takes part in a broken accounting identity (or, when one cell alone explains the broken
  identities, it is that cell: it gets a ``suggestion``);
- the prose states a different number for it;
- its value has the wrong type or an absurd size;
- its value could not be read, or the reader left a note (structure repaired, cell inferred);
- it is a total derived from its parts and one of the parts is flagged;
- every identity it takes part in misses another value, so none could check it;
- it was judged blank from its crop's lack of ink and no identity checks it.

Doubts about a field's reading or place that an identity answers are lifted where an identity
holding over values read without doubt confirms it (`confirm.release_confirmed`).

Confidence is the text recognition score times a label confidence: 1.0 for a row/column label
that matched its template label closely (similarity at least `LABEL_SURE`), the similarity
itself below that. A monotone recalibration of that score would not change which fields fall
below a threshold, so the threshold is chosen on the raw score's trade-off curve directly.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from extractor.datamodel import CheckResult, FieldStatus, FieldValue, PageRecord
from extractor.stages.assemble import FieldReading
from extractor.stages.assemble.readings import ANCHORED_PLACE, MATCHER_DISAGREES, ROW_PLACED_BY_POSITION
from extractor.stages.cells.base import BLANK_BY_INK
from extractor.stages.validate.confirm import release_confirmed
from extractor.stages.validate.identities import check_identities, derive_blank_totals, field_values
from extractor.stages.validate.flags import flag
from extractor.stages.validate.flags import format_number as _fmt
from extractor.stages.validate.joint import IDENTITY_CHOSEN, READINGS_DISAGREE, choose_readings
from extractor.stages.validate.narrative import ProseClaim, find_claims, prose_text
from extractor.stages.validate.ranges import range_problems
from extractor.stages.validate.repair import Repair, describe_misread, suggest_repairs
from extractor.templates import Template, ValueType

__all__ = [
    "BROKEN_IDENTITY",
    "HOW_READ",
    "LOW_CONFIDENCE",
    "NARRATIVE_PREFIX",
    "PROSE_CONFIRMED",
    "ProseClaim",
    "ValidateOptions",
    "ValidateStage",
    "check_identities",
    "check_prose",
    "flag",
    "prose_claims",
    "prose_disagreement",
]

_log = logging.getLogger(__name__)

# Label similarity from which a matched row or column is taken as certain.
LABEL_SURE = 0.8
# Start of the reason given for a low-confidence flag (``nianbao calibrate`` recognises it).
LOW_CONFIDENCE = "low confidence"
# Start of the reason given to every field of a broken identity.
BROKEN_IDENTITY = "in broken identity"
# Reason given when the prose states the same number as a low-confidence reading.
PROSE_CONFIRMED = "low-confidence reading confirmed by the prose"
# Check name prefix of prose statements (``narrative.<field id>``), kept apart from identities.
NARRATIVE_PREFIX = "narrative."
# Relative tolerance when comparing a stated 万元 amount (prose rounds differently from tables).
_AMOUNT_REL_TOLERANCE = 1e-3


# Start of the note on a flagged field saying how its cell was read (`Cell.evidence`).
HOW_READ = "how read:"
# Reason given for a template field that no table cell gave.
NOT_FOUND = "not found in the report's tables"
# Another field of the same template row was not found: the row's cells may be shifted.
ROW_INCOMPLETE = "another field of this row was not found: its cells may be shifted"
# One printed cell read for several fields: a lost rule merged cells.
SHARED_CELL = "one printed cell gives this field and another"
# Reason of a value that takes part in identities none of which could be checked.
UNCHECKED = "no identity over this value could be checked (another value in each is unread)"
# Reason of a cell judged blank that nothing checks.
UNCHECKED_BLANK = "judged blank from its ink, and no identity checks it"
# Reason of a derived total one of whose parts is flagged.
DERIVED_FROM_FLAGGED = "derived from flagged parts:"


# Doubts that an identity holding over the field answers (`confirm.release_confirmed`): about its
# reading (the identity checks the digits; notes that flag nothing on their own are among them)...
_READING_DOUBTS = (LOW_CONFIDENCE, READINGS_DISAGREE, IDENTITY_CHOSEN, PROSE_CONFIRMED)
# ... or about its place (a value in another row or column breaks an identity over other rows).
_PLACE_DOUBTS = (ROW_INCOMPLETE, ROW_PLACED_BY_POSITION, MATCHER_DISAGREES, ANCHORED_PLACE)


class ValidateOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    review_threshold: float = Field(
        0.8,
        description="fields with confidence below this are flagged; chosen with `nianbao calibrate` on held-out "
        "generated scans (README: same recall of wrong fields as 0.9, a quarter of the flags)",
    )
    decision_margin: float = Field(
        2.0,
        description="a scanned value cell's reading, chosen jointly with the identities, is accepted without "
        "review only when every other value of it makes the document at least this much less probable (nats; "
        "README: the calibration table)",
    )
    broken_identity_cost: float = Field(
        8.0,
        description="λ: how improbable (nats) a broken identity is taken to be when readings are chosen jointly; "
        "a reading up to this much less probable than the most probable one is chosen when it alone makes the "
        "identities hold",
    )
    unchecked_margin: float = Field(
        5.0,
        description="the decision margin of a value in no identity (section 二's): its reading is the only "
        "evidence of it, so it needs a clearer win (development sets: misreads of such values won by 2.1-2.8; "
        "on Augraphy's typical scans of seed 125001 a lost minus sign and a '7' read '1' by 4.0-4.5, while 294 of "
        "the 309 right values accepted won by the cap, 6)",
    )
    prose_weight: float = Field(
        3.0,
        description="nats by which a scanned value cell's reading that the report's prose states is made likelier "
        "when readings are chosen jointly (the prose is read apart, so it is a second reading of the number)",
    )
    release_confirmed: bool = Field(
        True,
        description="accept a flagged field whose doubts are about its reading or its place when an identity "
        "that holds over values all read from the report confirms it (`confirm.release_confirmed`)",
    )
    flag_explained_identity: bool = Field(
        False,
        description="flag every field of a broken identity even when one cell alone explains it "
        "(False: only that cell is flagged, with its suggestion; the others get a note)",
    )


class ValidateStage:
    def __init__(self, options: ValidateOptions | None = None) -> None:
        self.options = options or ValidateOptions()

    def predict(
        self, template: Template, readings: list[FieldReading], pages: list[PageRecord] | None = None
    ) -> tuple[dict[str, FieldValue], list[CheckResult]]:
        """Field values with statuses, the identity checks and the prose checks.

        Steps:
            1. One value per field (the best-matched reading when a field was read twice);
               unreadable or low-confidence fields are flagged. Value cells read over the value
               alphabet take the readings chosen jointly with the identities
               (:func:`joint.choose_readings`), flagged unless they win by the decision margin.
            2. A blank printed total whose parts are known and not all zero is derived
               as their sum (status ``derived``), never silently set to 0.
            3. Type and range problems flag their field.
            4. Every identity is checked; broken ones flag their fields, or only the one cell
               that explains them, which gets the implied value as its suggestion.
            5. Numbers stated in the prose of `pages` are compared with the table: a
               disagreement flags the field, an agreement confirms a low-confidence reading.
            6. A template field that no table cell gave is added as null and flagged, so a
               person sees it rather than a silent gap.

        Args:
            template: the report's template.
            readings: what the assembler read.
            pages: the page records, for the prose; None skips the prose cross-check.
        """
        best = self._best_readings(readings)
        options = {fid: r.options for fid, r in best.items() if r.options and r.value is not None and not r.derived}
        fields = self._fields(best, set(options))
        claims = prose_claims(fields, pages) if pages else []
        stated: dict[str, set[int | float]] = defaultdict(set)
        for claim in claims:
            stated[claim.field_id].add(claim.stated)
        choose_readings(
            template,
            fields,
            options,
            {fid: _label_confidence(r) for fid, r in best.items()},
            self.options.decision_margin,
            self.options.broken_identity_cost,
            stated,
            self.options.prose_weight,
            self.options.unchecked_margin,
            {fid: r.whole_value for fid, r in best.items()},
        )
        flag_shared_cells(fields)
        derive_blank_totals(template, fields)
        for fid, problem in range_problems(template, fields).items():
            flag(fields[fid], problem)
        checks = check_identities(template, field_values(fields))
        self._flag_identities(template, fields, checks)
        if pages:
            checks += check_prose(template, fields, claims)
        for fid in template.fields:
            if fid not in fields:
                fields[fid] = FieldValue(
                    value=None, raw=None, confidence=0.0, status=FieldStatus.FLAGGED, reasons=[NOT_FOUND]
                )
        flag_rows_with_missing_cells(fields)
        flag_unchecked(template, fields, checks)
        flag_unchecked_blanks(template, fields, best)
        if self.options.release_confirmed:
            release_confirmed(fields, checks, _READING_DOUBTS, _PLACE_DOUBTS, BROKEN_IDENTITY, NARRATIVE_PREFIX)
        flag_totals_over_flagged_parts(template, fields)
        for fid, field in fields.items():
            if field.status is FieldStatus.FLAGGED and fid in best and best[fid].evidence:
                # How the cell was read tells the reviewer what to look at.
                field.reasons.append(f"{HOW_READ} {'; '.join(best[fid].evidence)}")
        return fields, checks

    @staticmethod
    def _best_readings(readings: list[FieldReading]) -> dict[str, FieldReading]:
        """One reading per field: the best-matched where a field was read twice."""
        best: dict[str, FieldReading] = {}
        for reading in readings:
            if reading.field_id not in best or reading.match_score > best[reading.field_id].match_score:
                best[reading.field_id] = reading
        return best

    def _fields(self, best: dict[str, FieldReading], jointly: set[str]) -> dict[str, FieldValue]:
        """The fields as read; those in `jointly` get their confidence from the joint decoding."""
        fields: dict[str, FieldValue] = {}
        for fid, r in best.items():
            confidence = round(r.text_score * _label_confidence(r), 4)
            reasons = list(r.notes)
            status = FieldStatus.DERIVED if r.derived else FieldStatus.AUTO
            if r.value is None:
                status = FieldStatus.FLAGGED
                reasons.append("value could not be read")
            elif confidence < self.options.review_threshold:
                status = FieldStatus.FLAGGED
                reasons.append(f"{LOW_CONFIDENCE} {confidence:.2f}")
            elif r.notes and not r.derived:
                status = FieldStatus.FLAGGED
            fields[fid] = FieldValue(
                value=r.value,
                raw=r.raw,
                confidence=confidence,
                status=status,
                page=r.page,
                bbox=r.bbox.as_list() if r.bbox else None,
                reasons=reasons,
            )
        return fields

    def _flag_identities(self, template: Template, fields: dict[str, FieldValue], checks: list[CheckResult]) -> None:
        broken = [c for c in checks if not c.ok]
        if not broken:
            return
        explained: dict[str, Repair] = {}
        for repair in suggest_repairs(template, field_values(fields)):
            cell = fields[repair.field_id]
            cell.suggestion = repair.implied
            flag(cell, f"suggested {_fmt(repair.implied)} (printed {cell.raw or _fmt(repair.printed)}): the only "
                       f"single cell that restores {', '.join(repair.identities)}; "
                       f"{describe_misread(repair.printed, repair.implied)}")
            explained.update({name: repair for name in repair.identities})
        for check in broken:
            repair = explained.get(check.identity)
            for fid in check.fields:
                reason = f"{BROKEN_IDENTITY} {check.identity}"
                if repair is not None and not self.options.flag_explained_identity:
                    if fid != repair.field_id:
                        fields[fid].reasons.append(f"{reason} (explained by {repair.field_id})")
                    continue
                flag(fields[fid], reason)


def _label_confidence(reading: FieldReading) -> float:
    """1.0 for row and column labels that matched their template labels closely, else the similarity."""
    return 1.0 if reading.match_score >= LABEL_SURE else reading.match_score


def prose_claims(fields: Mapping[str, FieldValue], pages: list[PageRecord]) -> list[ProseClaim]:
    """The numbers the prose of `pages` states for the fields that were read.

    Fields added only because no table cell gave them (``NOT_FOUND``) are left out, as in the
    stage, so that a store keeping these claims re-checks exactly what the stage checked.
    """
    read = frozenset(fid for fid, f in fields.items() if NOT_FOUND not in f.reasons)
    text = "".join(prose_text(p) for p in sorted(pages, key=lambda p: p.index))
    return find_claims(text, read)


def check_prose(template: Template, fields: dict[str, FieldValue], claims: list[ProseClaim]) -> list[CheckResult]:
    """Compare stated numbers with the table: one ``narrative.<field id>`` check per statement.

    A disagreement flags the field (a reviewed one keeps its status, see :func:`flag`); an
    agreement confirms a reading flagged only for low confidence. Run by the stage, and again
    by the review loop after a person changed a value.
    """
    checks: list[CheckResult] = []
    seen: set[tuple[str, float]] = set()
    for claim in claims:
        field = fields.get(claim.field_id)
        if field is None or field.value is None or (claim.field_id, float(claim.stated)) in seen:
            continue
        seen.add((claim.field_id, float(claim.stated)))
        ok = _agrees(template, claim, field.value)
        checks.append(
            CheckResult(
                identity=f"{NARRATIVE_PREFIX}{claim.field_id}",
                ok=ok,
                fields=[claim.field_id],
                detail=f"prose «{claim.clause}» states {_fmt(claim.stated)}; table {_fmt(field.value)}",
            )
        )
        if not ok:
            flag(field, prose_disagreement(claim))
        elif field.status is FieldStatus.FLAGGED and all(r.startswith(LOW_CONFIDENCE) for r in field.reasons):
            field.status = FieldStatus.AUTO
            field.reasons.append(PROSE_CONFIRMED)
    return checks


def prose_disagreement(claim: ProseClaim) -> str:
    """The reason given to a field whose value the prose contradicts."""
    return f"prose states {_fmt(claim.stated)}: «{claim.clause}»"


def flag_shared_cells(fields: Mapping[str, FieldValue]) -> None:
    """Flag fields whose value was printed in one cell that also gave another field.

    Every template field has its own printed cell, so one cell read for two fields means the grid
    lost a rule between two cells ("1" and "0" read as "10" for both). Cells that are not printed
    for the field itself (raw '', e.g. the items of a one-row （六）) are expected to share.
    """
    by_cell: dict[tuple, list[str]] = defaultdict(list)
    for fid, field in fields.items():
        if field.raw and field.bbox is not None and field.status is not FieldStatus.DERIVED:
            by_cell[(field.page, tuple(round(v) for v in field.bbox))].append(fid)
    for fids in by_cell.values():
        if len(fids) > 1:
            for fid in fids:
                flag(fields[fid], f"{SHARED_CELL} with {', '.join(f for f in fids if f != fid)}")


def flag_rows_with_missing_cells(fields: Mapping[str, FieldValue]) -> None:
    """Flag the read fields of a template row when another field of that row was not found.

    A row that lost a cell has usually lost a column of its grid, so its other values may sit one
    column off; and the identities over that row cannot be checked with a value missing, so
    nothing else would catch the shift.
    """
    missing_rows = {fid.rsplit(".", 1)[0] for fid, f in fields.items() if NOT_FOUND in f.reasons}
    for fid, field in fields.items():
        row = fid.rsplit(".", 1)[0]
        if row in missing_rows and NOT_FOUND not in field.reasons and field.status is not FieldStatus.DERIVED:
            flag(field, ROW_INCOMPLETE)


def flag_unchecked(template: Template, fields: Mapping[str, FieldValue], checks: list[CheckResult]) -> None:
    """Flag a value none of whose identities could be checked (each misses another value).

    The identities are what catches a misread digit; a value whose row and column both hold an
    unreadable cell has no check left, so it is not passed on unseen ("0" read as "9" beside an
    unreadable cell was a silent error on a hard scan). A value the prose confirmed is checked.
    """
    checked = {fid for check in checks if not check.identity.startswith(NARRATIVE_PREFIX) for fid in check.fields}
    for identity in template.identities:
        for fid in identity.fields:
            field = fields.get(fid)
            if (
                field is not None
                and field.value is not None
                and field.status is FieldStatus.AUTO
                and fid not in checked
                and PROSE_CONFIRMED not in field.reasons
            ):
                flag(field, UNCHECKED)


def flag_unchecked_blanks(template: Template, fields: Mapping[str, FieldValue], best: Mapping[str, FieldReading]) -> None:
    """Flag a scanned cell judged blank (0) from its lack of ink when no identity or prose checks it.

    A blank verdict has no reading to weigh: a cell box that missed its value (the rules bent at
    a fold, a faint print) is blank too. Where an identity holds over it, the 0 is checked; in
    section 二, where none does, two such cells went out as 0 for 11 and 1.3.
    """
    in_identities = {f for identity in template.identities for f in identity.fields}
    for fid, field in fields.items():
        reading = best.get(fid)
        if (
            reading is not None
            and BLANK_BY_INK in reading.evidence
            and fid not in in_identities
            and field.status is FieldStatus.AUTO
            and PROSE_CONFIRMED not in field.reasons
        ):
            flag(field, UNCHECKED_BLANK)


def flag_totals_over_flagged_parts(template: Template, fields: Mapping[str, FieldValue]) -> None:
    """Flag a total derived from its parts when one of those parts is flagged.

    A derived total is only as sure as the readings it sums; a misread part (flagged) would
    otherwise reach the dataset twice, once unflagged in the total.
    """
    for identity in template.identities:
        total = fields.get(identity.lhs[0]) if len(identity.lhs) == 1 else None
        if total is None or total.status is not FieldStatus.DERIVED:
            continue
        doubtful = [f for f in identity.rhs if f in fields and fields[f].status is FieldStatus.FLAGGED]
        if doubtful:
            flag(total, f"{DERIVED_FROM_FLAGGED} {', '.join(doubtful)}")


def _agrees(template: Template, claim: ProseClaim, value: int | float) -> bool:
    definition = template.fields[claim.field_id]
    if definition.value_type is ValueType.DECIMAL:
        return abs(float(claim.stated) - float(value)) <= max(1e-6, _AMOUNT_REL_TOLERANCE * abs(float(value)))
    return abs(float(claim.stated) - float(value)) < 1e-6
