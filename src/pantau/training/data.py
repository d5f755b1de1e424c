"""Training inputs shared by the fine-tuned model and the baseline: splits, label matrices, fingerprints.

The splits are the parquet files ``pantau prepare`` writes (``train/val/test.parquet``). Label columns are
floats: 1.0 / 0.0, or NaN where the row's source does not annotate that label; NaN is *unknown*, never
negative, and every consumer here masks it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from pantau.labels import LABEL_KEYS

SPLITS = ("train", "val", "test")
REQUIRED_COLUMNS = ("id", "text", "source", "weight")


class TrainDataError(ValueError):
    """The training data is missing or malformed; the message says how to produce it."""


def validate_frame(frame: pd.DataFrame, labels: Sequence[str] = LABEL_KEYS, *, name: str = "split") -> pd.DataFrame:
    """Check a split has the columns training reads; return it with an index 0..n-1."""
    missing = [c for c in (*REQUIRED_COLUMNS, *labels) if c not in frame.columns]
    if missing:
        raise TrainDataError(f"{name}: missing column(s) {missing}; produce the splits with `pantau prepare`")
    if frame.empty:
        raise TrainDataError(f"{name}: no rows")
    bad = [c for c in labels if not set(frame[c].dropna().unique()) <= {0.0, 1.0}]
    if bad:
        raise TrainDataError(f"{name}: label column(s) {bad} hold values other than 0, 1 and NaN")
    if frame["text"].isna().any() or not frame["text"].map(lambda t: isinstance(t, str)).all():
        raise TrainDataError(f"{name}: every row needs a text string")
    weights = frame["weight"].astype(float)
    if weights.isna().any() or (weights < 0).any():
        raise TrainDataError(f"{name}: weights must be ≥ 0")
    return frame.reset_index(drop=True)


def load_splits(processed_dir: str | Path, labels: Sequence[str] = LABEL_KEYS) -> dict[str, pd.DataFrame]:
    """Read and validate ``train``, ``val`` and ``test`` parquet files from ``processed_dir``."""
    folder = Path(processed_dir)
    out: dict[str, pd.DataFrame] = {}
    for name in SPLITS:
        path = folder / f"{name}.parquet"
        if not path.exists():
            raise TrainDataError(f"{path} not found; run `pantau prepare` (or `dvc repro prepare`) first")
        out[name] = validate_frame(pd.read_parquet(path), labels, name=str(path))
    return out


def label_matrix(frame: pd.DataFrame, labels: Sequence[str] = LABEL_KEYS) -> np.ndarray:
    """Labels as a float matrix [n, L] with NaN where the label is not annotated."""
    return frame[list(labels)].to_numpy(dtype=np.float64)


def annotated_labels(frame: pd.DataFrame, labels: Sequence[str] = LABEL_KEYS) -> list[str]:
    """Labels with at least one positive and one negative annotated row (trainable at all)."""
    y = label_matrix(frame, labels)
    return [lab for j, lab in enumerate(labels) if np.nansum(y[:, j]) > 0 and np.nansum(1 - y[:, j]) > 0]


def positive_weights(y: np.ndarray, *, cap: float = 10.0) -> np.ndarray:
    """Per-label ``negatives / positives`` over annotated rows, clipped to [1, cap] (1 when undefined)."""
    pos = np.nansum(y, axis=0)
    neg = np.nansum(1 - y, axis=0)
    ratio = np.where(pos > 0, neg / np.maximum(pos, 1), 1.0)
    return np.clip(ratio, 1.0, cap)


def data_fingerprint(frame: pd.DataFrame, labels: Sequence[str] = LABEL_KEYS) -> str:
    """SHA-256 over the sorted (id, text, labels, weight) rows: the same data gives the same hash, any order."""
    y = label_matrix(frame, labels)
    rows = sorted(
        json.dumps(
            [str(i), t, [None if np.isnan(v) else int(v) for v in row], float(w)], ensure_ascii=False
        )
        for i, t, row, w in zip(frame["id"], frame["text"], y, frame["weight"], strict=True)
    )
    digest = hashlib.sha256()
    digest.update(json.dumps(list(labels)).encode())
    for row in rows:
        digest.update(row.encode("utf-8"))
        digest.update(b"\n")
    return "sha256:" + digest.hexdigest()


def preprocessing_id(pipeline: str) -> str:
    """``"<pipeline>/<version>"`` as stored in model folders; ``"none"`` trains on raw text."""
    if pipeline in ("", "none"):
        return "none"
    from pantau.text import PREPROCESSING_VERSION

    if pipeline not in PREPROCESSING_VERSION:
        raise TrainDataError(f"unknown text pipeline {pipeline!r}; known: {sorted(PREPROCESSING_VERSION)}")
    version = str(PREPROCESSING_VERSION[pipeline])
    return version if "/" in version else f"{pipeline}/{version}"


def preprocess_texts(texts: Sequence[str], preprocessing: str) -> list[str]:
    """Apply the pipeline named by a preprocessing id (as the Classifier does at scoring time)."""
    name = preprocessing.split("/", 1)[0].strip()
    if name in ("", "none"):
        return list(texts)
    from pantau.text import preprocess

    return list(preprocess(list(texts), name))


def subsample(frame: pd.DataFrame, max_rows: int | None, seed: int) -> pd.DataFrame:
    """At most ``max_rows`` rows, drawn reproducibly (for quick runs); all rows when ``None``."""
    if max_rows is None or len(frame) <= max_rows:
        return frame
    return frame.sample(n=max_rows, random_state=seed).sort_index().reset_index(drop=True)
