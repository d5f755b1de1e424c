"""Queue fixtures: one migrated database per test, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pantau.queue.db import make_engine, scratch_schema, upgrade

POSTGRES_URL = os.environ.get("PANTAU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        import psycopg

        conninfo = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(conninfo, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means: not reachable here
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}"


def require_postgres() -> None:
    reason = postgres_available()
    if reason:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(
                f"{reason} (CI must run the PostgreSQL tests; start the server or set PANTAU_TEST_POSTGRES_URL)"
            )
        pytest.skip(reason)


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
