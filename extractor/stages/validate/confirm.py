"""Fields confirmed by the accounting identities go without review.

A table whose rows and columns must add up is a code with parity checks: an identity that holds
over values read independently is evidence for each of them, and for where each was placed, since
a misread digit or a value one column off would break it unless another error cancelled it
exactly. Where an identity is broken, the values it shares with identities that hold are
confirmed by those; the error is among the others.

Errors that cancel are likelier than chance where two readings are both in doubt (a rule's
piece read "1" in a cell and in its row's total), or where a whole row was misplaced (a row
adds up wherever it is put). So an identity confirms a value only when every other value in it
was read without doubt, and a value whose place is in doubt only by an identity over other rows
too (its column's), not by its own row's.

Only doubts an identity answers are lifted this way: about the reading (a low recognition score,
two decodings of a cell that disagree) or the place (a row that lost another cell, a row placed
by its position, the matcher and the classifier disagreeing). A value the joint decoding chose
without a clear margin (an alternative fits the identities about as well), an unread or shared
cell, a range problem and a disagreement with the prose keep their flags.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from extractor.datamodel import CheckResult, FieldStatus, FieldValue

# Note added to a field whose doubts an identity that holds answered (a reviewer sees it in history).
CONFIRMED = "confirmed by"


def release_confirmed(
    fields: Mapping[str, FieldValue],
    checks: list[CheckResult],
    reading_doubts: tuple[str, ...],
    place_doubts: tuple[str, ...],
    broken_prefix: str,
    narrative_prefix: str,
) -> None:
    """Lift the doubts the identities answered, in place.

    Steps:
        1. A broken identity whose values are not all confirmed by identities that hold keeps
           its flag on the unconfirmed ones only (one of them is wrong); if all are confirmed
           elsewhere, the report printed numbers that do not add up and every one stays flagged.
        2. A flagged field whose every reason is a reading doubt, a place doubt or a broken
           identity's whose error lies elsewhere, and that an identity holding over it confirms
           (one over other rows too where its place is in doubt), is accepted, with a note
           naming the identity.

    Args:
        fields: the validated fields.
        checks: the identity checks (and prose checks, told apart by `narrative_prefix`).
        reading_doubts: starts of the reasons that doubt a field's reading.
        place_doubts: starts of the reasons that doubt a field's place in the table.
        broken_prefix: start of the reason given to every field of a broken identity.
        narrative_prefix: start of the prose checks' names.
    """
    identities = [c for c in checks if not c.identity.startswith(narrative_prefix)]
    sure = {fid for fid, f in fields.items() if f.value is not None and not _reading_in_doubt(f, reading_doubts, place_doubts, broken_prefix)}
    holding = [c for c in identities if c.ok and _all_read(fields, c.fields)]
    confirmed = {fid for c in holding for fid in c.fields if _confirms(c, fid, sure)}
    for check in identities:
        if check.ok:
            continue
        suspects = [f for f in check.fields if f not in confirmed]
        if not suspects:
            continue
        reason = f"{broken_prefix} {check.identity}"
        for fid in check.fields:
            field = fields.get(fid)
            if fid in confirmed and field is not None and reason in field.reasons:
                field.reasons[field.reasons.index(reason)] = f"{reason} (the error is among {', '.join(suspects)})"
    for fid, field in fields.items():
        if field.status is not FieldStatus.FLAGGED:
            continue
        if not all(r.startswith(reading_doubts + place_doubts) or _released(r, broken_prefix) for r in field.reasons):
            continue
        placed_in_doubt = any(r.startswith(place_doubts) for r in field.reasons)
        by = next(
            (c.identity for c in holding if fid in c.fields and _confirms(c, fid, sure) and not (placed_in_doubt and _one_row(c))),
            None,
        )
        if by is not None:
            field.status = FieldStatus.AUTO
            field.reasons.append(f"{CONFIRMED} {by}")


def _all_read(fields: Mapping[str, FieldValue], fids: Iterable[str]) -> bool:
    """Every value of an identity read from the report: a derived one (a blank total set to the
    sum of its parts) makes it hold by construction."""
    return all(fid in fields and fields[fid].value is not None and fields[fid].status is not FieldStatus.DERIVED for fid in fids)


def _confirms(check: CheckResult, fid: str, sure: set[str]) -> bool:
    """Whether an identity that holds confirms `fid`: every other value in it read without doubt."""
    return fid in check.fields and all(g in sure for g in check.fields if g != fid)


def _one_row(check: CheckResult) -> bool:
    """Whether an identity is over one template row (its own row's total)."""
    return len({fid.rsplit(".", 1)[0] for fid in check.fields}) == 1


def _reading_in_doubt(field: FieldValue, reading_doubts, place_doubts, broken_prefix: str) -> bool:
    """Whether a field's value itself is doubted: flagged for anything but its place or a broken
    identity (which doubts the identity's values together, none in particular)."""
    if field.status is not FieldStatus.FLAGGED:
        return False
    return any(
        r.startswith(reading_doubts) or not (r.startswith(place_doubts) or r.startswith(broken_prefix))
        for r in field.reasons
    )


def _released(reason: str, broken_prefix: str) -> bool:
    """A broken identity's reason that puts the error on other fields (a repair's, or the suspects')."""
    return reason.startswith(broken_prefix) and ("(the error is among" in reason or "(explained by" in reason)
