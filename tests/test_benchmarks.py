"""The benchmarks' own helpers: which rows a measurement trains on, and what the memory benchmark runs."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import pandas as pd
import pytest


def _bench(repo_root: Path, name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", repo_root / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _quality(repo_root: Path):
    return _bench(repo_root, "quality")


def test_transformer_share_keeps_a_reproducible_share_of_named_sources_only(repo_root: Path) -> None:
    quality = _quality(repo_root)
    frame = pd.DataFrame({"text": [f"post {i}" for i in range(300)],
                          "source": ["ibrohim2019"] * 200 + ["sample"] * 100})
    shares = quality.source_shares("ibrohim2019=0.25")
    assert shares == {"ibrohim2019": 0.25}
    part = quality.share_of_sources(frame, shares)
    assert part["source"].value_counts().to_dict() == {"ibrohim2019": 50, "sample": 100}
    # Every kept row is one of the originals, none twice, and the same draw comes back next time.
    assert set(part["text"]) <= set(frame["text"]) and part["text"].is_unique
    assert part["text"].tolist() == quality.share_of_sources(frame, shares)["text"].tolist()
    assert quality.share_of_sources(frame, {}) is frame


@pytest.mark.parametrize("text", ["ibrohim2019", "ibrohim2019=0", "ibrohim2019=1.5", "=0.5", "ibrohim2019=half"])
def test_transformer_share_refuses_what_it_cannot_read(repo_root: Path, text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="expected SOURCE=SHARE"):
        _quality(repo_root).source_shares(text)


@pytest.mark.slow
def test_memory_benchmark_scores_every_post_in_int8_after_an_unmeasured_warm_up(
    repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The int8 copy is cached under ~/.cache: an empty home makes the first run quantise, as on a new machine.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    memory = _bench(repo_root, "memory")
    result = memory.score_memory([40, 120], chunk_rows=50, model_spec="tiny-transformer", precision="int8")
    assert [r["posts"] for r in result["runs"]] == [40, 120]  # the warm-up run is not among the measured ones
    for run in result["runs"]:
        assert run["exit_code"] == 0, run.get("stderr")
        assert run["counts"]["scored"] == run["posts"] and run["counts"]["rejected"] == 0
        assert run["precision_used"] == "int8"
        assert 0 <= run["int8_verified_in_fp32"] <= run["posts"]
        assert run["peak_rss_mib"] > 0
    assert result["ratio_largest_vs_smallest"] == pytest.approx(
        result["runs"][1]["peak_rss_mib"] / result["runs"][0]["peak_rss_mib"], abs=1e-3)


def test_memory_benchmark_refuses_a_model_it_cannot_read(repo_root: Path, tmp_path: Path) -> None:
    memory = _bench(repo_root, "memory")
    with pytest.raises(SystemExit, match="not keyword, tiny-transformer or a model folder"):
        memory.model_folder(str(tmp_path / "nowhere"), tmp_path)
