"""Render an evaluation report as a plain-text table for the terminal."""

from __future__ import annotations

from extractor.evaluation.report import Accuracy, EvalReport, FieldTally

# Sections in the order the report prints them.
_SECTION_ORDER = ("active", "apply", "appeal")
# Levels from easiest to hardest; others follow alphabetically.
_LEVEL_ORDER = ("digital", "clean", "typical", "hard", "real", "unknown")
# Column headers of the field table, with the tally attribute each shows.
_COLUMNS = (
    ("fields", "fields"),
    ("accuracy", "accuracy"),
    ("missing", "missing_rate"),
    ("silent", "silent_error_rate"),
    ("flagged", "flag_rate"),
    ("flag-prec", "flag_precision"),
    ("flag-recall", "flag_recall"),
)
# Most ids listed per line of problem documents.
_MAX_LISTED = 20


def format_report(report: EvalReport) -> str:
    """The report as aligned text: field measures by group, then document-level measures.

    Args:
        report: what :func:`evaluate` returned.

    Returns:
        Lines joined by newlines, no trailing newline.
    """
    rows: list[tuple[str, FieldTally]] = [("overall", report.overall)]
    rows += [(f"section {s}", report.by_section[s]) for s in _ordered(report.by_section, _SECTION_ORDER)]
    levels = _ordered(report.by_level, _LEVEL_ORDER)
    rows += [(f"level {lv}", report.by_level[lv].fields) for lv in levels]
    table = [["", *(header for header, _ in _COLUMNS)]]
    for label, t in rows:
        table.append([label, *(_cell(getattr(t, attr)) for _, attr in _COLUMNS)])
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines = [
        f"nianbao eval: {report.documents} documents from {report.truth_dir} against {report.pred_dir}",
        "",
    ]
    for r in table:
        lines.append("  ".join([r[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(r[1:], widths[1:]))]).rstrip())
    lines.append("(missing: per truth value; silent: per field; flagged: per predicted field; "
                 "flag-prec: flagged that were wrong; flag-recall: wrong that were flagged)")
    lines.append("")
    lines.append(f"documents all right  {_count(report.documents_all_right, report.documents)}")
    for lv in levels:
        g = report.by_level[lv]
        lines.append(f"  level {lv:<13}{_count(g.documents_all_right, g.documents)}")
    lines.append(f"silent errors        {report.overall.silent_errors}")
    lines.append(f"missing fields       {report.overall.missing}")
    for name, acc in (("template", report.template), ("agency", report.agency), ("year", report.year),
                      ("published", report.published)):
        lines.append(f"{name:<21}{_accuracy(acc)}")
    problems = [
        ("no prediction", report.missing_predictions),
        ("unreadable prediction", [f"{k} ({v})" for k, v in report.unreadable_predictions.items()]),
        ("prediction without truth", report.unmatched_predictions),
        ("unreadable truth", [f"{k} ({v})" for k, v in report.truth_errors.items()]),
    ]
    for label, items in problems:
        if items:
            shown = ", ".join(items[:_MAX_LISTED]) + (f", … (+{len(items) - _MAX_LISTED})" if len(items) > _MAX_LISTED else "")
            lines.append(f"{label}: {shown}")
    return "\n".join(lines)


def _ordered(keys: dict, preferred: tuple[str, ...]) -> list[str]:
    return [k for k in preferred if k in keys] + sorted(k for k in keys if k not in preferred)


def _cell(value: float | int | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{100 * value:.1f}%"


def _count(part: int, whole: int) -> str:
    return f"{part}/{whole}" + (f" ({100 * part / whole:.1f}%)" if whole else "")


def _accuracy(acc: Accuracy) -> str:
    return _count(acc.correct, acc.total)
