"""Small labelled frames in the ``pantau prepare`` split shape, for training/evaluation tests.

Rows come from our own sample (data/sample/labelled.csv) plus a second pseudo-source that annotates
only ``hate_speech`` and ``abusive`` (the other labels NaN), so masking and per-source weights are real.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pantau.labels import LABEL_KEYS

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REPO_ROOT / "data" / "sample" / "labelled.csv"


def tiny_frame(n: int = 48, *, seed: int = 0, offset: int = 0) -> pd.DataFrame:
    """``n`` rows: two thirds from the sample (all labels), one third a 'twitter' source (two labels)."""
    raw = pd.read_csv(SAMPLE, dtype={"id": str}, keep_default_na=False)
    raw = raw.sample(frac=1.0, random_state=seed).reset_index(drop=True).iloc[offset : offset + n].copy()
    frame = pd.DataFrame({"id": raw["id"].astype(str), "text": raw["text"].astype(str)})
    for key in LABEL_KEYS:
        frame[key] = raw[key].astype(float)
    for col in ("hs_target", "hs_category", "hs_strength", "kind"):
        frame[col] = raw[col].astype(str)
    frame["source"] = "sample"
    frame["weight"] = 1.0
    other = np.arange(len(frame)) % 3 == 2
    frame.loc[other, "source"] = "twitter"
    frame.loc[other, "weight"] = 0.5
    frame.loc[other, ["divisive_label", "incitement"]] = np.nan
    frame.loc[other, "kind"] = ""
    frame["group"] = frame["id"]
    return frame.reset_index(drop=True)


def tiny_splits(n_train: int = 48, n_val: int = 24, n_test: int = 24) -> dict[str, pd.DataFrame]:
    """Disjoint train/val/test frames drawn from the same shuffled sample."""
    return {
        "train": tiny_frame(n_train, offset=0),
        "val": tiny_frame(n_val, offset=n_train),
        "test": tiny_frame(n_test, offset=n_train + n_val),
    }


def write_splits(folder: Path, splits: dict[str, pd.DataFrame] | None = None) -> Path:
    """Write the splits as parquet (plus a report.json), as `pantau prepare` does; return the folder."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    splits = splits or tiny_splits()
    for name, frame in splits.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    (folder / "report.json").write_text(json.dumps({"rows": {k: len(v) for k, v in splits.items()}}))
    return folder
