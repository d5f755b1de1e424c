"""The benchmarks' own helpers that decide which rows a measurement trains on."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import pandas as pd
import pytest


def _quality(repo_root: Path):
    spec = importlib.util.spec_from_file_location("bench_quality", repo_root / "benchmarks" / "quality.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
