"""``pantau text normalise|spans`` on the real CLI."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from pantau.cli import app


def test_normalise_and_classic() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["text", "normalise", "Dasar K4DRUNNN yg gk tau #KadrunLaknat"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "dasar kadrun yang tidak tahu kadrun laknat"
    result = runner.invoke(
        app, ["text", "normalise", "--pipeline", "classic"], input="mereka yg mendukung pemilu\n"
    )
    assert result.output.strip() == "mereka dukung pemilu"


def test_unknown_pipeline_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["text", "normalise", "--pipeline", "bert", "x"])
    assert result.exit_code == 2
    assert "transformer, classic" in result.output


def test_spans_as_json_lines() -> None:
    result = CliRunner().invoke(app, ["text", "spans", "dasar k a d r u n", "halo"])
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert first["spans"] == [
        {"start": 6, "end": 17, "term": "kadrun", "category": "opposition-smear", "matched": "k a d r u n"}
    ]
    assert second["spans"] == []
