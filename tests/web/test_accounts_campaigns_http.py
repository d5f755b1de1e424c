"""Account and campaign pages over HTTP (issue 18 §1–2): the account page (escaped, says what is missing),
the leads-only ranking, the campaign page (accounts, timeline, differences marked) and a lead deciding a
whole campaign in one form post — each item then shows who decided it and how."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from support.web import scored

from pantau import queue
from pantau.queue.campaigns_store import record_campaigns
from pantau.queue.models import AuditEvent, Item

PUSHED = "ayo kepung kantor mereka besok pagi jangan sampai lolos"


def add_campaign(engine: Engine) -> int:
    rows = [
        scored(f"k{i}", PUSHED + ("" if i == 0 else f" <b>akun{i}</b>"), 0.7, author=f"@k{i}",
               created_at=f"2024-02-01T0{i}:00:00Z")
        for i in range(3)
    ]
    queue.enqueue(engine, rows, model_version="v1", risk_threshold=0.5)
    ids = record_campaigns(engine, [{
        "key": "run1-C000001", "post_ids": ["k0", "k1", "k2"], "accounts": ["@k0", "@k1", "@k2"], "posts_total": 3,
        "posts_without_account": 0, "posts_without_time": 0, "first_seen": datetime(2024, 2, 1),
        "last_seen": datetime(2024, 2, 1, 2), "basis": "accounts",
    }])
    return ids["run1-C000001"]


def test_account_page_and_ranking(engine: Engine, reviewer: TestClient, lead: TestClient) -> None:
    page = reviewer.get("/accounts/%3Cscript%3Ealert('author')%3C%2Fscript%3E")
    assert page.status_code == 200
    assert "<script>alert('author')" not in page.text and "&lt;script&gt;" in page.text
    assert "posting times unknown" in page.text  # the fixture's posts have no created_at: said so
    assert reviewer.get("/lead/accounts").status_code == 403
    ranking = lead.get("/lead/accounts?days=0")
    assert ranking.status_code == 200 and "accounts-ranking" in ranking.text


def test_campaign_page_and_decision_in_one_action(engine: Engine, reviewer: TestClient, lead: TestClient) -> None:
    cid = add_campaign(engine)
    with engine.connect() as conn:
        item_ids = conn.execute(select(Item.id).where(Item.campaign_id == cid).order_by(Item.id)).scalars().all()
    page = reviewer.get(f"/campaigns/{cid}")
    assert page.status_code == 200
    assert "@k1" in page.text and "campaign-timeline" in page.text and "<svg" in page.text
    assert "<ins>&lt;b&gt;akun1&lt;/b&gt;</ins>" in page.text  # the difference, marked and escaped
    assert "campaign-decide" not in page.text  # reviewers see no campaign decision form
    item_page = reviewer.get(f"/items/{item_ids[0]}")
    assert f'href="/campaigns/{cid}"' in item_page.text  # the item links to its campaign
    form = {"csrf_token": lead.csrf, "label_incitement": "1", "action": "warn", "confirmed": "1"}  # type: ignore[attr-defined]
    refused = reviewer.post(f"/campaigns/{cid}/decide", data={**form, "csrf_token": reviewer.csrf})  # type: ignore[attr-defined]
    assert refused.status_code == 403
    done = lead.post(f"/campaigns/{cid}/decide", data=form)
    assert done.status_code == 303, done.text
    with engine.connect() as conn:
        statuses = conn.execute(select(Item.status).where(Item.id.in_(item_ids))).scalars().all()
        events = conn.execute(select(AuditEvent.item_id).where(AuditEvent.event == "campaign")).scalars().all()
    assert statuses == ["decided"] * 3 and sorted(events) == item_ids
    after = lead.get(f"/campaigns/{cid}").text
    assert after.count("lia · warn (campaign)") == 3
    assert lead.get(f"/items/{item_ids[1]}").status_code == 200


def test_campaign_decision_needs_confirmation_and_a_real_campaign(engine: Engine, lead: TestClient) -> None:
    cid = add_campaign(engine)
    form = {"csrf_token": lead.csrf, "label_incitement": "1", "action": "warn"}  # type: ignore[attr-defined]
    assert lead.post(f"/campaigns/{cid}/decide", data=form).status_code in (400, 422)
    assert lead.get("/campaigns/999").status_code == 404
