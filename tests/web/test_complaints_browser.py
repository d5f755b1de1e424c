"""The public complaint desk in real headless Chromium, the whole path: a complaint filed on /aduan →
scored by the app's model → at the top of the queue → claimed and decided by a reviewer → its outcome
visible by the tracking code (and nobody's name); the lead sees the reporter's contact."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from support.browser import login, new_page, serve_app
from support.web import SECRET
from test_complaints_http import keyword_model

from pantau import queue
from pantau.queue.complaints import ComplaintPolicy
from pantau.web.app import WebConfig, create_app

pytestmark = pytest.mark.browser


@pytest.fixture
def server(engine: Engine, tmp_path: Path) -> Iterator[str]:
    """The app with a keyword model for complaints, under uvicorn on a free port; yields the base URL."""
    config = WebConfig(
        claim_batch=1,
        complaints=ComplaintPolicy(double_review_risk=1.0),  # one reviewer decides it
        complaint_model=str(keyword_model(tmp_path / "model")),
    )
    with serve_app(create_app(engine, secret_key=SECRET, config=config)) as base:
        yield base


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
    login(reviewer, server, "rina")
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
    login(lead, server, "lia", start="/complaints")
    lead.click(f'tr.complaint-row[data-item="{top.id}"] + tr summary')
    assert "wa 0812-1111" in lead.inner_text(f'tr.complaint-row[data-item="{top.id}"] + tr')
    for pg in (public, other, reviewer, lead):
        assert pg.problems == []
        pg.context.close()


def test_a_report_of_a_batch_post_is_linked_to_it(browser: Any, server: str, engine: Engine) -> None:
    """The conftest's batch post "top" (https://example.org/p/1) reported by another spelling of its
    link: the reporter tracks that item, reviewers see the count on it, the lead its case file."""
    from pantau.labels import LABEL_KEYS
    from pantau.queue import DecisionIn
    from pantau.queue.users import find_user

    [top] = [i for i in queue.list_items(engine)[0] if i.post_id == "top"]
    public = new_page(browser)
    public.goto(f"{server}/aduan")
    public.fill("input[name=url]", "https://www.example.org/p/1/?utm_source=wa")
    public.check('input[name=labels][value="incitement"]')
    public.click("#complaint-submit")
    public.wait_for_url(f"{server}/aduan/*")
    assert public.get_attribute("#complaint-state", "data-state") == "received"
    assert all(i.source != "complaint" for i in queue.list_items(engine)[0])  # no second item

    reviewer = new_page(browser)
    login(reviewer, server, "rina", start=f"/items/{top.id}")
    assert "Dilaporkan publik 1 kali" in reviewer.inner_text("#public-reports")
    reviewer.click("#public-reports a")
    reviewer.wait_for_url(f"{server}/complaints?item={top.id}*")
    assert reviewer.get_attribute(f'tr.complaint-row[data-item="{top.id}"]', "data-linked") == "1"

    rina = find_user(engine, "rina")
    assert rina is not None
    queue.claim_item(engine, rina.id, top.id)
    labels = {k: k == "incitement" for k in LABEL_KEYS}
    queue.decide(engine, rina.id, top.id, DecisionIn(labels=labels, action="takedown", confirmed=True))
    public.reload()
    assert public.get_attribute("#complaint-state", "data-state") == "decided"
    assert public.get_attribute("#complaint-outcome", "data-outcome") == "takedown"

    lead = new_page(browser)
    login(lead, server, "lia", start=f"/items/{top.id}")
    assert lead.get_attribute("#item-case-pdf", "href") == f"/lead/items/{top.id}/case.pdf"
    for pg in (public, reviewer, lead):
        assert pg.problems == []
        pg.context.close()
