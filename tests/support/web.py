"""Constants and helpers shared by the web tests (a plain module: importing from conftest is fragile)."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from pantau.labels import LABEL_KEYS

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
