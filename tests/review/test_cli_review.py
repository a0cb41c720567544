"""The review commands as registered on a Typer app (the lead wires them into `nianbao`)."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner


def test_calibrate_prints_the_curve_and_the_chosen_threshold(tmp_path):
    # One document whose only wrong field was read with confidence 0.6.
    # The command prints the curve and chooses the first threshold above 0.6.
    from extractor.cli_review import register

    (tmp_path / "t").mkdir()
    (tmp_path / "p").mkdir()
    (tmp_path / "t" / "d.truth.json").write_text(json.dumps(
        {"template": "gov-2021", "fields": {"apply.granted.total": {"value": 8}, "apply.total.total": {"value": 8}}}))
    (tmp_path / "p" / "d.json").write_text(json.dumps({
        "document": {"id": "d", "source": "d.pdf", "sha256": "0" * 64}, "template": "gov-2021",
        "fields": {"apply.granted.total": {"value": 3, "confidence": 0.6},
                   "apply.total.total": {"value": 8, "confidence": 0.99}}}))
    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    result = CliRunner().invoke(app, ["calibrate", "--truth", str(tmp_path / "t"), "--pred", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    assert "chosen 0.7: recall 100.00%" in result.output
