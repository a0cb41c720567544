"""Fields confirmed by the accounting identities go without review.

A table whose rows and columns must add up is a code with parity checks: an identity that holds
over values read independently is evidence for each of them, and for where each was placed, since
a misread digit or a value one column off would break it unless another error cancelled it
exactly. Where an identity is broken, the values it shares with identities that hold are
confirmed by those; the error is among the others.

Only doubts an identity answers are lifted this way: a low recognition score, two decodings of a
cell that disagree, a row that lost another cell, a row placed by its position, the matcher and
the classifier disagreeing. A value the joint decoding chose without a clear margin (an
alternative fits the identities about as well), an unread or shared cell, a range problem and
a disagreement with the prose keep their flags.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from extractor.datamodel import CheckResult, FieldStatus, FieldValue

# Note added to a field whose doubts an identity that holds answered (a reviewer sees it in history).
CONFIRMED = "confirmed by"


def confirming_checks(fields: Mapping[str, FieldValue], checks: Iterable[CheckResult], narrative_prefix: str) -> dict[str, str]:
    """Field id -> an identity that holds over it and over values all read from the report.

    An identity with a derived value (a blank total set to the sum of its parts) holds by
    construction and confirms nothing; the prose's statements are not identities.
    """
    confirmed: dict[str, str] = {}
    for check in checks:
        if not check.ok or check.identity.startswith(narrative_prefix):
            continue
        if any(fields[f].status is FieldStatus.DERIVED or fields[f].value is None for f in check.fields if f in fields):
            continue
        for fid in check.fields:
            confirmed.setdefault(fid, check.identity)
    return confirmed


def release_confirmed(
    fields: Mapping[str, FieldValue],
    checks: list[CheckResult],
    soft_reasons: tuple[str, ...],
    broken_prefix: str,
    narrative_prefix: str,
) -> None:
    """Lift the doubts the identities answered, in place.

    Steps:
        1. A broken identity whose values are not all confirmed by identities that hold keeps
           its flag on the unconfirmed ones only (one of them is wrong); if all are confirmed
           elsewhere, the report printed numbers that do not add up and every one stays flagged.
        2. A flagged field confirmed by an identity that holds, whose every remaining reason is
           one of `soft_reasons`, is accepted, with a note naming the identity.

    Args:
        fields: the validated fields.
        checks: the identity checks (and prose checks, told apart by `narrative_prefix`).
        soft_reasons: starts of the reasons an identity that holds answers.
        broken_prefix: start of the reason given to every field of a broken identity.
        narrative_prefix: start of the prose checks' names.
    """
    confirmed = confirming_checks(fields, checks, narrative_prefix)
    for check in checks:
        if check.ok or check.identity.startswith(narrative_prefix):
            continue
        suspects = [f for f in check.fields if f not in confirmed]
        if not suspects:
            continue
        reason = f"{broken_prefix} {check.identity}"
        for fid in check.fields:
            field = fields.get(fid)
            if fid in confirmed and field is not None and reason in field.reasons:
                field.reasons[field.reasons.index(reason)] = f"{reason} (the error is among {', '.join(suspects)})"
    for fid, identity in confirmed.items():
        field = fields.get(fid)
        if field is None or field.status is not FieldStatus.FLAGGED:
            continue
        if all(r.startswith(soft_reasons) or _released(r, broken_prefix) for r in field.reasons):
            field.status = FieldStatus.AUTO
            field.reasons.append(f"{CONFIRMED} {identity}")


def _released(reason: str, broken_prefix: str) -> bool:
    """A broken identity's reason that puts the error on other fields (a repair's, or the suspects')."""
    return reason.startswith(broken_prefix) and ("(the error is among" in reason or "(explained by" in reason)
