"""Headless Chromium (Debian's ``chromium``) against the real app under uvicorn: the shared set-up of the
browser tests. The fixtures built from these live in tests/web/conftest.py."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn

from support.web import PASSWORD

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free 127.0.0.1 port in a thread; yields the base URL."""
    port = free_port()
    srv = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@contextmanager
def launch_chromium() -> Iterator[Any]:
    """Debian's chromium, headless, under Playwright; fails (not skips) when it is not installed."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "Debian's chromium is not installed: apt-get install -y chromium chromium-driver (make browser)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def watched_page(context: Any) -> Any:
    """A new page in ``context`` whose problems are recorded in ``page.problems``: console errors (CSP
    refusals and failed loads too), uncaught exceptions, and dialogs (dismissed)."""
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    pg.problems = []
    pg.on(
        "console", lambda m: pg.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
    )
    pg.on("pageerror", lambda e: pg.problems.append(f"pageerror: {e}"))

    def on_dialog(dialog: Any) -> None:
        pg.problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    return pg


def new_page(browser: Any) -> Any:
    """A watched page in a fresh context of its own (close it with ``page.context.close()``)."""
    return watched_page(browser.new_context())


def login(page: Any, base: str, username: str, password: str = PASSWORD, start: str = "/queue") -> None:
    """Open ``start`` signed out, get sent to the login form, sign in and land back on ``start``."""
    page.goto(f"{base}{start}")
    assert "/login" in page.url  # no session → login
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{base}{start}")


def failed_load(status: int, reason: str) -> str:
    """How a page's failed load (an expected 4xx) is recorded in ``page.problems``."""
    return (
        f"console error: Failed to load resource: the server responded with a status of {status} ({reason})"
    )
