"""Headless Chromium: a lead opens a campaign from one of its items, decides the whole campaign in one
action, and every item then shows who decided it and how (issue 18 §2); the decided campaign's case file
is downloaded from its page and the PDF's text checked (§4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from support.browser import login  # the server, browser and page fixtures are in conftest.py
from test_accounts_campaigns_http import add_campaign
from test_reports_http import pdf_text

from pantau import queue

pytestmark = pytest.mark.browser


def test_a_campaign_decided_in_one_action(page: Any, server: str, engine: Engine) -> None:
    cid = add_campaign(engine)
    items = [i for i in queue.list_items(engine, limit=100)[0] if i.post_id.startswith("k")]
    login(page, server, "lia")
    page.goto(f"{server}/items/{items[0].id}")
    page.click("#campaign-link")
    page.wait_for_url(f"{server}/campaigns/{cid}")
    assert page.locator("#campaign-items tr[data-item]").count() == 3
    assert page.locator("#campaign-timeline svg").count() == 1
    assert page.locator("#campaign-items ins").count() >= 2  # the other posts' differences, marked
    page.check('#campaign-decide input[name="label_incitement"]')
    page.check("#campaign-confirm")
    page.click('#campaign-decide button[value="takedown"]')
    page.wait_for_url(f"{server}/campaigns/{cid}")
    assert "3 item diputus" in page.inner_text(".flash")
    cells = page.locator("#campaign-items td.decided-by").all_inner_texts()
    assert cells == ["lia · takedown (campaign)"] * 3
    assert page.locator("#campaign-decide").count() == 0  # nothing left open
    for it in items:
        [decision] = queue.item_decisions(engine, it.id)
        assert decision.reviewer == "lia" and decision.action == "takedown" and decision.kind == "campaign"
        assert decision.labels["incitement"] is True
    assert page.problems == []


def test_a_decided_campaign_s_case_file_downloaded(page: Any, server: str, engine: Engine, tmp_path: Path) -> None:
    cid = add_campaign(engine)
    login(page, server, "lia")
    page.goto(f"{server}/campaigns/{cid}")
    assert page.locator("#campaign-case-pdf").count() == 0  # nothing decided yet: no case file
    page.check('#campaign-decide input[name="label_incitement"]')
    page.check('#campaign-decide input[value="280_1_d"]')
    page.fill('#campaign-decide textarea[name="note"]', "ajakan mengepung kantor")
    page.check("#campaign-confirm")
    page.click('#campaign-decide button[value="takedown"]')  # one action decides all three posts
    page.wait_for_url(f"{server}/campaigns/{cid}")
    assert "3 item diputus" in page.inner_text(".flash")
    with page.expect_download() as info:
        page.click("#campaign-case-pdf")
    download = info.value
    assert download.suggested_filename == f"kasus-kampanye-{cid}.pdf"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    text = pdf_text(target.read_bytes())
    flat = text.replace("\n", " ")
    assert "Berkas kasus kampanye" in flat and "run1-C000001" in flat
    assert "ayo kepung kantor mereka besok pagi jangan sampai lolos" in flat
    for account in ("@k0", "@k1", "@k2"):
        assert account in flat
    assert "KELUARAN MODEL (MODEL OUTPUT)" in flat and "huruf d" in flat and "ajakan mengepung kantor" in flat
    assert flat.count("· lia · ") == 3 and flat.count("campaign → takedown") == 3  # each post: who, how
    assert page.problems == []
