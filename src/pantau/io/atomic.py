"""Atomic writers: a temporary file and a rename, so readers never see half a file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd


def write_parquet_atomic(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``frame`` to ``path`` through a temporary file and a rename, so readers never see half a file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    frame = frame.copy(deep=False)
    frame.attrs = {}  # pandas would try to JSON-encode attrs into the file metadata
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, target)
    return target


def write_json_atomic(obj: Any, path: str | os.PathLike[str]) -> Path:
    """Write JSON through a temporary file and a rename."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, target)
    return target
