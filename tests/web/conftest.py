"""Web fixtures: a migrated SQLite queue with users and hostile posts, the app, signed-in clients."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pantau.labels import LABEL_KEYS
from pantau.queue import store
from pantau.queue.db import make_engine, upgrade
from pantau.queue.users import add_user, hash_password
from pantau.web.app import WebConfig, create_app

PASSWORD = "rahasia-123"
SECRET = "test-secret-" + "x" * 40

# Post texts an attacker controls: every one must render as text and never run.
HOSTILE = {
    "script": "<script>window.__pwned = 'script'</script> dasar kadrun",
    "onerror": "<img src=x onerror=\"window.__pwned='onerror'\"> cebong semua",
    "svg": "<svg onload=\"window.__pwned='svg'\"></svg> kampret",
    "broken": "</blockquote></td></table><b>tebal <i>miring <a href='javascript:window.__pwned=1'>klik",
    "attr": '" autofocus onfocus="window.__pwned=\'attr\'" x="',
    "template": "{{ 7*7 }} {% raw %} ${7*7} <!-- komentar",
}
HOSTILE_URL = "javascript:window.__pwned='url'"


def scored(post_id: str, text: str, risk: float, **extra: object) -> dict:
    """One enqueue row with every label flagged at ``risk``."""
    row = {
        "id": post_id,
        "text": text,
        "source": "twitter",
        "author": "@akun<b>",
        "url": None,
        "created_at": None,
        "probabilities": dict.fromkeys(LABEL_KEYS, risk),
        "flags": dict.fromkeys(LABEL_KEYS, True),
        "thresholds": dict.fromkeys(LABEL_KEYS, 0.5),
        "risk": risk,
        "spans": [],
        "model_name": "tiny",
    }
    row.update(extra)
    return row


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)


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
    store.enqueue(eng, rows, model_version="v1", risk_threshold=0.5)
    yield eng
    eng.dispose()


@pytest.fixture
def app(engine: Engine) -> FastAPI:
    return create_app(engine, secret_key=SECRET, config=WebConfig(claim_batch=1))


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


def sign_in(app: FastAPI, username: str) -> TestClient:
    """A client signed in through the login form; ``client.csrf`` holds the page token."""
    client = TestClient(app, follow_redirects=False)
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"csrf_token": token, "username": username, "password": PASSWORD})
    assert response.status_code == 303, response.text
    client.csrf = csrf_from(client.get("/queue").text)  # type: ignore[attr-defined]
    return client


@pytest.fixture
def reviewer(app: FastAPI) -> TestClient:
    return sign_in(app, "rina")


@pytest.fixture
def lead(app: FastAPI) -> TestClient:
    return sign_in(app, "lia")


@pytest.fixture
def admin(app: FastAPI) -> TestClient:
    return sign_in(app, "adi")
