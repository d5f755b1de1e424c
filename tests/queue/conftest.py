"""Queue fixtures: one migrated database per test, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from support.postgres import POSTGRES_URL, require_postgres

from pantau.queue.db import make_engine, scratch_schema, upgrade


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: a SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'queue.db'}"
        return
    require_postgres()
    with scratch_schema(POSTGRES_URL, prefix="pantau_test") as url:
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated engine on ``db_url``."""
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def people(engine: Engine, password_hash: str) -> dict[str, int]:
    """User ids: two reviewers, a lead and an admin, all with PASSWORD."""
    from pantau.queue.users import add_user

    return {
        name: add_user(engine, name, None, role, password_hash=password_hash).id
        for name, role in (("rina", "reviewer"), ("budi", "reviewer"), ("lia", "lead"), ("adi", "admin"))
    }
