"""Does training reproduce the shipped classifier? Re-run its manifest and compare.

A manifest (``models/cell_classifier/manifest.json``) names the data seeds and sizes and every
hyper-parameter, so a fresh run of the same command on a clean clone should give the same
model. On one thread, with the same torch build, it gives the same weights bit for bit; across
machines or builds float results may differ in the last bits, so the check compares the
*metrics* within a tolerance and reports the weights' hash only as a fact.

The run length is set by ``steps``: the ``minutes`` limit is a safety limit only (a run it stops
is recorded as such and cannot be reproduced, because CPU contention decides where it stops).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path

from models.train import TrainConfig

_log = logging.getLogger(__name__)

# Largest absolute difference allowed on an accuracy (0.002 = 0.2 points; one field of the
# 40-report held-out set is 1/4,120 ≈ 0.00024, one document 1/40).
METRIC_TOLERANCE = 0.002
# Largest absolute difference allowed on a logged training loss (mean over 50 steps).
LOSS_TOLERANCE = 0.02
# Config keys that do not change what is learnt (the clock limit) and are not compared.
_RUN_ONLY_KEYS = ("minutes",)
# Safety clock limit of a reproduction, in minutes: long enough that `steps` decides, on a busy machine.
SAFETY_MINUTES = 240.0


@dataclass(frozen=True)
class Comparison:
    """One compared quantity."""

    name: str  # dotted path into the manifest, e.g. metrics.heldout_fields.rules.field_accuracy
    reference: float | str | None  # the shipped manifest's value
    fresh: float | str | None  # the reproduction's value
    ok: bool  # within tolerance (or equal, for non-numbers)


def data_fingerprint(docs) -> str:
    """SHA-256 over what training sees of `docs`: every table's grid, cell texts and labels.

    Page understanding (layout, grid) and the generator change between commits; a different
    fingerprint says at once that a reproduction trains on other data, whatever its metrics.
    """
    digest = hashlib.sha256()
    for doc in docs:
        for table, labels in zip(doc.tables, doc.labels):
            cells = [[c.row, c.col, c.row_span, c.col_span, c.text] for c in table.cells]
            digest.update(json.dumps([doc.doc_id, table.n_rows, table.n_cols, cells, labels], ensure_ascii=False).encode())
    return digest.hexdigest()


def code_version(root: Path | None = None) -> dict:
    """The git commit of the source tree and whether it had uncommitted changes (None outside git)."""
    root = root or Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True,
                               text=True, check=True).stdout.strip() != ""
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def _accuracies(metrics: dict) -> dict[str, float]:
    """Every accuracy of a manifest's metrics, keyed by its dotted path."""
    out = {f"heldout_cells.{k}": v for k, v in metrics.get("heldout_cells", {}).items() if k.endswith("accuracy")}
    for group in ("heldout_fields", "heldout_fields_noisy", "real_fields"):
        for mode, row in metrics.get(group, {}).items():
            out[f"{group}.{mode}.field_accuracy"] = row["field_accuracy"]
    return out


def compare_manifests(reference: dict, fresh: dict, tolerance: float = METRIC_TOLERANCE,
                      loss_tolerance: float = LOSS_TOLERANCE) -> dict:
    """Compare a fresh run's manifest with the reference one.

    Args:
        reference: the shipped manifest.
        fresh: the reproduction's manifest.
        tolerance: largest absolute difference of an accuracy.
        loss_tolerance: largest absolute difference of a logged loss.

    Returns:
        ``{"ok", "identical_weights", "comparisons": [Comparison as dict], "config_differences"}``;
        ``ok`` is False when a metric or loss is out of tolerance, the step counts differ, the
        data differ, or either run was stopped by the clock.
    """
    rows: list[Comparison] = []
    ref_cfg = {k: v for k, v in reference.get("config", {}).items() if k not in _RUN_ONLY_KEYS}
    new_cfg = {k: v for k, v in fresh.get("config", {}).items() if k not in _RUN_ONLY_KEYS}
    config_differences = {k: [ref_cfg.get(k), new_cfg.get(k)] for k in sorted(ref_cfg.keys() | new_cfg.keys())
                          if ref_cfg.get(k) != new_cfg.get(k)}
    ref_data, new_data = _without_fingerprint(reference.get("data")), _without_fingerprint(fresh.get("data"))
    rows.append(Comparison("data", json.dumps(ref_data, sort_keys=True), json.dumps(new_data, sort_keys=True),
                           ref_data == new_data))
    ref_print = (reference.get("data") or {}).get("train", {}).get("sha256")
    new_print = (fresh.get("data") or {}).get("train", {}).get("sha256")
    if ref_print and new_print:  # manifests older than the fingerprint have none
        rows.append(Comparison("data.train.sha256", ref_print[:12], new_print[:12], ref_print == new_print))
    ref_train, new_train = reference.get("training", {}), fresh.get("training", {})
    rows.append(Comparison("training.steps", ref_train.get("steps"), new_train.get("steps"),
                           ref_train.get("steps") == new_train.get("steps")))
    for name, train in (("reference", ref_train), ("fresh", new_train)):
        if train.get("stopped_by_clock") or (train.get("steps") or 0) < reference.get("config", {}).get("steps", 0):
            rows.append(Comparison(f"training.{name}_stopped_by_steps", "yes", "no", False))
    ref_losses, new_losses = ref_train.get("losses", []), new_train.get("losses", [])
    worst = max((abs(a - b) for a, b in zip(ref_losses, new_losses)), default=0.0)
    rows.append(Comparison("training.losses.max_abs_difference", 0.0, round(worst, 4),
                           worst <= loss_tolerance and len(ref_losses) == len(new_losses)))
    ref_acc, new_acc = _accuracies(reference.get("metrics", {})), _accuracies(fresh.get("metrics", {}))
    for key in sorted(ref_acc.keys() | new_acc.keys()):
        a, b = ref_acc.get(key), new_acc.get(key)
        rows.append(Comparison(f"metrics.{key}", a, b, a is not None and b is not None and abs(a - b) <= tolerance))
    identical = reference.get("weights", {}).get("sha256") == fresh.get("weights", {}).get("sha256")
    return {"ok": all(r.ok for r in rows), "identical_weights": identical,
            "comparisons": [dataclasses.asdict(r) for r in rows], "config_differences": config_differences,
            "code": [(reference.get("code") or {}).get("commit"), (fresh.get("code") or {}).get("commit")]}


def _without_fingerprint(data: dict | None) -> dict | None:
    if not data or "train" not in data:
        return data
    return data | {"train": {k: v for k, v in data["train"].items() if k != "sha256"}}


def config_from_manifest(manifest: dict) -> TrainConfig:
    """The training configuration a manifest records, with the clock limit raised to a safety limit."""
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    values = {k: v for k, v in manifest["config"].items() if k in known}
    if values.get("base_model"):
        values["base_model"] = Path(values["base_model"])
    values["minutes"] = max(float(values.get("minutes", 0.0)), SAFETY_MINUTES)
    return TrainConfig(**values)


def reproduce(artifacts: Path, out: Path, data: Path, real: Path | None = None,
              real_truth: Path | None = None, tolerance: float = METRIC_TOLERANCE) -> dict:
    """Train again from the manifest in `artifacts` into `out`, evaluate, and compare.

    Args:
        artifacts: the shipped classifier folder (read only).
        out: where the fresh model, manifest and EVAL.md go (never the shipped folder).
        data: working folder for generated reports (a clean one reproduces from nothing).
        real, real_truth: real reports and their truth, as for ``nianbao train``.
        tolerance: largest absolute difference of an accuracy.

    Returns:
        :func:`compare_manifests` of the shipped and the fresh manifest.

    Raises:
        ValueError: `out` is the shipped folder.
    """
    from models.run import MANIFEST, train_and_evaluate

    if Path(out).resolve() == Path(artifacts).resolve():
        raise ValueError("the reproduction must not overwrite the shipped model")
    reference = json.loads((Path(artifacts) / MANIFEST).read_text(encoding="utf-8"))
    train_data, heldout = reference["data"]["train"], reference["data"]["heldout"]
    config = config_from_manifest(reference)
    pretrain_steps = (reference.get("pretraining") or {}).get("config", {}).get("steps", 0)
    if pretrain_steps:  # the checkpoint was made by the run itself: make it again, not from a stale path
        config = dataclasses.replace(config, base_model=None)
    fresh = train_and_evaluate(Path(out), Path(data), train_data["n"], train_data["seed"], heldout["n"], heldout["seed"],
                               config, real, real_truth, pretrain_steps=pretrain_steps)
    return compare_manifests(reference, fresh, tolerance=tolerance)


def comparison_text(result: dict) -> str:
    """A plain-text table of a comparison."""
    lines = [f"{'quantity':58} {'shipped':>10} {'fresh':>10}  ok"]
    for r in result["comparisons"]:
        ref, new = (r["reference"], r["fresh"]) if r["name"] != "data" else ("…", "…")
        lines.append(f"{r['name']:58} {str(ref):>10} {str(new):>10}  {'yes' if r['ok'] else 'NO'}")
    lines.append(f"identical weights (SHA-256): {'yes' if result['identical_weights'] else 'no'}")
    lines.append(f"code (shipped, fresh): {result.get('code')}")
    if result["config_differences"]:
        lines.append(f"config differences (shipped, fresh): {result['config_differences']}")
    lines.append("REPRODUCED within tolerance" if result["ok"] else "NOT REPRODUCED")
    return "\n".join(lines)
