"""Exit status of the commands that process documents (`extract`, `submit --wait`, `status --wait`).

A run whose documents all failed used to exit 0, so a script could not tell it from success.
"""

from __future__ import annotations

import typer

# Exit status when at least one document failed (and errors were not allowed).
EXIT_FAILED_DOCUMENTS = 1


def failed_exit_code(failed: int, allow_errors: bool = False) -> int:
    """0 when nothing failed or failures are allowed (``--allow-errors``), else EXIT_FAILED_DOCUMENTS.

    Args:
        failed: documents that failed (unreadable, no template recognised, a task out of attempts).
        allow_errors: keep 0 all the same.
    """
    return EXIT_FAILED_DOCUMENTS if failed and not allow_errors else 0


def exit_on_failed_documents(summary, allow_errors: bool = False) -> None:
    """End `nianbao extract` with EXIT_FAILED_DOCUMENTS when any document failed.

    Args:
        summary: the run's ``bulk.ExtractSummary`` (``failed`` lists the documents read with an error and
            no template; a failed document is read again by the next run, so it counts again).
        allow_errors: ``--allow-errors``: exit 0 all the same.

    Raises:
        typer.Exit: some document failed and errors are not allowed.
    """
    code = failed_exit_code(len(summary.failed), allow_errors)
    if code:
        typer.echo(f"{len(summary.failed)} of {summary.documents} documents failed (--allow-errors to exit 0)",
                   err=True)
        raise typer.Exit(code=code)
