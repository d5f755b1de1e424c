"""Shared test setup: offline Hub, the reference corpora, small helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests never reach the Hugging Face Hub; set before transformers is imported anywhere.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

pytest_plugins = ["support.fixtures"]

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("PANTAU_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (where params.yaml and data/sample live)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; CI always has it, so there its absence is a failure, locally a skip."""
    if not SHARED_DATA.exists():
        message = f"reference corpora not found at {SHARED_DATA} (set PANTAU_SHARED_DATA)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return SHARED_DATA
