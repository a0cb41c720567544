import copy

from models.reproduce import compare_manifests, config_from_manifest


def _manifest():
    """The parts of a training manifest the reproduction check reads."""
    return {
        "data": {"train": {"seed": 1000, "n": 160}, "heldout": {"seed": 91000, "n": 40}},
        "config": {"seed": 1000, "steps": 1500, "minutes": 15.0, "threads": 1, "base_model": None},
        "training": {"steps": 1500, "seconds": 550.0, "losses": [3.1, 0.7, 0.28]},
        "metrics": {"heldout_cells": {"cell_accuracy": 0.9981, "seconds_per_document": 0.026},
                    "heldout_fields": {"rules": {"field_accuracy": 0.9876}, "classifier": {"field_accuracy": 0.9994}}},
        "weights": {"sha256": "ab"},
    }


def test_an_identical_run_reproduces():
    # The same manifest compared with itself, except a longer clock limit and another timing.
    # Minutes and seconds are not what a run learns: reproduced, identical weights.
    fresh = _manifest()
    fresh["config"]["minutes"] = 240.0
    fresh["training"]["seconds"] = 1700.0
    result = compare_manifests(_manifest(), fresh)
    assert result["ok"] and result["identical_weights"] and not result["config_differences"]


def test_a_metric_beyond_the_tolerance_fails_and_names_it():
    # A fresh run whose classifier field accuracy is 0.5 point lower, with other weights.
    # Not reproduced; the failing row is that metric; a difference within tolerance passes.
    fresh = _manifest()
    fresh["metrics"]["heldout_fields"]["classifier"]["field_accuracy"] = 0.9944
    fresh["weights"]["sha256"] = "cd"
    result = compare_manifests(_manifest(), fresh)
    assert not result["ok"] and not result["identical_weights"]
    assert [r["name"] for r in result["comparisons"] if not r["ok"]] == ["metrics.heldout_fields.classifier.field_accuracy"]
    assert compare_manifests(_manifest(), fresh, tolerance=0.01)["ok"]


def test_a_run_stopped_by_the_clock_does_not_reproduce():
    # A fresh run cut by its minutes limit at step 1,200 of 1,500 (a busy machine).
    # Whatever its metrics, it is not a reproduction.
    fresh = copy.deepcopy(_manifest())
    fresh["training"].update(steps=1200, stopped_by_clock=True)
    assert not compare_manifests(_manifest(), fresh)["ok"]


def test_the_reproduction_config_raises_the_clock_limit_to_a_safety_limit():
    # The shipped manifest allowed 15 minutes; a reproduction on a busy machine needs longer.
    # Steps, seed and threads are kept; minutes only grows.
    config = config_from_manifest(_manifest())
    assert (config.steps, config.seed, config.threads) == (1500, 1000, 1)
    assert config.minutes >= 60


def test_training_on_other_data_does_not_reproduce():
    # Two manifests with the same seeds whose training data fingerprints differ (the grid code changed).
    # The data row fails even though every metric matches.
    reference, fresh = _manifest(), _manifest()
    reference["data"]["train"]["sha256"] = "aa" * 32
    fresh["data"]["train"]["sha256"] = "bb" * 32
    result = compare_manifests(reference, fresh)
    assert [r["name"] for r in result["comparisons"] if not r["ok"]] == ["data.train.sha256"]


def test_the_data_fingerprint_changes_with_one_cell_text():
    # One labelled table, fingerprinted before and after one cell's text changes.
    # Equal tables give equal fingerprints; an edited cell gives another.
    from extractor.datamodel import BBox, Cell, Table
    from models.data import LabelledDocument
    from models.reproduce import data_fingerprint

    def doc(text):
        cell = Cell(row=0, col=0, text=text, page=0, bbox=BBox(x1=0, y1=0, x2=10, y2=10))
        table = Table(n_rows=1, n_cols=1, cells=[cell], pages=[0], bbox=BBox(x1=0, y1=0, x2=10, y2=10))
        return LabelledDocument(doc_id="d", truth=None, pages=[], tables=[table], labels=[["O"]])

    assert data_fingerprint([doc("委")]) == data_fingerprint([doc("委")])
    assert data_fingerprint([doc("委")]) != data_fingerprint([doc("会")])
