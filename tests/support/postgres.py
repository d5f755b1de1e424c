"""The test PostgreSQL server: where it is, whether it answers, and skipping (locally) or failing (CI)
when it does not. Shared by the queue and web fixtures."""

from __future__ import annotations

import os

import pytest

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
    """Skip the test when PostgreSQL is not reachable; in CI, fail it instead."""
    reason = postgres_available()
    if reason:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(
                f"{reason} (CI must run the PostgreSQL tests; start the server or set PANTAU_TEST_POSTGRES_URL)"
            )
        pytest.skip(reason)
