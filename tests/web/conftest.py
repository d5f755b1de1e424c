"""Web fixtures: a migrated SQLite queue with users and hostile posts, the app, signed-in clients, and for the
browser tests the app under uvicorn, headless Chromium and a watched page (tests/support/browser.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from support.browser import launch_chromium, serve_app, watched_page
from support.web import HOSTILE, HOSTILE_URL, SECRET, scored, sign_in

from pantau import queue
from pantau.queue.db import make_engine, upgrade
from pantau.queue.users import add_user
from pantau.web.app import WebConfig, create_app


@pytest.fixture
def engine(tmp_path: Path, password_hash: str) -> Iterator[Engine]:
    """SQLite queue with reviewers rina and budi, lead lia, admin adi, and hostile posts (single review)."""
    eng = make_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    upgrade(eng)
    for name, role in (("rina", "reviewer"), ("budi", "reviewer"), ("lia", "lead"), ("adi", "admin")):
        add_user(eng, name, None, role, password_hash=password_hash)
    rows = [scored(f"x-{k}", text, 0.6 + i / 100) for i, (k, text) in enumerate(HOSTILE.items())]
    rows[0]["url"] = HOSTILE_URL
    rows[0]["author"] = "<script>alert('author')</script>"
    rows[0]["spans"] = [{"start": 49, "end": 55, "term": "kadrun", "category": "<b>divisive</b>"}]
    rows.append(scored("top", "usir kadrun dari kampung ini", 0.8, url="https://example.org/p/1"))
    queue.enqueue(eng, rows, model_version="v1", risk_threshold=0.5)
    yield eng
    eng.dispose()


@pytest.fixture
def app(engine: Engine) -> FastAPI:
    return create_app(engine, secret_key=SECRET, config=WebConfig(claim_batch=1))


@pytest.fixture
def reviewer(app: FastAPI) -> TestClient:
    return sign_in(app, "rina")


@pytest.fixture
def lead(app: FastAPI) -> TestClient:
    return sign_in(app, "lia")


@pytest.fixture
def admin(app: FastAPI) -> TestClient:
    return sign_in(app, "adi")


@pytest.fixture
def server(app: FastAPI) -> Iterator[str]:
    """The ``app`` fixture under uvicorn on a free 127.0.0.1 port, in a thread; yields the base URL."""
    with serve_app(app) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian chromium, one per test module."""
    with launch_chromium() as b:
        yield b


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page in a fresh context; ``page.problems`` records console errors, page errors and dialogs."""
    context = browser.new_context()
    yield watched_page(context)
    context.close()
