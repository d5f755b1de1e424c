"""Campaign case files, the desk report's top campaigns and the navigation, over HTTP: a lead downloads
a decided campaign's case file (JSON, PDF whose text is checked), a reviewer is refused, what the posts
lack is said in the file, and the nav bar links what the user's role may open."""

from __future__ import annotations

import csv
import hashlib
import io
import json

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from test_accounts_campaigns_http import PUSHED, add_campaign
from test_reports_http import pdf_text

from pantau.queue.campaigns_store import record_campaigns


def decide_campaign_form(lead: TestClient, cid: int, action: str = "takedown") -> None:
    form = {"csrf_token": lead.csrf, "label_incitement": "1", "pasal_280": "280_1_d",  # type: ignore[attr-defined]
            "note": "ajakan mengepung", "action": action, "confirmed": "1"}
    assert lead.post(f"/campaigns/{cid}/decide", data=form).status_code == 303


def test_a_lead_downloads_a_campaign_case_file(lead: TestClient, engine: Engine) -> None:
    cid = add_campaign(engine)
    assert lead.get(f"/lead/campaigns/{cid}/case.json").status_code == 409  # nothing decided yet
    page = lead.get(f"/campaigns/{cid}").text
    assert 'id="campaign-case"' in page and "campaign-case-pdf" not in page  # says: none yet
    decide_campaign_form(lead, cid)
    page = lead.get(f"/campaigns/{cid}").text
    assert f'href="/lead/campaigns/{cid}/case.pdf"' in page and f'href="/lead/campaigns/{cid}/case.json"' in page

    reply = lead.get(f"/lead/campaigns/{cid}/case.json")
    assert reply.status_code == 200
    assert reply.headers["content-disposition"] == f'attachment; filename="kasus-kampanye-{cid}.json"'
    case = json.loads(reply.content)
    assert case["campaign"]["shared_text"] == PUSHED and case["counts"] == {"takedown": 3}
    assert case["accounts"]["in_queue"] == ["@k0", "@k1", "@k2"]
    assert [p["post"]["sha256"] for p in case["posts"]] == [
        hashlib.sha256(p["post"]["text"].encode()).hexdigest() for p in case["posts"]
    ]

    reply = lead.get(f"/lead/campaigns/{cid}/case.pdf")
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/pdf"
    text = pdf_text(reply.content)
    flat = text.replace("\n", " ")
    for expected in (
        "Berkas kasus kampanye",
        "campaign case file",
        "run1-C000001",
        PUSHED,
        "<b>akun1</b>",  # a post's hostile markup, as text
        "@k1",
        case["posts"][0]["post"]["sha256"],
        "KELUARAN MODEL (MODEL OUTPUT)",
        "lia",
        "takedown",
        "huruf d",
        "ajakan mengepung",
        "Jejak keputusan",
    ):
        assert expected in flat or expected in text, expected


def test_a_reviewer_is_refused_the_campaign_case_file(reviewer: TestClient, lead: TestClient, engine: Engine) -> None:
    cid = add_campaign(engine)
    decide_campaign_form(lead, cid)
    for url in (f"/lead/campaigns/{cid}/case.pdf", f"/lead/campaigns/{cid}/case.json"):
        assert reviewer.get(url).status_code == 403, url
    assert 'id="campaign-case"' not in reviewer.get(f"/campaigns/{cid}").text
    assert lead.get("/lead/campaigns/999/case.json").status_code == 404


def test_missing_accounts_and_times_are_said_in_the_file(lead: TestClient, engine: Engine) -> None:
    # the fixture's posts have no posting time, and the campaign's index found no account
    cid = record_campaigns(engine, [{
        "key": "run2-C000001", "post_ids": ["top", "x-script"], "accounts": [], "posts_total": 2,
        "posts_without_account": 2, "posts_without_time": 2, "first_seen": None, "last_seen": None,
        "basis": "posts",
    }])["run2-C000001"]
    decide_campaign_form(lead, cid, "warn")
    text = pdf_text(lead.get(f"/lead/campaigns/{cid}/case.pdf").content).replace("\n", " ")
    assert "TIDAK TERSEDIA (NOT AVAILABLE)" in text
    assert "without a posting time" in text and "accounts are unknown" in text
    assert "tidak tersedia / not available" in text  # the posts' own posted-at cells
    assert "<script>window.__pwned = 'script'</script>" in text  # hostile text stays text


def test_the_desk_report_lists_top_campaigns(lead: TestClient, engine: Engine) -> None:
    cid = add_campaign(engine)
    decide_campaign_form(lead, cid)
    html = lead.get("/lead/report?period=week").text
    assert 'id="top-campaigns"' in html and f'href="/campaigns/{cid}"' in html
    assert f'<tr data-campaign="{cid}">' in html
    rows = list(csv.reader(io.StringIO(lead.get("/lead/report.csv?period=week").text)))
    assert ["top_campaigns_posts", str(cid), "3"] in rows and ["top_campaigns_accounts", str(cid), "3"] in rows
    assert ["top_campaigns_violations", str(cid), "3"] in rows
    text = pdf_text(lead.get("/lead/report.pdf?period=week").content)
    assert "Kampanye teratas" in text and "run1-C000001" in text


def test_the_report_says_when_no_campaign_came_up(lead: TestClient) -> None:
    html = lead.get("/lead/report").text
    assert "no campaign among this period" in html


def test_navigation_by_role(reviewer: TestClient, lead: TestClient, app: FastAPI) -> None:
    mine = reviewer.get("/queue").text
    assert 'href="/complaints"' in mine and 'href="/aduan"' in mine
    assert 'href="/lead/report"' not in mine
    theirs = lead.get("/queue").text
    assert 'href="/complaints"' in theirs and 'href="/lead/report"' in theirs and 'href="/aduan"' in theirs
    public = TestClient(app).get("/login").text
    assert 'href="/aduan"' in public and 'href="/complaints"' not in public
