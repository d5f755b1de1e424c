"""The public complaint desk in real headless Chromium, the whole path: a complaint filed on /aduan →
scored by the app's model → at the top of the queue → claimed and decided by a reviewer → its outcome
visible by the tracking code (and nobody's name); the lead sees the reporter's contact."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import Engine
from support.web import PASSWORD, SECRET
from test_complaints_http import keyword_model

from pantau import queue
from pantau.queue.complaints import ComplaintPolicy
from pantau.web.app import WebConfig, create_app

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(engine: Engine, tmp_path: Path) -> Iterator[str]:
    """The app with a keyword model for complaints, under uvicorn on a free port; yields the base URL."""
    port = _free_port()
    config = WebConfig(
        claim_batch=1,
        complaints=ComplaintPolicy(double_review_risk=1.0),  # one reviewer decides it
        complaint_model=str(keyword_model(tmp_path / "model")),
    )
    app = create_app(engine, secret_key=SECRET, config=config)
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
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: make browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def new_page(browser: Any) -> Any:
    ctx = browser.new_context()
    pg = ctx.new_page()
    pg.set_default_timeout(15_000)
    pg.problems = []  # console errors (CSP refusals too), uncaught exceptions, dialogs
    pg.on(
        "console", lambda m: pg.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
    )
    pg.on("pageerror", lambda e: pg.problems.append(f"pageerror: {e}"))
    pg.on("dialog", lambda d: (pg.problems.append(f"dialog: {d.message}"), d.dismiss()))
    return pg


def test_a_complaint_from_filing_to_its_outcome(browser: Any, server: str, engine: Engine) -> None:
    public = new_page(browser)
    public.goto(f"{server}/aduan")
    assert public.locator("#unscored-notice").count() == 0  # a model is configured
    hostile = "<script>window.__pwned=1</script> usir mereka dari kampung ini"
    public.fill("input[name=url]", "https://twitter.com/akun/status/42?s=20")
    public.fill("textarea[name=text]", hostile)
    public.check('input[name=labels][value="incitement"]')
    public.fill("input[name=contact]", "wa 0812-1111")
    public.click("#complaint-submit")
    public.wait_for_url(f"{server}/aduan/*")
    code = public.inner_text("#tracking-code")
    assert len(code) == 22 and public.url == f"{server}/aduan/{code}?baru=1"
    assert public.get_attribute("#complaint-state", "data-state") == "received"
    assert public.evaluate("window.__pwned") is None

    # a second person reports the same post by another spelling of its link: merged, counted
    other = new_page(browser)
    other.goto(f"{server}/aduan")
    other.fill("input[name=url]", "https://x.com/akun/status/42")
    other.check('input[name=labels][value="abusive"]')
    other.click("#complaint-submit")
    other.wait_for_url(f"{server}/aduan/*")
    assert "digabung" in other.inner_text("#filed")

    # scored and queued with source=complaint, at the top of the queue
    top = queue.list_items(engine)[0][0]
    assert top.source == "complaint" and top.model_version == "kw-1" and top.flags["incitement"]

    reviewer = new_page(browser)
    reviewer.goto(f"{server}/queue")
    reviewer.fill("input[name=username]", "rina")
    reviewer.fill("input[name=password]", PASSWORD)
    reviewer.click("form.login button[type=submit]")
    reviewer.wait_for_url(f"{server}/queue")
    assert reviewer.locator(f'#queue-table tr[data-item="{top.id}"]').count() == 1
    reviewer.goto(f"{server}/complaints")
    row = reviewer.locator(f'tr.complaint-row[data-item="{top.id}"]')
    assert row.count() == 1 and "0812" not in reviewer.content()  # contacts are for leads
    reviewer.goto(f"{server}/queue")
    reviewer.keyboard.press("c")  # claim next: the complaint
    reviewer.wait_for_url(f"{server}/items/{top.id}")
    public.reload()
    assert public.get_attribute("#complaint-state", "data-state") == "in_review"
    reviewer.keyboard.press("4")  # incitement
    reviewer.keyboard.press("w")  # warn
    reviewer.wait_for_url(f"{server}/queue")
    assert queue.get_item(engine, top.id).status == "decided"

    public.goto(f"{server}/aduan/{code}")
    assert public.get_attribute("#complaint-state", "data-state") == "decided"
    assert public.get_attribute("#complaint-outcome", "data-outcome") == "warn"
    assert "rina" not in public.content()
    # the lookup box finds it again
    public.goto(f"{server}/aduan")
    public.fill("input[name=kode]", code)
    public.click("form.lookup button[type=submit]")
    public.wait_for_url(f"{server}/aduan/{code}")
    assert public.get_attribute("#complaint-state", "data-state") == "decided"

    lead = new_page(browser)
    lead.goto(f"{server}/complaints")
    lead.fill("input[name=username]", "lia")
    lead.fill("input[name=password]", PASSWORD)
    lead.click("form.login button[type=submit]")
    lead.wait_for_url(f"{server}/complaints")
    lead.click(f'tr.complaint-row[data-item="{top.id}"] + tr summary')
    assert "wa 0812-1111" in lead.inner_text(f'tr.complaint-row[data-item="{top.id}"] + tr')
    for pg in (public, other, reviewer, lead):
        assert pg.problems == []
        pg.context.close()
