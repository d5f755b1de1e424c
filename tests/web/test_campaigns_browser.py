"""Headless Chromium: a lead opens a campaign from one of its items, decides the whole campaign in one
action, and every item then shows who decided it and how (issue 18 §2)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from test_accounts_campaigns_http import add_campaign
from support.browser import login  # the server, browser and page fixtures are in conftest.py

from pantau import queue

pytestmark = pytest.mark.browser


def test_a_campaign_decided_in_one_action(page: Any, server: str, engine: Engine) -> None:  # noqa: F811
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
