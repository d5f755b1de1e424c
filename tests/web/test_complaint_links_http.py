"""Over HTTP: a public report of a post batch scoring queued is linked to its item (not queued twice,
not rescored), the item page says how often the public reported it, the reporter's code shows the
reviewers' decision on that item, and a lead finds the item's case file on its page."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from support.web import sign_in
from test_complaints_http import code_from, file_form, keyword_model, make_app, public
from test_reports_http import pdf_text

from pantau import queue
from pantau.labels import LABEL_KEYS
from pantau.queue import DecisionIn
from pantau.queue.models import Complaint, Item
from pantau.queue.users import find_user

# the conftest's batch post "top" is at https://example.org/p/1; this is the same post spelt otherwise
TOP_LINK = "http://www.Example.org/p/1/?utm_source=wa#atas"


def item_id(engine: Engine, post_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(Item.id).where(Item.post_id == post_id)).scalar_one()


def decide(engine: Engine, item: int, action: str) -> None:
    rina = find_user(engine, "rina")
    assert rina is not None
    queue.claim_item(engine, rina.id, item)
    labels = {k: action != "no_violation" and k == "incitement" for k in LABEL_KEYS}
    queue.decide(engine, rina.id, item, DecisionIn(labels=labels, action=action, confirmed=True))


def test_a_report_of_a_batch_post_is_linked_and_tracked_to_its_decision(
    engine: Engine, tmp_path: Path
) -> None:
    app = make_app(engine, keyword_model(tmp_path / "model"), double_review_risk=1.0)
    top = item_id(engine, "top")
    with engine.connect() as conn:
        items_before = conn.execute(select(func.count()).select_from(Item)).scalar_one()
    client = public(app)
    code = code_from(
        file_form(client, url=TOP_LINK, text="usir kadrun", labels=["incitement"]).headers["location"]
    )
    again = TestClient(app).post(
        "/api/v1/complaints", json={"url": "https://example.org/p/1", "labels": ["abusive"]}
    )
    assert again.status_code == 201 and again.json()["merged"] and again.json()["scored"]
    with engine.connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(Item)).scalar_one() == items_before
        )  # no new item
        assert conn.execute(select(Complaint.item_id, Complaint.reports)).one() == (top, 2)
    assert app.state.complaint_scorer._classifier is None  # batch scoring's scores stand: the model never ran
    assert 'data-state="received"' in client.get(f"/aduan/{code}").text

    reviewer = sign_in(app, "rina")
    page = reviewer.get(f"/items/{top}").text
    assert 'id="public-reports"' in page and "Dilaporkan publik 2 kali" in page
    assert "reported by the public 2 times" in page and f'href="/complaints?item={top}#complaint-' in page
    listed = reviewer.get(f"/complaints?item={top}").text
    assert 'data-linked="1"' in listed and "linked to a batch-scored post" in listed
    assert listed.count('class="complaint-row"') == 1 and 'id="complaints-only-item"' in listed
    assert "item-case-pdf" not in page  # a reviewer: no case file, and it is not decided anyway

    decide(engine, top, "takedown")
    status = client.get(f"/aduan/{code}").text
    assert 'data-state="decided"' in status and 'data-outcome="takedown"' in status and "rina" not in status


def test_an_unrelated_or_unlinked_item_says_nothing_about_reports(
    engine: Engine, reviewer: TestClient
) -> None:
    page = reviewer.get(f"/items/{item_id(engine, 'top')}").text
    assert 'id="public-reports"' not in page
    assert reviewer.get("/complaints?item=0").status_code in (400, 404, 422)  # ids start at 1


def test_the_item_page_links_its_case_file_for_leads_once_decided(
    engine: Engine, app: FastAPI, lead: TestClient, reviewer: TestClient
) -> None:
    top, other = item_id(engine, "top"), item_id(engine, "x-script")
    assert 'id="item-case"' not in lead.get(f"/items/{top}").text  # pending: no case yet
    decide(engine, top, "warn")
    decide(engine, other, "no_violation")
    page = lead.get(f"/items/{top}").text
    assert f'href="/lead/items/{top}/case.pdf"' in page and f'href="/lead/items/{top}/case.json"' in page
    assert 'id="item-case"' not in lead.get(f"/items/{other}").text  # no violation: no case file
    assert 'id="item-case"' not in reviewer.get(f"/items/{top}").text  # leads only
    pdf = lead.get(f"/lead/items/{top}/case.pdf")
    assert pdf.status_code == 200 and "usir kadrun dari kampung ini" in pdf_text(pdf.content)
    case = json.loads(lead.get(f"/lead/items/{top}/case.json").content)
    assert case["format"] == "pantau.case_file"
